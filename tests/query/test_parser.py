"""The offline parser and the catalog index on the labelled homes: plans, questions, answers (ms each)."""

from __future__ import annotations

from homeiq_ai.query.parsing.parser import parse_request
from homeiq_ai.query.resolution.index import Catalog, CatalogArea, CatalogEntity, CatalogIndex
from query.catalogs import home_index


def _config(text: str, home: str = "synthetic_family", answers: dict[str, str] | None = None) -> dict:
    result = parse_request(text, home_index(home), answers)
    assert not result.questions, [q.text for q in result.questions]
    assert len(result.plans) == 1
    return result.plans[0].automation.to_config()


def test_sunset_on_weekdays() -> None:
    """'porch light on at sunset on weekdays' -> sun trigger, weekday condition, light.turn_on porch."""
    cfg = _config("porch light on at sunset on weekdays")
    assert cfg["trigger"] == [{"platform": "sun", "event": "sunset"}]
    assert cfg["condition"] == [{"condition": "time", "weekday": ["mon", "tue", "wed", "thu", "fri"]}]
    assert cfg["action"] == [{"service": "light.turn_on", "target": {"entity_id": "light.porch"}}]
    assert set(cfg) >= {"alias", "trigger", "condition", "action", "mode"}


def test_motion_after_dark_with_delay_then_off() -> None:
    """Motion in an area, a sun condition, on, a delay of 5 minutes, off again; mode restart."""
    cfg = _config(
        "when motion is detected in the hallway after dark turn on the hallway light and turn it off after 5 minutes"
    )
    assert cfg["trigger"] == [{"platform": "state", "entity_id": "binary_sensor.hallway_motion", "to": "on"}]
    assert cfg["condition"] == [{"condition": "state", "entity_id": "sun.sun", "state": "below_horizon"}]
    services = [a.get("service", "delay") for a in cfg["action"]]
    assert services == ["light.turn_on", "delay", "light.turn_off"]
    assert cfg["mode"] == "restart"


def test_nobody_home_without_a_trigger_asks_for_one() -> None:
    """Conditions and an action but no trigger: a `no_trigger` question with concrete options, no plan."""
    result = parse_request(
        "if nobody is home and the temperature is above 25 close the living room blinds", home_index("synthetic_family")
    )
    assert not result.plans
    ids = {q.id for q in result.questions}
    assert "no_trigger" in ids
    question = next(q for q in result.questions if q.id == "no_trigger")
    assert question.options and all(i and label for i, label in question.options)


def test_answer_to_no_trigger_plans() -> None:
    """Answering the trigger question with an option id gives the plan (and no question again)."""
    text = "when nobody is home and the living room temperature goes above 25 close the living room blinds"
    cfg = _config(text)
    assert cfg["trigger"][0]["platform"] == "numeric_state"
    assert cfg["condition"][0]["state"] == "not_home"
    result = parse_request("turn on the basement light", home_index("synthetic_family"), {"no_trigger": "sunset"})
    assert not result.questions and result.plans[0].automation.to_config()["trigger"][0]["event"] == "sunset"


def test_ambiguous_time_asks_am_or_pm_and_takes_the_answer() -> None:
    """'at 7' asks; answered 19:00 it plans at 19:00."""
    result = parse_request("at 7 turn on the bedroom ceiling light", home_index("synthetic_family"))
    question = next(q for q in result.questions if q.id.startswith("time_"))
    assert [o for o, _ in question.options] == ["07:00:00", "19:00:00"]
    cfg = _config("at 7 turn on the bedroom ceiling light", answers={question.id: "19:00:00"})
    assert cfg["trigger"] == [{"platform": "time", "at": "19:00:00"}]


def test_security_sensitive_actions_ask_first() -> None:
    """Unlock and opening the garage ask for a yes; `no` drops the action, `yes` keeps it."""
    index = home_index("synthetic_family")
    result = parse_request("at 7:30am open the garage door", index)
    question = next(q for q in result.questions if q.id.startswith("confirm_"))
    assert {o for o, _ in question.options} == {"yes", "no"}
    assert not result.plans or result.plans[0].confidence < 1
    yes = parse_request("at 7:30am open the garage door", index, {question.id: "yes"})
    assert not yes.questions and yes.plans[0].automation.to_config()["action"][0]["service"] == "cover.open_cover"
    unlock = parse_request("when tom arrives home unlock the front door", index)
    assert any(q.id.startswith("confirm_lock_unlock") for q in unlock.questions)


