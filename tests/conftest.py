"""Shared fixtures: a SQLite database at head once per session, copied per test; apps by module set."""

from __future__ import annotations

import asyncio
import concurrent.futures
import importlib
import os
import shutil
import socket
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

import secret_scan
from homeiq_ai.app import create_app
from homeiq_ai.kernel import migrate
from homeiq_ai.kernel.db import Database
from homeiq_ai.settings import Settings, load_settings

pytest_plugins = ["pytester"]

REPO_ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get("HOMEIQ_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")


MODEL_MODULES = (
    "homeiq_ai.kernel.models",
    "homeiq_ai.kernel.homedata.models",
    "homeiq_ai.training.models",
    "homeiq_ai.pattern.models",
    "homeiq_ai.query.models",
    "homeiq_ai.automation.models",
)
for _name in MODEL_MODULES:
    importlib.import_module(_name)


def pytest_configure(config: pytest.Config) -> None:
    """Every captured log of the run is grepped for the test secrets (tests/secret_scan.py)."""
    secret_scan.configure(config)


def pytest_unconfigure(config: pytest.Config) -> None:
    secret_scan.unconfigure(config)


def sqlite_url(path: Path) -> str:
    """An aiosqlite URL for a file."""
    return f"sqlite+aiosqlite:///{path}"


def port_open(host: str, port: int, timeout: float = 1.0) -> bool:
    """Whether something accepts TCP connections at host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def migrated_sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file upgraded to head by the real migrations, once per test session."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    migrate.upgrade(sqlite_url(path))
    return path


@pytest.fixture
def database_url(migrated_sqlite_template: Path, tmp_path: Path) -> str:
    """A fresh SQLite database at head for one test (a copy of the session's template)."""
    target = tmp_path / "shared.db"
    shutil.copyfile(migrated_sqlite_template, target)
    return sqlite_url(target)


@pytest.fixture
def make_settings(database_url: str, tmp_path: Path) -> Callable[..., Settings]:
    """Build Settings on this test's database; keyword arguments are extra environment variables."""

    def _make(**env: str) -> Settings:
        base = {
            "DATABASE_URL": database_url,
            "HOMEIQ_DATA_DIR": str(tmp_path),
            "SCHEDULER_ENABLED": "false",
            "LOG_LEVEL": "WARNING",
        }
        base.update(env)
        return load_settings(base)

    return _make


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    """Settings on this test's database: no scheduler, no MQTT, no Home Assistant."""
    return make_settings()


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    """This test's database, opened beside the app as a second process would open it."""
    database = Database(database_url)
    yield database
    await database.dispose()


@pytest.fixture
def app_client(settings: Settings) -> Callable[..., Any]:
    """`async with app_client(["pattern"]) as client:` runs the app's lifespan around a test client."""

    @asynccontextmanager
    async def _client(
        modules: Any = "all", app_settings: Settings | None = None
    ) -> AsyncIterator[AsyncTestClient]:
        app = create_app(app_settings or settings, modules)
        async with AsyncTestClient(app=app) as client:
            yield client

    return _client


# --- PostgreSQL -----------------------------------------------------------------------------------


def run_coro(factory: Callable[[], Any]) -> Any:
    """Run a coroutine to completion on a private loop in a thread (safe inside a running loop)."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(factory())).result()


async def _pg_admin(statement: str) -> None:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        async with asyncio.timeout(10), engine.connect() as conn:
            await conn.execute(text(statement))
    finally:
        await engine.dispose()


def _pg_available() -> str | None:
    """None when PostgreSQL answers, else the reason it does not."""
    if not port_open("127.0.0.1", 5432):
        return "PostgreSQL is not reachable at 127.0.0.1:5432 (scripts/test.sh tries to start it)"
    try:
        run_coro(lambda: _pg_admin("SELECT 1"))
    except Exception as exc:
        return f"PostgreSQL at 127.0.0.1:5432 refused the test login: {exc}"
    return None


@pytest.fixture(scope="session")
def pg_database_factory() -> Iterator[Callable[[], str]]:
    """Creates empty, uniquely named PostgreSQL databases and drops them at the end of the session."""
    reason = _pg_available()
    if reason:
        pytest.skip(f"SKIPPED (PostgreSQL): {reason}")
    created: list[str] = []
    base = PG_ADMIN_URL.rsplit("/", 1)[0]

    def _create() -> str:
        name = f"homeiq_test_{uuid.uuid4().hex[:12]}"
        run_coro(lambda: _pg_admin(f'CREATE DATABASE "{name}"'))
        created.append(name)
        return f"{base}/{name}"

    yield _create
    for name in created:
        try:
            run_coro(lambda name=name: _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        except Exception as exc:  # never fail the session on clean-up
            print(f"could not drop test database {name}: {exc}")


@pytest.fixture(scope="session")
def pg_migrated_url(pg_database_factory: Callable[[], str]) -> str:
    """A PostgreSQL database upgraded to head once per session."""
    url = pg_database_factory()
    migrate.upgrade(url)
    return url


async def _truncate_all(url: str) -> None:
    from sqlalchemy import text

    from homeiq_ai.kernel.db import Database, metadata

    db = Database(url)
    try:
        names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
        async with db.session() as session:
            await session.execute(text(f"TRUNCATE {names} CASCADE"))
    finally:
        await db.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
async def any_database_url(request: pytest.FixtureRequest, database_url: str) -> str:
    """A database at head, once on SQLite and once on PostgreSQL (skipped loudly when unreachable)."""
    if request.param == "sqlite":
        return database_url
    url = request.getfixturevalue("pg_migrated_url")
    await _truncate_all(url)
    return url
