"""What the page shows, built from the module apis' DTOs: ranking, evidence charts, health, local times."""

from __future__ import annotations

import asyncio
import difflib
import time
import zoneinfo
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
from markupsafe import Markup

from homeiq_ai.kernel.homedata.store import HomeStore
from homeiq_ai.kernel.modules import CheckResult, HealthCheck
from homeiq_ai.web.svg import TimelineMark, hour_chart, timeline_chart

__all__ = [
    "HealthStrip",
    "as_data",
    "backtest_chart",
    "declared_error",
    "diff_lines",
    "entity_hour_counts",
    "occurrence_chart",
    "rank_suggestions",
]

STATUS_ORDER = {"proposed": 0, "approved": 1, "deployed": 2, "disabled": 3, "rolled_back": 4, "rejected": 5}
HEALTH_TIMEOUT_SECONDS = 3.0


def as_data(value: Any) -> Any:
    """A DTO as plain dicts and lists, datetimes kept as datetimes (the templates format them)."""
    return msgspec.to_builtins(value, builtin_types=(datetime,))


def declared_error(exc: BaseException) -> tuple[int, str, str] | None:
    """(status, code, message) of an error an api.py declares, or of an HTTP client's upstream error."""
    status = getattr(exc, "http_status", None) or getattr(exc, "status_code", None)
    code = getattr(exc, "code", None)
    if isinstance(status, int) and isinstance(code, str):
        return status, code, getattr(exc, "message", None) or str(exc)
    return None


def parse_time(value: Any) -> datetime | None:
    """A datetime from a DTO value (datetime or ISO text), UTC when it carries no offset."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    else:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _score(item: Mapping[str, Any]) -> float:
    for key in ("rank_score", "score", "rank"):
        value = item.get(key)
        if isinstance(value, int | float):
            return float(value)
    return float(item.get("confidence") or 0.0)


def rank_suggestions(items: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Open suggestions first (proposed, approved, deployed ...), best score first inside a status."""
    return sorted(items, key=lambda s: (STATUS_ORDER.get(str(s.get("status")), 9), -_score(s)))


def _hours_from_times(times: Sequence[Any], tz: zoneinfo.ZoneInfo) -> list[float] | None:
    parsed = [t for t in (parse_time(v) for v in times) if t is not None]
    if not parsed:
        return None
    counts = [0.0] * 24
    for t in parsed:
        counts[t.astimezone(tz).hour] += 1
    return counts


def evidence_hours(suggestion: Mapping[str, Any], tz: zoneinfo.ZoneInfo) -> list[float] | None:
    """24 hourly counts from the suggestion's own evidence, when the automation api gives them."""
    evidence = suggestion.get("evidence")
    if not isinstance(evidence, Mapping):
        return None
    for key in ("hourly", "by_hour", "occurrences_by_hour", "hour_counts"):
        value = evidence.get(key)
        if isinstance(value, Sequence) and len(value) == 24:
            return [float(v) for v in value]
    for key in ("times", "occurrence_times", "example_times", "examples"):
        value = evidence.get(key)
        if isinstance(value, Sequence) and not isinstance(value, str) and value:
            flat = [v.get("time") if isinstance(v, Mapping) else v for v in value]
            hours = _hours_from_times(flat, tz)
            if hours is not None:
                return hours
    return None


async def entity_hour_counts(
    store: HomeStore, entity_id: str, tz: zoneinfo.ZoneInfo, *, days: int = 30, now: datetime | None = None
) -> list[float]:
    """State changes of one entity per hour of day (home time) over the last `days` days."""
    end = now or datetime.now(UTC)
    counts = [0.0] * 24
    async for batch in store.events(end - timedelta(days=days), end, [entity_id]):
        for event in batch:
            counts[event.time.astimezone(tz).hour] += 1
    return counts


async def occurrence_chart(
    suggestion: Mapping[str, Any], store: HomeStore, tz: zoneinfo.ZoneInfo
) -> tuple[Markup | None, str]:
    """The 24-hour chart behind a suggestion and what it counts.

    From the suggestion's evidence when it carries times; else the recorded state changes of its first
    entity over the last 30 days (the history its pattern was mined from).
    """
    counts = evidence_hours(suggestion, tz)
    if counts is not None:
        caption = "occurrences behind this suggestion, by hour (home time)"
        return hour_chart(counts, title=caption), caption
    entity_ids = suggestion.get("entity_ids") or []
    if not entity_ids:
        return None, "no occurrences recorded for this suggestion"
    counts = await entity_hour_counts(store, str(entity_ids[0]), tz)
    if not any(counts):
        return None, f"no state changes of {entity_ids[0]} in the last 30 days"
    caption = f"state changes of {entity_ids[0]} in the last 30 days, by hour (home time)"
    return hour_chart(counts, title=caption), caption


