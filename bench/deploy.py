"""Deploy round trip (ours + Home Assistant's) p50/p95 over N deploys against a real Home Assistant 2024.3.3.

`.venv/bin/python bench/deploy.py [--runs 100]`: starts Home Assistant with the demo home as the
integration tests do (venv from scripts/ha-venv.sh), then POST /api/v1/deployment/deploy through the
app for N approved hand-written suggestions: save, read back, entity found.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from litestar.testing import AsyncTestClient  # noqa: E402

from homeiq_ai.app import create_app  # noqa: E402
from homeiq_ai.kernel.migrate import upgrade  # noqa: E402
from homeiq_ai.settings import load_settings  # noqa: E402
from integration.homeassistant.conftest import running_home_assistant  # noqa: E402

YAML = """\
alias: Bench {n}
trigger:
  - platform: state
    entity_id: input_boolean.homeiq_test
    to: "on"
action:
  - service: light.turn_on
    target:
      entity_id: light.kitchen_lights
"""


async def run(url: str, token: str, db_url: str, data_dir: str, runs: int) -> list[float]:
    settings = load_settings(
        {
            "DATABASE_URL": db_url,
            "HOMEIQ_DATA_DIR": data_dir,
            "SCHEDULER_ENABLED": "false",
            "LOG_LEVEL": "WARNING",
            "HA_URL": url,
            "HA_TOKEN": token,
        }
    )
    times = []
    async with AsyncTestClient(app=create_app(settings, "all")) as client:
        for n in range(runs):
            sid = (await client.post("/api/v1/suggestions/", json={"yaml": YAML.format(n=n)})).json()["id"]
            await client.post(f"/api/v1/suggestions/{sid}/approve")
            t0 = time.perf_counter()
            answer = await client.post("/api/v1/deployment/deploy", json={"suggestion_id": sid})
            times.append(time.perf_counter() - t0)
            assert answer.status_code == 201, answer.text
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=100)
    args = parser.parse_args()
    venv = Path(
        subprocess.run(["bash", str(REPO / "scripts" / "ha-venv.sh")], capture_output=True, text=True, check=True)
        .stdout.strip()
        .splitlines()[-1]
    )
    with tempfile.TemporaryDirectory() as tmp:
        db_url = f"sqlite+aiosqlite:///{tmp}/bench.db"
        upgrade(db_url)
        config_dir = Path(tmp) / "ha"
        config_dir.mkdir()
        with running_home_assistant(venv, config_dir) as ha:
            times = asyncio.run(run(ha.url, ha.token, db_url, tmp, args.runs))
    ms = np.asarray(times) * 1000
    print(
        f"deploy round trip over {len(ms)} deploys (save, read back, entity found): "
        f"p50 {np.percentile(ms, 50):.1f} ms, p95 {np.percentile(ms, 95):.1f} ms, max {ms.max():.1f} ms"
    )


if __name__ == "__main__":
    main()
