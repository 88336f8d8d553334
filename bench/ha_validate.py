"""Home Assistant's own validator on our automations: async_validate_config_item of HA 2024.3.3, no server.

Run inside the Home Assistant venv that scripts/ha-venv.sh builds (it reads a JSON list of automation
configs, `Automation.to_config()`, from a file or stdin and prints one JSON list of {index, ok, error}):

    $(scripts/ha-venv.sh)/bin/python bench/ha_validate.py configs.json

From the project's venv, `ha_validate(configs)` runs that subprocess and returns the list, so a bench
can report the share Home Assistant accepts. This is the validator the REST endpoint
`POST /api/config/automation/config/<id>` uses; it does not check that entities or services exist.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def ha_python() -> str:
    """The Home Assistant venv's python (built by scripts/ha-venv.sh, once)."""
    venv = subprocess.run(
        ["bash", str(ROOT / "scripts" / "ha-venv.sh")], check=True, capture_output=True, text=True, timeout=900
    ).stdout.strip()
    return str(Path(venv) / "bin" / "python")


def ha_validate(configs: list[dict[str, Any]], python: str | None = None) -> list[dict[str, Any]]:
    """Validate configs with Home Assistant's validator in its own venv; one {index, ok, error} each."""
    done = subprocess.run(
        [python or ha_python(), str(Path(__file__).resolve())],
        input=json.dumps(configs),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"Home Assistant validator failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout)


async def _validate(configs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # Import order matters: homeassistant.core before the loader (a circular import otherwise).
    from homeassistant.core import HomeAssistant  # isort: skip
    from homeassistant import loader  # isort: skip
    from homeassistant.components.automation.config import async_validate_config_item
    from homeassistant.helpers import area_registry, device_registry, entity_registry, floor_registry, label_registry

    hass = HomeAssistant(tempfile.mkdtemp(prefix="ha-validate-"))
    loader.async_setup(hass)
    for registry in (area_registry, floor_registry, label_registry, device_registry, entity_registry):
        await registry.async_load(hass)
    out = []
    for index, config in enumerate(configs):
        try:
            await async_validate_config_item(hass, str(config.get("id") or index), dict(config))
            out.append({"index": index, "ok": True, "error": None})
        except Exception as error:  # HA raises vol.Invalid and HomeAssistantError alike
            out.append({"index": index, "ok": False, "error": f"{type(error).__name__}: {error}"})
    await hass.async_stop(force=True)
    return out


def main() -> None:
    text = Path(sys.argv[1]).read_text() if len(sys.argv) > 1 else sys.stdin.read()
    result = asyncio.run(_validate(json.loads(text)))
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    os.environ.setdefault("HOMEIQ_HA_VALIDATE", "1")
    main()