def test_area_target_typo_and_notification() -> None:
    """Plural domain words target the area; a typo still resolves; a message stays inert text."""
    cfg = _config("at 10pm turn off the kitchen lights")
    assert cfg["action"] == [{"service": "light.turn_off", "target": {"area_id": "kitchen"}}]
    assert _config("turn on the porch lihgt at sunset")["action"][0]["target"] == {"entity_id": "light.porch"}
    cfg = _config("when the dishwasher power drops below 5 send a notification saying {{ states('lock.x') }} done")
    message = cfg["action"][0]["data"]["message"]
    assert message.startswith("{% raw %}") and "{{ states('lock.x') }}" in message


def test_two_names_alike_ask_which() -> None:
    """'the bedroom light' (ceiling or bedside) asks which, with both as options and the whole area."""
    result = parse_request("at 9pm turn on the bedroom light", home_index("synthetic_family"))
    question = next(q for q in result.questions if q.id.startswith("entity_"))
    ids = [o for o, _ in question.options]
    assert "light.bedroom_ceiling" in ids and "light.bedroom_bedside" in ids and "area:bedroom" in ids
    cfg = _config("at 9pm turn on the bedroom light", answers={question.id: "light.bedroom_bedside"})
    assert cfg["action"][0]["target"] == {"entity_id": "light.bedroom_bedside"}


def test_a_plan_the_person_chose_the_device_of_is_confident() -> None:
    """Once the person picked the device (or the area), the plan is as sure as an exact name: not 0."""
    text = "at 9pm turn on the bedroom light"
    question = next(q for q in parse_request(text, home_index("synthetic_family")).questions)
    for answer in ("light.bedroom_bedside", "area:bedroom"):
        result = parse_request(text, home_index("synthetic_family"), {question.id: answer})
        assert not result.questions
        assert result.confidence == 1.0 and result.plans[0].confidence == 1.0, answer


def test_nonsense_asks_politely() -> None:
    """Words that name nothing give no plan and a `no_trigger` question, never an exception."""
    result = parse_request("blorp the wibble", home_index("ha_demo"))
    assert not result.plans and any(q.id == "no_trigger" for q in result.questions)


def test_index_of_3000_entities_resolves_by_name_and_typo() -> None:
    """A 3,000-entity home: exact names, area plurals and typos resolve from the one index."""
    areas = [CatalogArea(area_id=f"room_{i}", name=f"Room {i}") for i in range(300)]
    entities = [
        CatalogEntity(entity_id=f"light.room_{i}_lamp_{j}", name=f"Room {i} Lamp {j}", area_id=f"room_{i}")
        for i in range(300)
        for j in range(10)
    ]
    entities[-1] = CatalogEntity(entity_id="light.porch", name="Porch Light", area_id="room_299")
    index = CatalogIndex(Catalog(entities=entities, areas=areas))
    assert index.resolve("room 17 lamp 3", ("light",)).entity_ids == ["light.room_17_lamp_3"]
    hit = index.resolve("room 17 lights", ("light",))
    assert (hit.kind, hit.area_id) == ("area", "room_17")
    assert index.resolve("porhc light", ("light",)).entity_ids == ["light.porch"]
    near = index.resolve("rooom 171 lamp 3", ("light",))  # many names one digit apart: ask, never guess
    assert (near.kind == "entity" and near.entity_ids == ["light.room_171_lamp_3"]) or near.kind == "ambiguous"
    assert index.version == CatalogIndex(Catalog(entities=entities, areas=areas)).version


def test_all_the_lights_means_every_light_and_the_lights_offers_all_of_them() -> None:
    """'all the lights' targets each light; 'the lights' asks which, with 'all of them' as an option."""
    every = _config("turn off all the lights at 11pm", home="ha_demo")
    targets = every["action"][0]["target"]["entity_id"]
    assert len(targets) == 6 and all(t.startswith("light.") for t in targets)
    question = parse_request("turn on the lights at 7am", home_index("ha_demo")).questions[0]
    assert ("all", "all of them (6)") in question.options
    chosen = _config("turn on the lights at 7am", home="ha_demo", answers={question.id: "all"})
    assert chosen["action"][0]["target"]["entity_id"] == targets
    # One light said by name stays that one light.
    assert _config("turn on the kitchen lights at 7am", home="ha_demo")["action"][0]["target"] == {
        "entity_id": "light.kitchen_lights"
    }
