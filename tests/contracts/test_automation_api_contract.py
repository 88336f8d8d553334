"""The AutomationApi contract, run against LocalAutomationApi and HttpAutomationApi with the same assertions.

Without Home Assistant here; the deploy/disable/roll back/delete half of the contract runs against a real
Home Assistant in tests/integration/homeassistant/test_automation_api_contract.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from litestar.testing import AsyncTestClient

from factories import STANDARD_PATTERNS, seed_patterns
from homeiq_ai.app import create_app
from homeiq_ai.automation.api import (
    AutomationApi,
    AutomationNotFoundError,
    DeployRequest,
    EditSuggestionRequest,
    GenerateRequest,
    HomeAssistantNotConfiguredError,
    InvalidAutomationError,
    InvalidSuggestionStateError,
    ManualSuggestionRequest,
    SuggestionNotFoundError,
    ValidateRequest,
    ValidationAnswer,
)
from homeiq_ai.automation.client import HttpAutomationApi
from homeiq_ai.kernel.db import Database
from homeiq_ai.kernel.homedata.model import Entity, Event
from homeiq_ai.kernel.homedata.store import HomeStore
from homeiq_ai.kernel.service_client import ServiceClients
from homeiq_ai.settings import Settings

HAND_WRITTEN = """\
alias: Hall light with the door
trigger:
  - platform: state
    entity_id: binary_sensor.front_door
    to: "on"
action:
  - service: light.turn_on
    target:
      entity_id: light.hall
