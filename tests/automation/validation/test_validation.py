"""Validation layers on a small synthetic home: references fail closed, safety rules, conflicts across the set."""

from __future__ import annotations

import msgspec

from homeiq_ai.automation.validation import (
    build_catalog,
    prepare_existing,
    validate,
    validate_text,
)
from homeiq_ai.kernel.haconfig import parse_text
from homeiq_ai.kernel.homedata.model import Area, Device, Entity

ENTITIES = [
    Entity(entity_id="light.kitchen", domain="light", area_id="kitchen"),
    Entity(entity_id="light.hall", domain="light", area_id="hall"),
    Entity(entity_id="switch.x", domain="switch"),
    Entity(entity_id="binary_sensor.hall_motion", domain="binary_sensor", device_class="motion"),
    Entity(entity_id="lock.front_door", domain="lock"),
    Entity(entity_id="cover.garage", domain="cover", device_class="garage"),
    Entity(entity_id="cover.blind", domain="cover", device_class="shade"),
    Entity(entity_id="sensor.lux", domain="sensor", device_class="illuminance"),
]
CATALOG = build_catalog(
    ENTITIES,
    [Area(area_id="kitchen", name="Kitchen"), Area(area_id="hall", name="Hall")],
    [Device(device_id="dev1", name="Hub")],
)


def one(text: str, **kw):
    report = validate_text(text, CATALOG, **kw)
    assert len(report.results) == 1
    return report.results[0]


def auto(alias: str, trigger: str, action: str, extra: str = "") -> str:
    return f"alias: {alias}\n{extra}trigger:\n{trigger}\naction:\n{action}\n"


MOTION = "  - platform: state\n    entity_id: binary_sensor.hall_motion\n    to: 'on'"


def call(service: str, entity: str) -> str:
    return f"  - service: {service}\n    target:\n      entity_id: {entity}"


def test_a_good_automation_is_valid_and_scores_100() -> None:
    result = one(auto("Hall light", MOTION, call("light.turn_on", "light.hall")))
    assert result.valid and result.errors == []
    assert result.safety.score == 100 and result.safety.findings == []


def test_unknown_entity_and_unknown_service_fail_closed() -> None:
    missing = one(auto("A", MOTION, call("light.turn_on", "light.does_not_exist")))
    assert not missing.valid
    assert [(e.path, "light.does_not_exist" in e.message) for e in missing.errors] == [
        ("action[0].target.entity_id", True)
    ]
    explode = one(auto("B", MOTION, call("light.explode", "light.hall")))
    assert not explode.valid
    assert explode.errors[0].path == "action[0].service" and "light.explode" in explode.errors[0].message


def test_service_of_another_domain_is_flagged_but_homeassistant_generic_is_not() -> None:
    wrong = one(auto("A", MOTION, call("light.turn_on", "switch.x")))
    assert not wrong.valid and "switch.x" in wrong.errors[0].message
    generic = one(auto("B", MOTION, call("homeassistant.turn_on", "switch.x")))
    assert generic.valid


def test_areas_and_devices_must_exist() -> None:
    text = auto(
        "A", MOTION, "  - service: light.turn_on\n    target:\n      area_id: [kitchen, attic]\n      device_id: nope"
    )
    result = one(text)
    assert sorted(e.path for e in result.errors) == ["action[0].target.area_id", "action[0].target.device_id"]
    assert "attic" in " ".join(e.message for e in result.errors)


def test_parse_error_is_a_structure_error_with_line() -> None:
    result = one("alias: A\ntrigger:\n  - platform: state\n    entity_id: NOT AN ID\naction: []\n")
    assert not result.valid
    assert result.errors[0].path.startswith("trigger[0]") and result.errors[0].line is not None


def test_ha_services_listing_replaces_the_builtin_table() -> None:
    listing = [
        {"domain": "light", "services": {"turn_on": {}, "turn_off": {}}},
        {"domain": "notify", "services": {"mobile_app_phone": {}}},
    ]
    catalog = build_catalog(ENTITIES, services=listing)
    ok = validate_text(auto("N", MOTION, "  - service: notify.mobile_app_phone\n    data:\n      message: hi"), catalog)
    assert ok.results[0].valid
    toggle = validate_text(auto("T", MOTION, call("light.toggle", "light.hall")), catalog)
    assert not toggle.results[0].valid  # this HA has no light.toggle
    builtin = validate_text(
        auto("N", MOTION, "  - service: notify.mobile_app_phone\n    data:\n      message: hi"), CATALOG
    )
    assert not builtin.results[0].valid


def test_forbidden_services_are_critical() -> None:
    shell = one(auto("S", MOTION, "  - service: shell_command.wipe"))
    assert any(f.rule == "forbidden_service" and f.severity == "critical" for f in shell.safety.findings)
    assert shell.safety.critical and shell.safety.score <= 60
    restart = one(auto("R", MOTION, "  - service: homeassistant.restart"))
    assert restart.safety.critical


def test_unlock_needs_confirmation() -> None:
    text = auto("U", MOTION, call("lock.unlock", "lock.front_door"))
    unconfirmed = one(text)
    assert [(f.rule, f.severity) for f in unconfirmed.safety.findings] == [("opens_home", "critical")]
    confirmed = one(text, confirmed=True)
    assert [(f.rule, f.severity) for f in confirmed.safety.findings] == [("opens_home", "warning")]


def test_garage_open_needs_confirmation_but_a_blind_does_not() -> None:
    assert one(auto("G", MOTION, call("cover.open_cover", "cover.garage"))).safety.critical
    assert one(auto("B", MOTION, call("cover.open_cover", "cover.blind"))).safety.findings == []