def backtest_chart(
    backtest: Any, tz: zoneinfo.ZoneInfo, now: datetime | None = None
) -> tuple[Markup | None, str]:
    """The backtest as a 30-day timeline of firings, and a plain sentence of its outcome."""
    if not isinstance(backtest, Mapping):
        # The service replays only where the home has recorded history of the entities it uses.
        return None, "not replayed: no recorded history of its entities yet"
    firings = backtest.get("firings") or backtest.get("fires") or backtest.get("events") or []
    marks: list[TimelineMark] = []
    for firing in firings if isinstance(firings, Sequence) else []:
        at = parse_time(firing.get("at") or firing.get("time")) if isinstance(firing, Mapping) else parse_time(firing)
        if at is None:
            continue
        matched = None
        if isinstance(firing, Mapping):
            for key in ("matched", "manual_match", "did_by_hand", "matched_manual"):
                if key in firing:
                    matched = bool(firing[key])
                    break
        local = at.astimezone(tz)
        word = {True: "the home did the same by hand", False: "nobody did this by hand", None: ""}[matched]
        marks.append(TimelineMark(local, matched, f"{local:%a %d %b %H:%M} {word}".strip()))
    end = (parse_time(backtest.get("window_end")) or now or datetime.now(UTC)).astimezone(tz)
    days = int(backtest.get("days") or 30)
    summary = backtest.get("summary") or backtest.get("explanation")
    if not summary:
        fired = backtest.get("fired", backtest.get("would_fire", len(marks)))
        agreed = backtest.get("matched", backtest.get("matched_manual", sum(1 for m in marks if m.matched)))
        summary = (
            f"it would have fired {fired} times in the last {days} days; "
            f"the home did the same by hand {agreed} times"
        )
    title = f"when it would have fired in the last {days} days"
    return timeline_chart(marks, end=end, days=days, title=title), str(summary)


def diff_lines(old: str, new: str, old_name: str, new_name: str) -> list[tuple[str, str]]:
    """A unified diff as (css class, line) pairs: add, del, hunk or same."""
    out: list[tuple[str, str]] = []
    for line in difflib.unified_diff(old.splitlines(), new.splitlines(), old_name, new_name, lineterm=""):
        if line.startswith(("+++", "---")):
            kind = "hunk"
        elif line.startswith("+"):
            kind = "add"
        elif line.startswith("-"):
            kind = "del"
        elif line.startswith("@@"):
            kind = "hunk"
        else:
            kind = "same"
        out.append((kind, line))
    return out


@dataclass(slots=True)
class Component:
    """One part of the health strip and the last time it failed."""

    name: str
    ok: bool | None = None
    detail: str = "not checked yet"
    last_error: str | None = None
    last_error_at: datetime | None = None


@dataclass(slots=True)
class HealthStrip:
    """Home Assistant, broker, LLM and database as this process sees them, each with its last error.

    The checks are the ones /health/ready runs (the database and schema, the loaded modules' checks,
    MQTT) plus a probe of Home Assistant; the last error of each is remembered in this process.
    """

    db_check: HealthCheck
    checks: Mapping[str, HealthCheck]
    configured: Mapping[str, bool]
    ha_probe: HealthCheck | None = None
    components: dict[str, Component] = field(default_factory=dict)
    _checked_at: float = 0.0
    ttl_seconds: float = 10.0

    def _group(self, name: str) -> str | None:
        lowered = name.lower()
        if "mqtt" in lowered or "broker" in lowered:
            return "broker"
        if "llm" in lowered or "openai" in lowered:
            return "llm"
        if "home_assistant" in lowered or "homeassistant" in lowered or lowered.endswith(".ha"):
            return "home_assistant"
        if lowered in ("database", "schema"):
            return "database"
        return None

    async def _run(self, check: HealthCheck) -> CheckResult:
        try:
            async with asyncio.timeout(HEALTH_TIMEOUT_SECONDS):
                return await check()
        except TimeoutError:
            return CheckResult(False, f"no answer within {HEALTH_TIMEOUT_SECONDS:g} s")
        except Exception as exc:  # a failing check shows on the strip, it never breaks the page
            return CheckResult(False, f"{type(exc).__name__}: {exc}")

    async def refresh(self, force: bool = False) -> list[Component]:
        """Run the checks (at most every `ttl_seconds`) and answer the four components in order."""
        labels = {
            "home_assistant": "Home Assistant",
            "broker": "Broker",
            "llm": "LLM",
            "database": "Database",
        }
        if force or time.monotonic() - self._checked_at > self.ttl_seconds:
            self._checked_at = time.monotonic()
            grouped: dict[str, list[tuple[str, CheckResult]]] = {key: [] for key in labels}
            named: list[tuple[str, HealthCheck]] = [("database", self.db_check)]
            named += [(n, c) for n, c in self.checks.items() if self._group(n)]
            if self.ha_probe is not None:
                named.append(("home_assistant", self.ha_probe))
            results = await asyncio.gather(*(self._run(c) for _, c in named))
            for (name, _), result in zip(named, results, strict=True):
                group = self._group(name) or "database"
                grouped[group].append((name, result))
            now = datetime.now(UTC)
            for key, label in labels.items():
                comp = self.components.setdefault(key, Component(label))
                found = grouped[key]
                if not found:
                    comp.ok = None
                    comp.detail = "not configured" if not self.configured.get(key) else "no check in this process"
                    continue
                comp.ok = all(r.ok for _, r in found)
                comp.detail = "; ".join(r.detail for _, r in found)
                if not comp.ok:
                    comp.last_error = "; ".join(r.detail for _, r in found if not r.ok)
                    comp.last_error_at = now
        return [self.components[key] for key in labels if key in self.components]
