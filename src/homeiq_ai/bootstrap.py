"""The one bootstrap every entrypoint calls: settings (or one clear line and exit), logging, the app."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from dataclasses import fields

from litestar import Litestar

from homeiq_ai.settings import MODULE_PORTS, Secret, Settings, SettingsError, load_settings

__all__ = ["ALL_IN_ONE_PORT", "boot", "default_port", "load_settings_or_exit", "serve"]

ALL_IN_ONE_PORT = 8000
EXIT_CONFIG = 2


def load_settings_or_exit() -> Settings:
    """Load settings; on a wrong value print one line naming the variable and exit with status 2."""
    try:
        return load_settings()
    except SettingsError as exc:
        print(f"homeiq-ai: configuration error: {exc}", file=sys.stderr)
        raise SystemExit(EXIT_CONFIG) from None


def default_port(modules: tuple[str, ...], settings: Settings) -> int:
    """PORT when set; else a single module's own port; else the all-in-one port."""
    if settings.port is not None:
        return settings.port
    if len(modules) == 1:
        return MODULE_PORTS[modules[0]]
    return ALL_IN_ONE_PORT


def boot(modules: Iterable[str] | str, settings: Settings | None = None) -> Litestar:
    """Build the app for `modules` with logging configured; exits on bad settings or module names."""
    from homeiq_ai.app import create_app
    from homeiq_ai.kernel.logs import configure_logging

    settings = settings or load_settings_or_exit()
    # Every Secret field, so that a secret added to Settings later is redacted without a change here.
    values = (getattr(settings, f.name) for f in fields(settings))
    secrets = [value.get() for value in values if isinstance(value, Secret)]
    configure_logging(settings.log_level, secrets)
    try:
        return create_app(settings, modules)
    except ValueError as exc:
        print(f"homeiq-ai: {exc}", file=sys.stderr)
        raise SystemExit(EXIT_CONFIG) from None


def serve(app: Litestar, host: str, port: int, log_level: str = "info") -> None:
    """Serve an app with uvicorn until SIGINT/SIGTERM."""
    import uvicorn

    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level.lower(),
        access_log=False,
        lifespan="on",
        proxy_headers=False,
        server_header=False,
    )
    uvicorn.Server(config).run()