"""
ENTITIES = ["binary_sensor.front_door", "light.hall", "light.living_room_lamp", "switch.fan", "light.bedroom"]


async def _seed_home(database_url: str) -> None:
    """The entities the automations name, and ten evenings of: door opens, someone turns the hall light on."""
    db = Database(database_url)
    try:
        store = HomeStore(db)
        await store.upsert_entities(Entity(entity_id=e, domain=e.split(".")[0]) for e in ENTITIES)
        start = datetime(2026, 11, 1, 17, 0, tzinfo=UTC)
        events = []
        for day in range(10):
            t = start + timedelta(days=day)
            events += [
                Event(entity_id="binary_sensor.front_door", old_state="off", new_state="on", time=t),
                Event(entity_id="light.hall", old_state="off", new_state="on", time=t + timedelta(seconds=40)),
                Event(
                    entity_id="binary_sensor.front_door", old_state="on", new_state="off", time=t + timedelta(minutes=1)
                ),
                Event(entity_id="light.hall", old_state="on", new_state="off", time=t + timedelta(hours=2)),
            ]
        # Two openings nobody followed with the light.
        events.append(
            Event(
                entity_id="binary_sensor.front_door",
                old_state="off",
                new_state="on",
                time=start + timedelta(days=3, hours=5),
            )
        )
        events.append(
            Event(
                entity_id="binary_sensor.front_door",
                old_state="on",
                new_state="off",
                time=start + timedelta(days=3, hours=5, minutes=1),
            )
        )
        await store.insert_events(events)
    finally:
        await db.dispose()


@pytest.fixture(params=["local", "http"])
async def automation_api(
    request: pytest.FixtureRequest, settings: Settings, database_url: str
) -> AsyncIterator[AutomationApi]:
    """The automation api in-process or over HTTP (no Home Assistant configured), on a seeded home."""
    await _seed_home(database_url)
    await seed_patterns(database_url, STANDARD_PATTERNS)
    app = create_app(settings, ["pattern", "query", "automation"])
    async with AsyncTestClient(app=app):
        if request.param == "local":
            yield app.state.local_apis["automation"]
            return
        services = ServiceClients({"automation": "http://automation.test"}, transport=httpx.ASGITransport(app=app))
        try:
            yield HttpAutomationApi(services.service("automation"))
        finally:
            await services.aclose()


async def test_validate_answers_typed_findings(automation_api: AutomationApi) -> None:
    """A good automation is valid; a missing entity, a forbidden service and broken YAML are named with a path."""
    good = await automation_api.validate(ValidateRequest(yaml=HAND_WRITTEN))
    assert isinstance(good, ValidationAnswer)
    assert [(r.alias, r.valid, r.errors) for r in good.results] == [("Hall light with the door", True, [])]
    bad = HAND_WRITTEN.replace("light.hall", "light.nowhere").replace("light.turn_on", "shell_command.wipe")
    answer = await automation_api.validate(ValidateRequest(yaml=bad))
    (result,) = answer.results
    assert not result.valid
    assert any("light.nowhere" in e.message for e in result.errors)
    assert any(f.severity == "critical" and f.rule for f in result.safety.findings)
    broken = await automation_api.validate(ValidateRequest(yaml="alias: x\ntrigger: [\n"))
    assert not broken.results[0].valid and broken.results[0].errors[0].message
    two = await automation_api.validate(
        ValidateRequest(
            yaml=f"- {HAND_WRITTEN.replace(chr(10), chr(10) + '  ')}\n- {HAND_WRITTEN.replace(chr(10), chr(10) + '  ')}"
        )
    )
    assert len(two.results) == 2 and any(c.kind == "duplicate" for c in two.conflicts)
    assert (await automation_api.audit()).results == []  # no Home Assistant: nothing of its own to audit


async def test_manual_edit_backtest_and_entity_filter(automation_api: AutomationApi) -> None:
    """A hand-written one is validated and backtested; edit validates again; the entity filter and errors."""
    created = await automation_api.create_suggestion(ManualSuggestionRequest(yaml=HAND_WRITTEN))
    assert created.source == "manual" and created.validation and created.validation["valid"]
    assert created.automation_id is None
    bt = created.backtest
    assert bt is not None and (bt["fired"], bt["matched"], bt["unmatched"]) == (11, 10, 1), bt
    assert created.rank_score == pytest.approx(round(1.0 * (0.5 + 0.5 * bt["agreement"]), 4))
    edited = await automation_api.edit_suggestion(
        created.id, EditSuggestionRequest(yaml=HAND_WRITTEN.replace("light.hall", "light.bedroom"))
    )
    assert "light.bedroom" in (edited.yaml or "") and edited.entity_ids == ["binary_sensor.front_door", "light.bedroom"]
    assert edited.backtest is not None and edited.backtest["matched"] == 0
    with pytest.raises(InvalidAutomationError):
        await automation_api.edit_suggestion(created.id, EditSuggestionRequest(yaml="alias: x\ntrigger: ["))
    with pytest.raises(SuggestionNotFoundError):
        await automation_api.edit_suggestion("nope", EditSuggestionRequest(yaml=HAND_WRITTEN))
    await automation_api.generate_suggestions(GenerateRequest(source="patterns"))
    by_entity = await automation_api.list_suggestions(entity="light.hall")
    assert {s.source for s in by_entity.items} == {"pattern"}  # the manual one now drives the bedroom light
    assert all("light.hall" in s.entity_ids for s in by_entity.items) and by_entity.total == len(by_entity.items)
    assert (await automation_api.list_suggestions(source="manual", entity="light.hall")).total == 0
    await automation_api.reject_suggestion(created.id, "not now")
    with pytest.raises(InvalidSuggestionStateError):
        await automation_api.edit_suggestion(created.id, EditSuggestionRequest(yaml=HAND_WRITTEN))


async def test_automations_without_home_assistant(automation_api: AutomationApi) -> None:
    """Nothing deployed yet: empty lists, AutomationNotFoundError for every action; deploy needs HA."""
    assert (await automation_api.list_automations()).total == 0
    page = await automation_api.list_deployments(limit=10, offset=0)
    assert (page.items, page.total, page.limit, page.offset) == ([], 0, 10, 0)
    for call in (
        automation_api.get_automation("nope"),
        automation_api.enable_automation("nope"),
        automation_api.disable_automation("nope"),
        automation_api.trigger_automation("nope"),
        automation_api.rollback_automation("nope", 1),
        automation_api.delete_automation("nope"),
    ):
        with pytest.raises(AutomationNotFoundError):
            await call
    sid = (await automation_api.create_suggestion(ManualSuggestionRequest(yaml=HAND_WRITTEN))).id
    await automation_api.approve_suggestion(sid)
    with pytest.raises(HomeAssistantNotConfiguredError):
        await automation_api.deploy(DeployRequest(suggestion_id=sid))
    assert (await automation_api.get_suggestion(sid)).status == "approved"
    assert (await automation_api.list_deployments()).total == 0
