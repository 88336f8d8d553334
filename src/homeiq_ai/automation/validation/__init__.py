"""Validation and safety of automations: structure, references, safety rules and conflicts across the set.

A pure library: no database, no network. The automation service builds a HomeCatalog once per home
(`build_catalog` / `catalog_from_store`, with Home Assistant's /api/services when connected),
summarises Home Assistant's automations once (`prepare_existing`) and calls `validate` or
`validate_text`. The report's `to_dict()` is the answer of POST /api/v1/automations/validate.
"""

from __future__ import annotations

from collections.abc import Sequence

from homeiq_ai.automation.validation.catalog import (
    BUILTIN_SERVICES,
    GENERIC_SERVICES,
    HomeCatalog,
    build_catalog,
    catalog_from_store,
)
from homeiq_ai.automation.validation.conflicts import ExistingSet, find_conflicts, prepare_existing, summarise
from homeiq_ai.automation.validation.references import check_references
from homeiq_ai.automation.validation.result import (
    AutomationRef,
    AutomationResult,
    Conflict,
    ErrorItem,
    Finding,
    SafetyReport,
    ValidationReport,
)
from homeiq_ai.automation.validation.safety import check_safety
from homeiq_ai.kernel.haconfig import Automation, HaConfigError, parse_text

__all__ = [
    "BUILTIN_SERVICES",
    "GENERIC_SERVICES",
    "AutomationRef",
    "AutomationResult",
    "Conflict",
    "ErrorItem",
    "ExistingSet",
    "Finding",
    "HomeCatalog",
    "SafetyReport",
    "ValidationReport",
    "build_catalog",
    "catalog_from_store",
    "check_references",
    "check_safety",
    "prepare_existing",
    "validate",
    "validate_one",
    "validate_text",
]


def _structure_error(error: HaConfigError) -> AutomationResult:
    return AutomationResult(
        alias="",
        valid=False,
        errors=[ErrorItem(error.path or "automation", error.message, error.line)],
        safety=SafetyReport(0, [Finding("structure", "critical", "the automation could not be read", error.path)]),
    )


def validate_one(automation: Automation, catalog: HomeCatalog, *, confirmed: bool = False) -> AutomationResult:
    """Layers 2 and 3 for one parsed automation (no conflicts)."""
    errors = check_references(automation, catalog)
    safety = check_safety(automation, catalog, confirmed=confirmed)
    return AutomationResult(alias=automation.alias, valid=not errors, errors=errors, safety=safety, id=automation.id)


def validate(
    items: Sequence[Automation | HaConfigError],
    catalog: HomeCatalog,
    existing: Sequence[Automation] | ExistingSet = (),
    *,
    confirmed: bool = False,
) -> ValidationReport:
    """Validate automations against a home and against each other and Home Assistant's automations.

    Args:
        items: Parsed automations, or the HaConfigError a text produced (reported as a structure error).
        catalog: The home (build_catalog).
        existing: Home Assistant's automations, or an ExistingSet made once by prepare_existing. An
            existing automation with the same `id` as a checked one is its older version and is skipped.
        confirmed: The person explicitly confirmed opening actions (unlock, disarm, garage/gate open).

    Returns:
        The ValidationReport: one result per item, in order, and the conflicts across the set.
    """
    results: list[AutomationResult] = []
    summaries = []
    for index, item in enumerate(items):
        if isinstance(item, HaConfigError):
            results.append(_structure_error(item))
            continue
        results.append(validate_one(item, catalog, confirmed=confirmed))
        summaries.append(summarise(item, AutomationRef(item.alias, item.id, "checked", index)))
    ids = {s.ref.id for s in summaries if s.ref.id}
    if isinstance(existing, ExistingSet):
        prepared = existing
        if ids and any(s.ref.id in ids for s in prepared.summaries):
            prepared = ExistingSet([s for s in existing.summaries if s.ref.id not in ids], {}, {}, {})
    else:
        prepared = prepare_existing([a for a in existing if not (a.id and a.id in ids)])
    return ValidationReport(results, find_conflicts(summaries, prepared))


def validate_text(
    text: str,
    catalog: HomeCatalog,
    existing: Sequence[Automation] | ExistingSet = (),
    *,
    confirmed: bool = False,
) -> ValidationReport:
    """Parse pasted YAML/JSON (one automation or a list) and validate it; a parse error is one invalid result."""
    try:
        items: list[Automation | HaConfigError] = list(parse_text(text))
    except HaConfigError as error:
        items = [error]
    return validate(items, catalog, existing, confirmed=confirmed)
