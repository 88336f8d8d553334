"""Architecture rules that import-linter cannot see: table prefixes, foreign keys, `requires`, contracts."""

from __future__ import annotations

import configparser
import importlib
import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

from homeiq_ai.kernel.db import metadata
from homeiq_ai.settings import MODULE_NAMES

REPO = Path(__file__).resolve().parents[2]
PREFIXES = {
    "homeiq_ai.kernel": ("home_", "cache_"),
    **{f"homeiq_ai.{name}": (f"{name}_",) for name in MODULE_NAMES},
}


def _owner(table_name: str) -> str:
    for owner, prefixes in PREFIXES.items():
        if table_name.startswith(prefixes):
            return owner
    raise AssertionError(f"table {table_name} has no module prefix")


def test_every_table_is_prefixed_by_its_module() -> None:
    """Each ORM class's table starts with the prefix of the package that defines it."""
    from homeiq_ai.kernel.db import Base

    for mapper in Base.registry.mappers:
        cls = mapper.class_
        table = mapper.local_table.name
        # The owning package is the top-level context: homeiq_ai.kernel.homedata belongs to the kernel.
        package = ".".join(cls.__module__.split(".")[:2])
        assert table.startswith(PREFIXES[package]), f"{cls.__module__}.{cls.__name__} -> {table}"


def test_no_foreign_key_crosses_a_module_boundary() -> None:
    """Foreign keys point only at tables of the same module (other modules' rows are referenced by id)."""
    for table in metadata.tables.values():
        for fk in table.foreign_keys:
            assert _owner(table.name) == _owner(fk.column.table.name), f"{table.name} -> {fk.target_fullname}"


def test_requires_matches_the_imports() -> None:
    """A module's `requires` names exactly the modules whose api it imports."""
    graph = grimp.build_graph("homeiq_ai")
    for name in MODULE_NAMES:
        spec = importlib.import_module(f"homeiq_ai.{name}.module").spec
        imported = set()
        for other in MODULE_NAMES:
            if other == name:
                continue
            chains = graph.find_shortest_chains(
                importer=f"homeiq_ai.{name}", imported=f"homeiq_ai.{other}.api"
            )
            if chains:
                imported.add(other)
        assert imported == set(spec.requires), (
            f"{name}: requires {spec.requires}, imports the api of {imported}"
        )


def test_import_contracts_hold() -> None:
    """lint-imports passes on the tree as it is."""
    result = subprocess.run(
        [str(Path(sys.executable).parent / "lint-imports"), "--no-cache"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("file", "line", "contract"),
    [
        ("automation/service.py", "import homeiq_ai.pattern.service", "modules-meet-only-at-api"),
        ("pattern/service.py", "import homeiq_ai.automation.api", "modules-meet-only-at-api"),
        ("kernel/db.py", "import homeiq_ai.pattern.api", "kernel-imports-no-module"),
        ("query/repository.py", "import homeiq_ai.query.service", "layers-inside-a-module"),
        ("pattern/service.py", "import torch", "only-training-imports-torch"),
        ("automation/api.py", "import homeiq_ai.kernel.db", "api-is-stdlib-and-msgspec"),
    ],
)
def test_breaking_a_contract_fails_lint_imports(tmp_path: Path, file: str, line: str, contract: str) -> None:
    """Adding a forbidden import to a copy of the tree makes lint-imports fail on that contract."""
    shutil.copytree(REPO / "src", tmp_path / "src")
    shutil.copy(REPO / ".importlinter", tmp_path / ".importlinter")
    target = tmp_path / "src" / "homeiq_ai" / file
    target.write_text(target.read_text() + f"\n{line}  # noqa\n")
    env = {"PYTHONPATH": str(tmp_path / "src"), "PATH": str(Path(sys.executable).parent), "COLUMNS": "400"}
    result = subprocess.run(
        [str(Path(sys.executable).parent / "lint-imports"), "--no-cache", "--config", ".importlinter"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert result.returncode != 0, result.stdout
    assert "BROKEN" in result.stdout
    parser = configparser.ConfigParser()
    parser.read(REPO / ".importlinter")
    name = parser[f"importlinter:contract:{contract}"]["name"]
    broken = [ln for ln in result.stdout.splitlines() if "BROKEN" in ln]
    assert any(ln.startswith(name) for ln in broken), result.stdout
