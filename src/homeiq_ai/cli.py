"""The `homeiq-ai` command: serve, db, version, config."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from homeiq_ai import __version__
from homeiq_ai.bootstrap import boot, default_port, load_settings_or_exit, serve


def _cmd_serve(args: argparse.Namespace) -> int:
    from homeiq_ai.app import resolve_modules

    settings = load_settings_or_exit()
    try:
        modules = resolve_modules(args.modules)
    except ValueError as exc:
        print(f"homeiq-ai: --modules: {exc}", file=sys.stderr)
        return 2
    if args.upgrade_db:
        from homeiq_ai.kernel.migrate import upgrade

        upgrade(settings.database_url)
    app = boot(modules, settings)
    host = args.host or settings.host
    port = args.port or default_port(modules, settings)
    print(
        f"homeiq-ai {__version__}: modules {', '.join(modules)} on http://{host}:{port} "
        f"(API docs: http://{host}:{port}/schema/swagger, health: http://{host}:{port}/health/ready)",
        file=sys.stderr,
        flush=True,
    )
    serve(app, host, port, settings.log_level)
    return 0


def _cmd_db(args: argparse.Namespace) -> int:
    import asyncio

    from homeiq_ai.kernel import migrate
    from homeiq_ai.kernel.db import Database

    settings = load_settings_or_exit()
    url = settings.database_url
    if args.db_command == "upgrade":
        migrate.upgrade(url, args.revision)
        print(f"database at {args.revision}", file=sys.stderr)
        return 0
    if args.db_command == "downgrade":
        migrate.downgrade(url, args.revision)
        print(f"database at {args.revision}", file=sys.stderr)
        return 0

    async def _current() -> str | None:
        db = Database(url)
        try:
            return await db.schema_revision()
        finally:
            await db.dispose()

    current = asyncio.run(_current())
    head = migrate.head_revision()
    print(f"current: {current or '(none)'}\nhead: {head}")
    if args.db_command == "check" and current != head:
        print("the database is behind head: run `homeiq-ai db upgrade`", file=sys.stderr)
        return 1
    return 0


def _cmd_openapi(args: argparse.Namespace) -> int:
    import json

    from homeiq_ai.app import create_app
    from homeiq_ai.settings import load_settings

    # The schema depends on the routes only; an in-memory database keeps this free of side effects.
    settings = load_settings({"DATABASE_URL": "sqlite+aiosqlite:///:memory:", "SCHEDULER_ENABLED": "false"})
    schema = create_app(settings, args.modules).openapi_schema.to_schema()
    text = json.dumps(schema, indent=2, sort_keys=True) + "\n"
    if args.output:
        with open(args.output, "w", encoding="utf-8") as fh:
            fh.write(text)
    else:
        sys.stdout.write(text)
    return 0


def _cmd_config(_args: argparse.Namespace) -> int:
    settings = load_settings_or_exit()
    print(repr(settings))
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the `homeiq-ai` command."""
    parser = argparse.ArgumentParser(prog="homeiq-ai", description=__doc__)
    parser.add_argument("--version", action="version", version=f"homeiq-ai {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p_serve = sub.add_parser("serve", help="serve the API for some or all modules")
    p_serve.add_argument(
        "--modules", default="all", help="comma-separated: training,pattern,query,automation or all"
    )
    p_serve.add_argument("--host", default=None, help="bind address (default HOST or 127.0.0.1)")
    p_serve.add_argument(
        "--port", type=int, default=None, help="port (default PORT, a module's own, or 8000)"
    )
    p_serve.add_argument(
        "--upgrade-db", action="store_true", help="run the migrations to head before serving"
    )
    p_serve.set_defaults(func=_cmd_serve)

    p_db = sub.add_parser("db", help="database schema (Alembic)")
    db_sub = p_db.add_subparsers(dest="db_command", required=True)
    p_up = db_sub.add_parser("upgrade", help="upgrade to a revision (default head)")
    p_up.add_argument("revision", nargs="?", default="head")
    p_down = db_sub.add_parser("downgrade", help="downgrade to a revision (base removes every table)")
    p_down.add_argument("revision")
    db_sub.add_parser("current", help="print the current and head revisions")
    db_sub.add_parser("check", help="exit 1 when the database is behind head")
    p_db.set_defaults(func=_cmd_db)

    p_openapi = sub.add_parser("openapi", help="print the OpenAPI schema (docs/openapi.json is this output)")
    p_openapi.add_argument("--modules", default="all")
    p_openapi.add_argument("--output", "-o", default=None, help="write to a file instead of stdout")
    p_openapi.set_defaults(func=_cmd_openapi)

    p_config = sub.add_parser("config", help="print the effective settings (secrets masked)")
    p_config.set_defaults(func=_cmd_config)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)
