"""Layer 3: safety rules and a score (100 minus 40 per critical, 10 per warning, 2 per info, at least 0)."""

from __future__ import annotations

from homeiq_ai.automation.validation.catalog import HomeCatalog
from homeiq_ai.automation.validation.result import Finding, SafetyReport
from homeiq_ai.kernel.haconfig import (
    Automation,
    DelayAction,
    RepeatAction,
    TemplateCondition,
    TemplateTrigger,
    TimePatternTrigger,
    WaitTemplateAction,
)

__all__ = ["CONFIRM_SERVICES", "FORBIDDEN_DOMAINS", "FORBIDDEN_SERVICES", "MAX_DELAY_S", "check_safety", "score"]

# Whole domains that run code or reach the host: critical.
FORBIDDEN_DOMAINS = frozenset({"shell_command", "python_script", "hassio", "pyscript"})
FORBIDDEN_SERVICES = frozenset({"homeassistant.stop", "homeassistant.restart", "recorder.purge", "recorder.disable"})
# Services that open the home: they need explicit confirmation.
CONFIRM_SERVICES = frozenset({"lock.unlock", "lock.open", "alarm_control_panel.alarm_disarm", "valve.open_valve"})
_OPENING_COVER = frozenset({"cover.open_cover", "cover.toggle", "cover.set_cover_position"})
_OPENING_CLASSES = frozenset({"garage", "gate", "door"})
MAX_DELAY_S = 3600
_WEIGHTS = {"critical": 40, "warning": 10, "info": 2}


def score(findings: list[Finding]) -> int:
    """100 minus the findings' weights, never below 0."""
    return max(0, 100 - sum(_WEIGHTS[f.severity] for f in findings))


def _fast_pattern(trigger: TimePatternTrigger) -> bool:
    seconds = (trigger.seconds or "").strip()
    if not seconds:
        return False
    return seconds == "*" or seconds.startswith("/") or "," in seconds


def _has_template(value: object) -> bool:
    if isinstance(value, str):
        return "{{" in value or "{%" in value
    if isinstance(value, dict):
        return any(_has_template(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_template(v) for v in value)
    return False


def check_safety(
    automation: Automation, catalog: HomeCatalog | None = None, *, confirmed: bool = False
) -> SafetyReport:
    """The safety findings of one automation.

    Args:
        automation: The parsed automation.
        catalog: The home (for device classes of covers); None skips class-dependent rules.
        confirmed: The person explicitly confirmed opening actions (unlock, disarm, garage/gate open):
            those findings become warnings instead of critical.

    Returns:
        The SafetyReport with its score.
    """
    findings: list[Finding] = []
    confirm_sev = "warning" if confirmed else "critical"
    for path, call in automation.service_calls():
        service = call.service
        if call.domain in FORBIDDEN_DOMAINS or service in FORBIDDEN_SERVICES:
            findings.append(Finding("forbidden_service", "critical", f"{service} is not allowed in automations", path))
            continue
        if call.domain == "rest_command":
            findings.append(Finding("outside_request", "warning", f"{service} sends a request outside the home", path))
        opening = service in CONFIRM_SERVICES
        if service in _OPENING_COVER and catalog is not None:
            opening = any(catalog.device_class(e) in _OPENING_CLASSES for e in call.target.entity_id)
        if opening:
            what = ", ".join(call.target.entity_id) or "its target"
            note = "confirmed" if confirmed else "needs explicit confirmation"
            findings.append(Finding("opens_home", confirm_sev, f"{service} on {what} opens the home ({note})", path))
        if _has_template(call.data) or any(_has_template(e) for e in call.target.entity_id):
            findings.append(
                Finding("template", "info", f"{service} uses a template; its value is known only when it runs", path)
            )
    for path, action in automation.all_actions():
        if isinstance(action, RepeatAction) and action.count is None and action.for_each is None:
            findings.append(Finding("unbounded_repeat", "warning", "repeat with while/until has no count bound", path))
        elif isinstance(action, DelayAction):
            if isinstance(action.delay, str):
                findings.append(Finding("template", "info", "the delay is a template", path))
            elif action.delay > MAX_DELAY_S:
                findings.append(
                    Finding("long_delay", "warning", f"a delay of {action.delay // 60} minutes (over an hour)", path)
                )
        elif isinstance(action, WaitTemplateAction):
            findings.append(Finding("template", "info", "wait_template depends on a template", path))
    for path, trigger in automation.all_triggers():
        if isinstance(trigger, TimePatternTrigger) and _fast_pattern(trigger):
            findings.append(Finding("fast_time_pattern", "warning", "time_pattern fires more than once a minute", path))
        elif isinstance(trigger, TemplateTrigger):
            findings.append(Finding("template", "info", "a template trigger; what it reads is not checked", path))
    for path, condition in automation.all_conditions():
        if isinstance(condition, TemplateCondition):
            findings.append(Finding("template", "info", "a template condition; what it reads is not checked", path))
    loops = [e for e in automation.trigger_entities() if e in set(automation.target_entities())]
    if loops:
        findings.append(
            Finding(
                "retriggers_itself",
                "warning",
                f"its action changes its own trigger entity {', '.join(loops)}",
                "action",
            )
        )
    return SafetyReport(score(findings), findings)
