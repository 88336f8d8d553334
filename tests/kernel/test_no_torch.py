"""A process that does not load the training module never imports torch."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent(
    """
    import sys
    from homeiq_ai.app import create_app
    from homeiq_ai.settings import load_settings
    settings = load_settings({{"DATABASE_URL": "sqlite+aiosqlite:///{db}", "SCHEDULER_ENABLED": "false"}})
    create_app(settings, {modules!r})
    import homeiq_ai.cli, homeiq_ai.training.api, homeiq_ai.training.client
    print("torch" in sys.modules)
    """
)


@pytest.mark.parametrize(
    "modules", [["pattern"], ["query"], ["automation"], ["pattern", "query", "automation"]]
)
def test_no_torch_without_training(modules: list[str], tmp_path) -> None:
    """An app without training, plus the training api and client, leaves torch unimported."""
    script = SCRIPT.format(db=tmp_path / "x.db", modules=modules)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_torch_is_installed_so_the_check_means_something() -> None:
    """The test environment has torch (the training extra), so its absence above is not an accident."""
    result = subprocess.run(
        [sys.executable, "-c", "import torch; print(torch.__version__)"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, "torch==2.13.0 (CPU) is part of the test environment: run scripts/setup.sh"