def test_repeat_delay_time_pattern_and_self_retrigger() -> None:
    actions = (
        "  - repeat:\n      while:\n        - condition: state\n"
        "          entity_id: light.hall\n          state: 'on'\n"
        "      sequence:\n        - delay: '02:00:00'\n" + call("light.toggle", "light.hall")
    )
    trig = "  - platform: time_pattern\n    seconds: '/5'\n  - platform: state\n    entity_id: light.hall"
    rules = sorted(f.rule for f in one(auto("X", trig, actions)).safety.findings)
    assert rules == ["fast_time_pattern", "long_delay", "retriggers_itself", "unbounded_repeat"]


def test_two_automations_in_a_loop() -> None:
    a = auto(
        "A", "  - platform: state\n    entity_id: light.hall\n    to: 'on'", call("light.turn_on", "light.kitchen")
    )
    b = auto(
        "B", "  - platform: state\n    entity_id: light.kitchen\n    to: 'on'", call("light.turn_on", "light.hall")
    )
    report = validate_text(f"- {_indent(a)}\n- {_indent(b)}", CATALOG)
    loops = [c for c in report.conflicts if c.kind == "loop"]
    assert len(loops) == 1
    assert sorted(r.alias for r in loops[0].automations) == ["A", "B"]
    assert sorted(loops[0].entity_ids) == ["light.hall", "light.kitchen"]


def _indent(text: str) -> str:
    return text.replace("\n", "\n  ").rstrip()


def test_opposite_states_on_overlapping_triggers_against_existing() -> None:
    existing = parse_text(
        "id: ha1\nalias: Kitchen off at 7\ntrigger:\n  - platform: time\n    at: '07:05:00'\naction:\n"
        + call("light.turn_off", "light.kitchen")
    )
    new = auto("Kitchen on at 7", "  - platform: time\n    at: '07:00:00'", call("light.turn_on", "light.kitchen"))
    report = validate_text(new, CATALOG, existing)
    [conflict] = report.conflicts
    assert conflict.kind == "opposite_states" and conflict.entity_ids == ["light.kitchen"]
    assert [(r.alias, r.id, r.source) for r in conflict.automations] == [
        ("Kitchen on at 7", None, "checked"),
        ("Kitchen off at 7", "ha1", "existing"),
    ]
    late = auto("Kitchen on at 9", "  - platform: time\n    at: '09:00:00'", call("light.turn_on", "light.kitchen"))
    assert validate_text(late, CATALOG, prepare_existing(existing)).conflicts == []
    weekend = auto(
        "Kitchen on at 7 weekends",
        "  - platform: time\n    at: '07:00:00'",
        call("light.turn_on", "light.kitchen"),
    ).replace("action:", "condition:\n  - condition: time\n    weekday: [sat, sun]\naction:")
    weekday_only = parse_text(
        "alias: Off weekdays\ntrigger:\n  - platform: time\n    at: '07:00:00'\ncondition:\n  - condition: time\n"
        "    weekday: [mon, tue]\naction:\n" + call("light.turn_off", "light.kitchen")
    )
    assert validate_text(weekend, CATALOG, weekday_only).conflicts == []


def test_near_duplicate_and_same_id_is_not_a_conflict_with_itself() -> None:
    text = "id: x1\n" + auto("Hall light", MOTION, call("light.turn_on", "light.hall"))
    existing = parse_text(text.replace("id: x1", "id: ha9").replace("Hall light", "Old hall light"))
    [dup] = validate_text(text, CATALOG, existing).conflicts
    assert dup.kind == "duplicate" and {r.id for r in dup.automations} == {"x1", "ha9"}
    assert validate_text(text, CATALOG, parse_text(text)).conflicts == []


def test_report_is_the_rest_shape() -> None:
    report = validate(parse_text(auto("A", MOTION, call("lock.unlock", "lock.front_door"))), CATALOG)
    data = msgspec.json.decode(msgspec.json.encode(report.to_dict()))
    assert set(data) == {"results", "conflicts"}
    assert set(data["results"][0]) >= {"alias", "valid", "errors", "safety"}
    assert set(data["results"][0]["safety"]["findings"][0]) == {"rule", "severity", "message", "path"}


def test_entities_named_as_values_must_exist() -> None:
    text = auto(
        "A",
        "  - platform: time\n    at: input_datetime.wake\n"
        "  - platform: numeric_state\n    entity_id: sensor.lux\n    below: input_number.dark",
        call("light.turn_on", "light.hall"),
    )
    result = one(text)
    assert sorted(e.path for e in result.errors) == ["trigger[0].at", "trigger[1].below"]
    catalog = build_catalog(
        [
            *ENTITIES,
            Entity(entity_id="input_datetime.wake", domain="input_datetime"),
            Entity(entity_id="input_number.dark", domain="input_number"),
        ]
    )
    assert validate_text(text, catalog).results[0].valid


def test_sun_triggers_overlap_and_a_loop_through_an_existing_automation() -> None:
    sunset = "  - platform: sun\n    event: sunset\n    offset: '-00:10:00'"
    existing = parse_text(
        "id: ha2\nalias: Blind down at sunset\ntrigger:\n  - platform: sun\n    event: sunset\naction:\n"
        + call("cover.close_cover", "cover.blind")
        + "\n"
    ) + parse_text(
        "id: ha3\nalias: Kitchen follows blind\ntrigger:\n  - platform: state\n    entity_id: cover.blind\naction:\n"
        + call("light.turn_on", "light.kitchen")
    )
    new = auto(
        "Blind up at dusk",
        sunset + "\n  - platform: state\n    entity_id: light.kitchen",
        call("cover.open_cover", "cover.blind"),
    )
    kinds = sorted(c.kind for c in validate_text(new, CATALOG, existing).conflicts)
    assert kinds == ["loop", "opposite_states"]
