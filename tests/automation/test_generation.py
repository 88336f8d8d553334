"""Pattern kinds become the automation a person would write, in the 2024.3 syntax."""

from __future__ import annotations

from homeiq_ai.automation.generation import action_for_state, build_from_pattern, build_from_synergy
from homeiq_ai.kernel.haconfig import parse_text, render_yaml


def _config(pattern_type: str, entity_ids: list[str], details: dict, **kw: object) -> dict:
    draft = build_from_pattern(pattern_type, entity_ids, details, **kw)  # type: ignore[arg-type]
    assert draft is not None
    # What we render reads back as the same automation.
    assert parse_text(render_yaml(draft.automation))[0].to_config() == draft.automation.to_config()
    return draft.automation.to_config()


def test_time_of_day_is_a_time_trigger_with_weekdays() -> None:
    """A weekday routine: time trigger at the typical time and a weekday condition."""
    config = _config("time_of_day", ["light.hall"], {"state": "on", "time": "07:05", "weekdays": [0, 1, 2, 3, 4]})
    assert config["trigger"] == [{"platform": "time", "at": "07:05:00"}]
    assert config["condition"] == [{"condition": "time", "weekday": ["mon", "tue", "wed", "thu", "fri"]}]
    assert config["action"] == [{"service": "light.turn_on", "target": {"entity_id": "light.hall"}}]


def test_sun_relative_uses_the_offset() -> None:
    """A sun-relative routine: sun trigger with a signed offset, every day means no condition."""
    details = {
        "state": "on",
        "time": "16:40",
        "weekdays": list(range(7)),
        "sun": {"event": "sunset", "offset_minutes": -20},
    }
    config = _config("time_of_day", ["light.porch"], details)
    assert config["trigger"] == [{"platform": "sun", "event": "sunset", "offset": "-00:20:00"}]
    assert config["condition"] == []


def test_day_type_one_automation_with_the_right_days() -> None:
    """Different times on weekdays and weekends: two time triggers, each only on its days."""
    details = {"state": "on", "kind": "timing", "weekday": {"time": "06:30"}, "weekend": {"time": "09:00"}}
    config = _config("day_type", ["switch.coffee"], details)
    assert [t["at"] for t in config["trigger"]] == ["06:30:00", "09:00:00"]
    assert config["condition"][0]["condition"] == "or"


def test_pairs_chains_and_duration() -> None:
    """Co-occurrence and synergy pairs, 3-step chains, and 'turn off after N minutes'."""
    pair = _config(
        "co_occurrence",
        ["binary_sensor.door", "light.hall"],
        {
            "trigger_entity_id": "binary_sensor.door",
            "trigger_state": "on",
            "response_entity_id": "light.hall",
            "response_state": "on",
        },
    )
    assert pair["trigger"] == [{"platform": "state", "entity_id": "binary_sensor.door", "to": "on"}]
    chain = build_from_synergy(["binary_sensor.m", "light.a", "light.b"], {})
    assert chain is not None and len(chain.automation.actions) == 2
    duration = _config("duration", ["fan.bath"], {"state": "on", "median_minutes": 20})
    assert duration["trigger"][0]["for"] == "00:30:00" and duration["action"][0]["service"] == "fan.turn_off"


def test_first_of_day_has_a_window_and_once_a_day() -> None:
    """First of the day: state trigger, time window, and a constant once-a-day template."""
    details = {
        "edge": "first",
        "entity_id": "binary_sensor.bedroom_door",
        "state": "on",
        "window_start": "06:00",
        "window_end": "08:30",
        "weekdays": [0, 1, 2, 3, 4],
    }
    config = _config(
        "first_last_of_day",
        ["binary_sensor.bedroom_door"],
        details,
        followers={"binary_sensor.bedroom_door": [("light.hall", "on")]},
    )
    assert config["condition"][0] == {
        "condition": "time",
        "after": "06:00:00",
        "before": "08:30:00",
        "weekday": ["mon", "tue", "wed", "thu", "fri"],
    }
    assert "this.attributes.last_triggered" in config["condition"][1]["value_template"]
    assert build_from_pattern("first_last_of_day", ["binary_sensor.bedroom_door"], details) is None


def test_anomaly_notification_keeps_words_inert() -> None:
    """A description with template markers is data in the notification, never a template."""
    config = _config(
        "anomaly",
        ["switch.kettle"],
        {"kind": "unusual_time", "entity_id": "switch.kettle"},
        description="{{ states('lock.front') }}",
    )
    message = config["action"][0]["data"]["message"]
    assert message.startswith("{% raw %}") and config["action"][0]["service"] == "persistent_notification.create"


def test_no_unlocking_and_unknown_states_are_skipped() -> None:
    """Unlocking is never suggested; a state no service sets gives no automation."""
    assert action_for_state("lock.front", "unlocked") is None
    assert build_from_pattern("time_of_day", ["sensor.t"], {"state": "21.5", "time": "07:00"}) is None


def test_reasons_use_friendly_names_and_device_classes() -> None:
    """A door opens, a motion sensor detects motion, a lock locks; friendly names where the home has them."""
    from homeiq_ai.automation.generation import Wording

    wording = Wording(
        names={"binary_sensor.front_door": "Front Door", "light.hall": "Hall Light"},
        device_classes={"binary_sensor.front_door": "door", "binary_sensor.hall_motion": "motion"},
    )
    pair = build_from_pattern(
        "co_occurrence",
        ["binary_sensor.front_door", "light.hall"],
        {"trigger_entity_id": "binary_sensor.front_door", "response_entity_id": "light.hall"},
        wording=wording,
    )
    assert pair is not None
    assert pair.description == "When Front Door opens, turns on Hall Light, as you usually do by hand."
    chain = build_from_synergy(["binary_sensor.hall_motion", "light.hall", "lock.front_door"], {}, wording)
    assert chain is not None and chain.description.startswith("When hall motion detects motion, does the rest")
    timed = build_from_pattern("time_of_day", ["lock.front_door"], {"state": "locked", "time": "23:00"})
    assert timed is not None and timed.description == "Locks front door at 23:00, as the home usually does."
    # Without a wording the entity ids are the words; a state is never blank in a sentence.
    plain = build_from_synergy(["binary_sensor.front_door", "light.hall"], {})
    assert (
        plain is not None and plain.description == "When front door turns on, turns on hall, as you usually do by hand."
    )
    for draft in (pair, chain, timed, plain):
        assert "  " not in draft.description and " to ." not in draft.description and "''" not in draft.description


def test_state_phrases_follow_the_device_class() -> None:
    """The kernel's phrases: by class for binary sensors, by domain for word states, never blank."""
    from homeiq_ai.kernel.phrases import action_phrase, state_phrase

    assert state_phrase("binary_sensor.x", "on", "motion") == "detects motion"
    assert state_phrase("binary_sensor.x", "off", "window") == "closes"
    assert state_phrase("binary_sensor.x", "on", None) == "turns on"
    assert state_phrase("person.anna", "not_home") == "leaves home"
    assert state_phrase("sensor.x", "") == "changes state"
    assert state_phrase("input_select.mode", "away") == "changes to 'away'"
    assert action_phrase("cover.garage", "closed", "Garage") == "closes Garage"
    assert action_phrase("vacuum.robo", "docked", "Robo") == "sends Robo back to its dock"
    assert action_phrase("input_select.mode", "away", "Mode") == "sets Mode to 'away'"
