"""Alembic owns the schema: the history round-trips and agrees with the models, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from conftest import run_coro, sqlite_url
from homeiq_ai.kernel import migrate
from homeiq_ai.kernel.db import metadata


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database: a new SQLite file, or a new PostgreSQL database (skipped loudly if unreachable)."""
    if request.param == "sqlite":
        return sqlite_url(tmp_path / "empty.db")
    factory: Callable[[], str] = request.getfixturevalue("pg_database_factory")
    return factory()


def _inspect(url: str, fn: Callable) -> object:
    async def _go() -> object:
        engine = create_async_engine(url, poolclass=NullPool)
        try:
            async with engine.connect() as conn:
                return await conn.run_sync(fn)
        finally:
            await engine.dispose()

    return run_coro(_go)


def _tables(url: str) -> set[str]:
    return set(_inspect(url, lambda c: inspect(c).get_table_names()))  # type: ignore[arg-type]


def test_history_is_linear() -> None:
    """One head, and every revision has at most one parent."""
    script = ScriptDirectory(str(migrate.migrations_dir()))
    assert len(script.get_heads()) == 1
    for rev in script.walk_revisions():
        assert not isinstance(rev.down_revision, tuple), f"{rev.revision} is a merge"


def test_upgrade_downgrade_upgrade(empty_database_url: str) -> None:
    """An empty database goes to head, back to base (no tables left), and to head again."""
    migrate.upgrade(empty_database_url)
    expected = set(metadata.tables) | {"alembic_version"}
    assert _tables(empty_database_url) == expected
    migrate.downgrade(empty_database_url, "base")
    assert _tables(empty_database_url) <= {"alembic_version"}
    migrate.upgrade(empty_database_url)
    assert _tables(empty_database_url) == expected


def test_models_and_migrations_agree(empty_database_url: str) -> None:
    """Autogenerate finds no difference between the migrated schema and the ORM models."""
    migrate.upgrade(empty_database_url)

    def _diff(conn: object) -> list:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": True})
        return compare_metadata(ctx, metadata)

    diff = _inspect(empty_database_url, _diff)
    assert diff == [], f"models and migrations differ: {diff}"


def test_upgrade_keeps_rows_written_before_it(empty_database_url: str) -> None:
    """Rows stored under 0002 survive the upgrade to head with the new NOT NULL columns filled."""
    from sqlalchemy import text

    migrate.upgrade(empty_database_url, "0002")

    async def _seed_and_read() -> None:
        engine = create_async_engine(empty_database_url, poolclass=NullPool)
        try:
            async with engine.begin() as conn:
                await conn.execute(
                    text(
                        "INSERT INTO pattern_pattern (id, pattern_type, description, confidence, quality, occurrences,"
                        " status, details, created_at, updated_at) VALUES ('p1', 'time_of_day', 'd', 0.9, 0.9, 5,"
                        " 'active', '{}', '2026-01-01 00:00:00+00:00', '2026-01-01 00:00:00+00:00')"
                    )
                )
        finally:
            await engine.dispose()

    run_coro(_seed_and_read)
    migrate.upgrade(empty_database_url)

    def _read(conn: object) -> tuple:
        return conn.execute(text("SELECT id, identity_key, history FROM pattern_pattern")).one()  # type: ignore[attr-defined]

    row = _inspect(empty_database_url, _read)
    assert row[0] == "p1" and row[1] == ""
