"""Alembic environment: one metadata from every module's models; async engines; batch mode on SQLite."""

from __future__ import annotations

import asyncio
import importlib
import os
import threading
from logging.config import fileConfig

from alembic import context
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from homeiq_ai.kernel.db import UTCDateTime, metadata

# Every module's tables belong to the one metadata; import them all.
for _name in (
    "homeiq_ai.kernel.models",
    "homeiq_ai.kernel.homedata.models",
    "homeiq_ai.training.models",
    "homeiq_ai.pattern.models",
    "homeiq_ai.query.models",
    "homeiq_ai.automation.models",
):
    importlib.import_module(_name)

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = metadata


def _database_url() -> str:
    url = config.attributes.get("database_url") or context.get_x_argument(as_dictionary=True).get("url")
    if not url:
        from homeiq_ai.settings import load_settings

        url = load_settings(os.environ).database_url
    return url


def _render_item(type_: str, obj, autogen_context):
    """Render the kernel's UTCDateTime as a plain timezone-aware DateTime: migrations stay self-contained."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _configure(connection=None, url: str | None = None) -> None:
    context.configure(
        render_item=_render_item,
        connection=connection,
        url=url,
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite alters tables by copying them
        compare_type=True,
        compare_server_default=True,
        literal_binds=connection is None,
    )


def run_migrations_offline() -> None:
    """Emit SQL to stdout without a database (`alembic upgrade head --sql`)."""
    _configure(url=_database_url())
    with context.begin_transaction():
        context.run_migrations()


def _run_sync(connection) -> None:
    _configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()


async def _run_async(url: str) -> None:
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run_sync)
            await connection.commit()
    finally:
        await engine.dispose()


def run_migrations_online() -> None:
    """Run against a live database, from sync code or from inside a running event loop."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run_sync(connection)
        return
    url = _database_url()
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(_run_async(url))
        return
    # Called from async code (tests, the CLI inside a loop): run on a private loop in a thread.
    errors: list[BaseException] = []

    def _target() -> None:
        try:
            asyncio.run(_run_async(url))
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=_target)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
