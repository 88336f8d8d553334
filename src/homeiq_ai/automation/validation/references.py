"""Layer 2: every entity, area, device and service exists, and services fit their target's domain."""

from __future__ import annotations

from homeiq_ai.automation.validation.catalog import GENERIC_SERVICES, HomeCatalog
from homeiq_ai.automation.validation.result import ErrorItem
from homeiq_ai.kernel.haconfig import (
    Automation,
    NumericStateCondition,
    NumericStateTrigger,
    SceneAction,
    TimeCondition,
    TimeTrigger,
)

__all__ = ["check_references"]


def _templated(value: str) -> bool:
    return "{" in value


def _indirect_references(automation: Automation) -> list[tuple[str, str]]:
    """Entities named as values: time triggers at an input_datetime, thresholds read from input_number."""
    out: list[tuple[str, str]] = []
    for path, trigger in automation.all_triggers():
        if isinstance(trigger, TimeTrigger):
            out.extend((f"{path}.at", at) for at in trigger.at if "." in at and not _templated(at))
        elif isinstance(trigger, NumericStateTrigger):
            for key in ("above", "below"):
                value = getattr(trigger, key)
                if isinstance(value, str) and "." in value and not _templated(value):
                    out.append((f"{path}.{key}", value))
    for path, condition in automation.all_conditions():
        if isinstance(condition, TimeCondition):
            for key in ("after", "before"):
                value = getattr(condition, key)
                if isinstance(value, str) and "." in value and not _templated(value):
                    out.append((f"{path}.{key}", value))
        elif isinstance(condition, NumericStateCondition):
            for key in ("above", "below"):
                value = getattr(condition, key)
                if isinstance(value, str) and "." in value and not _templated(value):
                    out.append((f"{path}.{key}", value))
    return out


def check_references(automation: Automation, catalog: HomeCatalog) -> list[ErrorItem]:
    """Errors for unknown entities, services, areas and devices, and services aimed at another domain.

    Fails closed: Home Assistant saves `light.does_not_exist` and `light.explode` and only fails when
    the automation runs; here both are errors.
    """
    errors: list[ErrorItem] = []
    for path, entity_id in automation.entity_references():
        if not catalog.has_entity(entity_id):
            errors.append(ErrorItem(path, f"entity {entity_id} does not exist in this home"))
    for path, entity_id in _indirect_references(automation):
        if not catalog.has_entity(entity_id):
            errors.append(ErrorItem(path, f"entity {entity_id} does not exist in this home"))
    source = "Home Assistant" if catalog.services_source == "home_assistant" else "the built-in table"
    for path, call in automation.service_calls():
        service = call.service
        if _templated(service):
            continue
        if not catalog.has_service(service):
            errors.append(ErrorItem(f"{path}.service", f"service {service} does not exist (checked against {source})"))
        if service not in GENERIC_SERVICES and call.domain != "homeassistant":
            data_ids = call.data.get("entity_id")
            extra = [data_ids] if isinstance(data_ids, str) else [e for e in data_ids or [] if isinstance(e, str)]
            for key, ids in (("target.entity_id", call.target.entity_id), ("data.entity_id", extra)):
                for entity_id in ids:
                    if _templated(entity_id) or entity_id == "all":
                        continue
                    domain = entity_id.split(".", 1)[0]
                    if domain != call.domain:
                        errors.append(
                            ErrorItem(
                                f"{path}.{key}",
                                f"service {service} acts on {call.domain} entities, not on {entity_id} "
                                f"(use {domain}.{call.name} or homeassistant.{call.name})",
                            )
                        )
        for area_id in call.target.area_id:
            if not _templated(area_id) and area_id != "all" and area_id not in catalog.areas:
                errors.append(ErrorItem(f"{path}.target.area_id", f"area {area_id} does not exist in this home"))
        for device_id in call.target.device_id:
            if not _templated(device_id) and device_id not in catalog.devices:
                errors.append(ErrorItem(f"{path}.target.device_id", f"device {device_id} does not exist in this home"))
    for path, action in automation.all_actions():
        if isinstance(action, SceneAction) and not action.scene.startswith("scene."):
            errors.append(ErrorItem(f"{path}.scene", f"{action.scene} is not a scene"))
    return errors
