"""The `homeiq-ai` command: serve, db, sync, import, export, demo, synthetic, training-pairs, openapi, config."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import datetime
from typing import IO

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


def _cmd_sync(args: argparse.Namespace) -> int:
    import asyncio
    from dataclasses import fields
    from datetime import timedelta

    from homeiq_ai.kernel.db import Database
    from homeiq_ai.kernel.errors import HomeIQError
    from homeiq_ai.kernel.homedata.source import HomeDataUnavailableError
    from homeiq_ai.kernel.homedata.sync import run_sync_once
    from homeiq_ai.kernel.logs import configure_logging
    from homeiq_ai.settings import Secret

    settings = load_settings_or_exit()
    if not settings.ha_url or settings.ha_token is None:
        print("homeiq-ai sync: Home Assistant is not configured: set HA_URL and HA_TOKEN", file=sys.stderr)
        return 1
    secrets = [v.get() for v in (getattr(settings, f.name) for f in fields(settings)) if isinstance(v, Secret)]
    configure_logging("INFO" if args.verbose else "WARNING", secrets)

    async def _run() -> object:
        db = Database(settings.database_url)
        try:
            return await run_sync_once(
                settings,
                db,
                initial_span=timedelta(days=args.initial_days),
                window=timedelta(hours=args.window_hours),
            )
        finally:
            await db.dispose()

    try:
        result = asyncio.run(_run())
    except (HomeDataUnavailableError, HomeIQError) as exc:
        print(f"homeiq-ai sync: {getattr(exc, 'message', None) or exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # e.g. the database is behind head; one clear line instead of a trace
        return _store_failed("sync", exc)
    if args.json:
        import msgspec

        print(msgspec.json.encode(result).decode())
    else:
        print(result.summary())  # type: ignore[attr-defined]
    return 0


def _cmd_import(args: argparse.Namespace) -> int:
    import asyncio

    from homeiq_ai.kernel.db import Database
    from homeiq_ai.kernel.homedata.io import ImportProgress, LineError, import_events
    from homeiq_ai.kernel.homedata.store import HomeStore

    settings = load_settings_or_exit()

    def show(progress: ImportProgress) -> None:
        print(f"homeiq-ai import: {progress.line()}", file=sys.stderr, flush=True)

    async def _run() -> None:
        db = Database(settings.database_url)
        try:
            await import_events(HomeStore(db), args.file, fmt=args.format, registry_path=args.entities, progress=show)
        finally:
            await db.dispose()

    try:
        asyncio.run(_run())
    except LineError as exc:
        where = f"{args.entities}: {exc.reason}" if exc.where == "registry" else f"{args.file}: {exc}"
        print(f"homeiq-ai import: {where}; nothing was imported", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"homeiq-ai import: {exc.filename or args.file}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # e.g. the database is behind head; one clear line instead of a trace
        return _store_failed("import", exc)
    return 0


def _store_failed(command: str, exc: Exception) -> int:
    first = str(exc).splitlines()[0] if str(exc) else ""
    print(f"homeiq-ai {command}: failed: {type(exc).__name__}: {first}", file=sys.stderr)
    if "no such table" in first or "does not exist" in first:
        print(f"homeiq-ai {command}: run `homeiq-ai db upgrade` first", file=sys.stderr)
    return 1


def _aware_time(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} has no UTC offset (e.g. 2026-01-01T00:00:00+00:00)")
    return value


def _cmd_export(args: argparse.Namespace) -> int:
    import asyncio

    from homeiq_ai.kernel.db import Database
    from homeiq_ai.kernel.homedata.io import export_events
    from homeiq_ai.kernel.homedata.store import HomeStore

    settings = load_settings_or_exit()

    async def _run(out: IO[bytes]) -> int:
        db = Database(settings.database_url)
        try:
            return await export_events(HomeStore(db), out, start=args.start, end=args.end, entity_ids=args.entity)
        finally:
            await db.dispose()

    try:
        if args.file == "-":
            count = asyncio.run(_run(sys.stdout.buffer))
            sys.stdout.flush()
        else:
            with open(args.file, "wb") as fh:
                count = asyncio.run(_run(fh))
    except OSError as exc:
        print(f"homeiq-ai export: {exc.filename or args.file}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    except Exception as exc:
        return _store_failed("export", exc)
    print(f"homeiq-ai export: {count:,} events written to {args.file}", file=sys.stderr)
    return 0


HOME_TYPES = ("studio", "apartment", "townhouse", "bungalow", "single_family", "multi_storey")


def _cmd_demo(args: argparse.Namespace) -> int:
    import asyncio
    from datetime import date, timedelta

    from homeiq_ai.kernel import migrate
    from homeiq_ai.kernel.db import Database
    from homeiq_ai.kernel.homedata.store import HomeStore
    from homeiq_ai.training.api import SyntheticHomeRequest
    from homeiq_ai.training.service import SyntheticHomeService

    settings = load_settings_or_exit()
    # Without a home of its own (HOME_TIME_ZONE unset) the demo home is in Berlin.
    own_zone = settings.home_time_zone != "UTC"
    request = SyntheticHomeRequest(
        seed=args.seed,
        home_type=args.home_type,
        days=args.days,
        start=date.today() - timedelta(days=args.days),
        time_zone=settings.home_time_zone if own_zone else None,
        latitude=settings.home_latitude if own_zone else None,
        longitude=settings.home_longitude if own_zone else None,
        load=True,
    )

    async def _run() -> int:
        db = Database(settings.database_url)
        try:
            stored = await HomeStore(db).count_events()
            if stored and not args.force:
                print(
                    f"homeiq-ai demo: the database already holds {stored:,} events; the demo home was not "
                    "loaded (--force loads it beside them)",
                    file=sys.stderr,
                )
                return 0
            home = await SyntheticHomeService(db, settings.data_dir).create(request)
        finally:
            await db.dispose()
        print(
            f"homeiq-ai demo: loaded a synthetic {home.home_type.replace('_', ' ')} home (seed {home.seed}) in "
            f"{home.time_zone}: {home.areas} areas, {home.entities} entities, {home.inserted:,} events over "
            f"{home.days} days from {home.start}; its ground truth is in {home.path}",
            file=sys.stderr,
        )
        return 0

    try:
        migrate.upgrade(settings.database_url)
        return asyncio.run(_run())
    except ValueError as exc:  # the generator's word on an unknown time zone without a location
        print(f"homeiq-ai demo: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:
        return _store_failed("demo", exc)


def _cmd_synthetic(args: argparse.Namespace) -> int:
    from datetime import date

    from homeiq_ai.training.synthetic.generator import generate_home
    from homeiq_ai.training.synthetic.io import write_home

    try:
        home = generate_home(
            seed=args.seed,
            home_type=args.home_type,
            days=args.days,
            start=date.fromisoformat(args.start) if args.start else None,
            entity_target=args.entities,
            time_zone=args.time_zone,
        )
    except ValueError as exc:
        print(f"homeiq-ai synthetic: {exc}", file=sys.stderr)
        return 2
    paths = write_home(args.directory, home)
    print(
        f"homeiq-ai synthetic: {len(home.spec.entities)} entities, {len(home.events):,} events over "
        f"{home.spec.days} days; wrote {', '.join(str(p) for p in paths.values())}",
        file=sys.stderr,
    )
    return 0


def _cmd_training_pairs(args: argparse.Namespace) -> int:
    import asyncio
    import json
    from pathlib import Path

    from homeiq_ai.kernel.db import Database
    from homeiq_ai.query.pairs import answered_pairs, labelled_pairs

    settings = load_settings_or_exit()

    async def _answered() -> list[dict[str, object]]:
        db = Database(settings.database_url)
        try:
            return await answered_pairs(db)
        finally:
            await db.dispose()

    try:
        rows = [] if args.no_queries else asyncio.run(_answered())
        answered = len(rows)
        for path in args.labelled or []:
            rows.extend(labelled_pairs(Path(path)))
    except OSError as exc:
        print(f"homeiq-ai training-pairs: {exc.filename}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    except ValueError as exc:
        print(f"homeiq-ai training-pairs: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:
        return _store_failed("training-pairs", exc)
    text = "".join(json.dumps(row, sort_keys=True) + "\n" for row in rows)
    try:
        Path(args.file).write_text(text)
    except OSError as exc:
        print(f"homeiq-ai training-pairs: {args.file}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    print(
        f"homeiq-ai training-pairs: {len(rows)} pairs ({answered} answered queries, "
        f"{len(rows) - answered} labelled) written to {args.file}; set SOFT_PROMPT_DATASET={args.file}",
        file=sys.stderr,
    )
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
    p_serve.add_argument("--modules", default="all", help="comma-separated: training,pattern,query,automation or all")
    p_serve.add_argument("--host", default=None, help="bind address (default HOST or 127.0.0.1)")
    p_serve.add_argument("--port", type=int, default=None, help="port (default PORT, a module's own, or 8000)")
    p_serve.add_argument("--upgrade-db", action="store_true", help="run the migrations to head before serving")
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

    p_sync = sub.add_parser(
        "sync", help="copy new Home Assistant history and registries into the local store (HA_URL, HA_TOKEN)"
    )
    p_sync.add_argument(
        "--initial-days", type=float, default=10, help="how far back the first sync reaches (default 10)"
    )
    p_sync.add_argument(
        "--window-hours",
        type=float,
        default=24.0,
        help="history fetched per Home Assistant call (default 24)",
    )
    p_sync.add_argument("--json", action="store_true", help="print the result as JSON")
    p_sync.add_argument("--verbose", "-v", action="store_true", help="log each window")
    p_sync.set_defaults(func=_cmd_sync)

    p_import = sub.add_parser(
        "import",
        help="import state changes (JSON Lines or Home Assistant history JSON) into the local store",
        description="Import state changes into the local store. Every line is checked before anything is "
        "written: the first bad line aborts the import (exit 1, `line N: reason`) and nothing is stored. "
        "Events already stored (same entity and time) are skipped and counted as duplicates.",
    )
    p_import.add_argument(
        "file",
        help="EVENTS.jsonl (one {entity_id, old_state, new_state, time[, attributes, context_id]} a line) "
        "or HISTORY.json (Home Assistant's /api/history/period answer)",
    )
    p_import.add_argument(
        "--entities", metavar="REGISTRY.json", default=None, help='{"areas": [...], "entities": [...]} to register'
    )
    p_import.add_argument(
        "--format", choices=("auto", "jsonl", "ha-history"), default="auto", help="default: from the first character"
    )
    p_import.set_defaults(func=_cmd_import)

    p_export = sub.add_parser("export", help="write stored state changes as JSON Lines (the import format)")
    p_export.add_argument("file", help="EVENTS.jsonl, or - for stdout")
    p_export.add_argument("--start", type=_aware_time, default=None, help="from this time (ISO-8601 with offset)")
    p_export.add_argument("--end", type=_aware_time, default=None, help="before this time (ISO-8601 with offset)")
    p_export.add_argument(
        "--entity", action="append", default=None, metavar="ENTITY_ID", help="only this entity (repeatable)"
    )
    p_export.set_defaults(func=_cmd_export)

    p_demo = sub.add_parser("demo", help="load a synthetic demo home (areas, entities, events) into the database")
    p_demo.add_argument("--seed", type=int, default=42)
    p_demo.add_argument("--home-type", choices=HOME_TYPES, default="single_family")
    p_demo.add_argument("--days", type=int, default=30, choices=range(1, 366), metavar="DAYS (1-365)")
    p_demo.add_argument("--force", action="store_true", help="load even when the database already holds events")
    p_demo.set_defaults(func=_cmd_demo)

    p_syn = sub.add_parser("synthetic", help="write a synthetic home (events, registry, ground truth) to a folder")
    p_syn.add_argument("directory")
    p_syn.add_argument("--seed", type=int, default=42)
    p_syn.add_argument("--home-type", choices=HOME_TYPES, default="single_family")
    p_syn.add_argument("--days", type=int, default=30, choices=range(1, 731), metavar="DAYS (1-730)")
    p_syn.add_argument("--start", default=None, help="first day, YYYY-MM-DD (default 2026-01-05)")
    p_syn.add_argument("--entities", type=int, default=None, help="about how many entities")
    p_syn.add_argument("--time-zone", default="Europe/Berlin")
    p_syn.set_defaults(func=_cmd_synthetic)

    p_pairs = sub.add_parser(
        "training-pairs",
        help="write answered queries (and labelled sets) as soft-prompt training pairs (SOFT_PROMPT_DATASET)",
    )
    p_pairs.add_argument("file", help="PAIRS.jsonl to write ({request, plan, source} a line)")
    p_pairs.add_argument(
        "--labelled", action="append", metavar="LABELLED.jsonl", help="add a labelled set (repeatable)"
    )
    p_pairs.add_argument("--no-queries", action="store_true", help="leave out the answered queries of the database")
    p_pairs.set_defaults(func=_cmd_training_pairs)

    p_config = sub.add_parser("config", help="print the effective settings (secrets masked)")
    p_config.set_defaults(func=_cmd_config)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)
