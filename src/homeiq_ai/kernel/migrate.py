"""Alembic from code: where the migrations are, the head revision, upgrade and downgrade."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from homeiq_ai.kernel.db import sqlite_path

__all__ = ["alembic_config", "downgrade", "head_revision", "migrations_dir", "upgrade"]


@cache
def migrations_dir() -> Path:
    """Locate the migrations: packaged inside the wheel, or at the top of a source checkout."""
    package_dir = Path(__file__).resolve().parent.parent
    for candidate in (package_dir / "_migrations", package_dir.parent.parent / "migrations"):
        if (candidate / "env.py").is_file():
            return candidate
    raise FileNotFoundError("the Alembic migrations are neither packaged nor in a source checkout")


def alembic_config(database_url: str) -> Config:
    """An Alembic config for one database, independent of the working directory."""
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    # ConfigParser interpolation would eat the '%' of URL-encoded passwords.
    cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    cfg.attributes["database_url"] = database_url
    return cfg


@cache
def head_revision() -> str:
    """The head revision of the one linear history."""
    script = ScriptDirectory(str(migrations_dir()))
    heads = script.get_heads()
    if len(heads) != 1:
        raise RuntimeError(f"the migration history must have one head, found {heads}")
    return heads[0]


def _ensure_sqlite_dir(database_url: str) -> None:
    path = sqlite_path(database_url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)


def upgrade(database_url: str, revision: str = "head") -> None:
    """Bring a database up to `revision` (creating a SQLite file's folder if needed)."""
    _ensure_sqlite_dir(database_url)
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    """Take a database down to `revision` ("base" removes every table)."""
    command.downgrade(alembic_config(database_url), revision)
