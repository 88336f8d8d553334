"""Scheduler: only loaded modules' jobs, cron in the home's time zone, bad crontabs, the off switch."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from homeiq_ai.app import create_app
from homeiq_ai.kernel.modules import JobSpec
from homeiq_ai.kernel.scheduler import Scheduler
from homeiq_ai.settings import Settings

NIGHTLY = "pattern.nightly_analysis"
WORKER = "training.run_worker"
SUGGEST = "automation.suggest_after_analysis"

JOB_SETS = [
    ("pattern", [NIGHTLY]),
    ("query", []),
    ("automation", [SUGGEST]),
    ("training", [WORKER]),
    ("pattern,query", [NIGHTLY]),
    ("all", [SUGGEST, NIGHTLY, WORKER]),
]


@pytest.mark.parametrize(("modules", "expected"), JOB_SETS, ids=[m for m, _ in JOB_SETS])
def test_only_loaded_modules_register_jobs(settings: Settings, modules: str, expected: list[str]) -> None:
    """An app holds exactly the jobs of the modules it loads."""
    app = create_app(settings, modules)
    assert app.state.scheduler.job_ids == sorted(expected)


def _next_local(hour: int, zone: ZoneInfo) -> datetime:
    """The next wall-clock `hour`:00 in `zone` after now."""
    now = datetime.now(zone)
    candidate = datetime(now.year, now.month, now.day, hour, tzinfo=zone)
    if candidate <= now:
        tomorrow = now.date() + timedelta(days=1)
        candidate = datetime(tomorrow.year, tomorrow.month, tomorrow.day, hour, tzinfo=zone)
    return candidate


@pytest.mark.parametrize("zone_name", ["Europe/Berlin", "America/New_York", "UTC"])
async def test_nightly_job_runs_at_three_in_home_time_zone(
    app_client: Callable[..., Any], make_settings: Callable[..., Settings], zone_name: str
) -> None:
    """With the scheduler on, the nightly analysis is next due at 03:00 in HOME_TIME_ZONE."""
    settings = make_settings(SCHEDULER_ENABLED="true", HOME_TIME_ZONE=zone_name)
    zone = ZoneInfo(zone_name)
    async with app_client("pattern", settings) as client:
        scheduler = client.app.state.scheduler
        assert scheduler.running
        next_runs = scheduler.next_run_times()
    assert set(next_runs) == {NIGHTLY}
    assert next_runs[NIGHTLY] is not None
    due = datetime.fromisoformat(next_runs[NIGHTLY])
    local = due.astimezone(zone)
    assert (local.hour, local.minute, local.second) == (3, 0, 0)
    assert due.utcoffset() == local.utcoffset(), "reported in the home's time zone"
    assert due == _next_local(3, zone)


async def test_scheduler_stops_with_the_app(
    app_client: Callable[..., Any], make_settings: Callable[..., Settings]
) -> None:
    """The scheduler runs inside the lifespan only."""
    settings = make_settings(SCHEDULER_ENABLED="true")
    async with app_client("all", settings) as client:
        scheduler = client.app.state.scheduler
        assert scheduler.running
        assert set(scheduler.next_run_times()) == {SUGGEST, NIGHTLY, WORKER}
    assert not scheduler.running


async def test_disabled_scheduler_in_app(app_client: Callable[..., Any], settings: Settings) -> None:
    """With SCHEDULER_ENABLED=false the jobs are registered but the scheduler never starts."""
    assert settings.scheduler_enabled is False
    async with app_client("all") as client:
        scheduler = client.app.state.scheduler
        assert scheduler.job_ids == [SUGGEST, NIGHTLY, WORKER]
        assert not scheduler.running
        assert all(value is None for value in scheduler.next_run_times().values())


async def _noop() -> None:
    return None


@pytest.mark.parametrize("cron", ["61 * * * *", "0 3 * *", "every night", "0 25 * * *"])
def test_bad_crontab_names_the_job(cron: str) -> None:
    """A crontab line that does not parse raises ValueError naming the job."""
    scheduler = Scheduler("Europe/Berlin")
    with pytest.raises(ValueError, match=r"job 'pattern\.broken'"):
        scheduler.add_jobs([JobSpec(id="pattern.broken", func=_noop, trigger="cron", cron=cron)])
    assert scheduler.job_ids == []


def test_bad_job_definitions_rejected() -> None:
    """A cron job without a line, an interval job without seconds and a duplicate id are refused."""
    scheduler = Scheduler("UTC")
    with pytest.raises(ValueError, match=r"x\.cron"):
        scheduler.add_jobs([JobSpec(id="x.cron", func=_noop, trigger="cron")])
    with pytest.raises(ValueError, match=r"x\.interval"):
        scheduler.add_jobs([JobSpec(id="x.interval", func=_noop, trigger="interval", seconds=0)])
    scheduler.add_jobs([JobSpec(id="x.ok", func=_noop, trigger="interval", seconds=60)])
    with pytest.raises(ValueError, match="twice"):
        scheduler.add_jobs([JobSpec(id="x.ok", func=_noop, trigger="interval", seconds=60)])
    assert scheduler.job_ids == ["x.ok"]


async def test_disabled_scheduler_runs_no_job() -> None:
    """A disabled scheduler never runs its jobs, while an enabled one does."""
    ran = {"off": 0, "on": 0}

    def _counter(key: str) -> Callable[[], Any]:
        async def job() -> None:
            ran[key] += 1

        return job

    off = Scheduler("UTC", enabled=False)
    on = Scheduler("UTC", enabled=True)
    off.add_jobs([JobSpec(id="t.off", func=_counter("off"), trigger="interval", seconds=0.05)])
    on.add_jobs([JobSpec(id="t.on", func=_counter("on"), trigger="interval", seconds=0.05)])
    off.start()
    on.start()
    try:
        await asyncio.sleep(0.5)
    finally:
        off.shutdown()
        on.shutdown()
    assert not off.running
    assert ran["off"] == 0
    assert ran["on"] >= 1, "the enabled control scheduler should have run its job"


async def test_a_run_at_start_job_runs_at_once_then_on_its_interval() -> None:
    """An interval job marked run_at_start runs right after start; a plain one waits its period."""
    ran = {"start": 0, "plain": 0}

    def _counter(key: str) -> Callable[[], Any]:
        async def job() -> None:
            ran[key] += 1

        return job

    scheduler = Scheduler("Europe/Berlin", enabled=True)
    scheduler.add_jobs(
        [
            JobSpec(id="t.start", func=_counter("start"), trigger="interval", seconds=3600, run_at_start=True),
            JobSpec(id="t.plain", func=_counter("plain"), trigger="interval", seconds=3600),
        ]
    )
    scheduler.start()
    try:
        for _ in range(50):
            if ran["start"]:
                break
            await asyncio.sleep(0.05)
        nxt = scheduler.next_run_times()
    finally:
        scheduler.shutdown()
    assert ran == {"start": 1, "plain": 0}
    # After its first run the job is back on its hourly interval.
    assert nxt["t.start"] is not None and datetime.fromisoformat(nxt["t.start"]) > datetime.now(ZoneInfo("UTC"))
