"""kernel/haconfig: both syntaxes parse to one model, render is 2024.3 syntax, errors name line and key."""

from __future__ import annotations

import json

import pytest
import yaml

from homeiq_ai.kernel.haconfig import (
    Automation,
    ChooseAction,
    DelayAction,
    HaConfigError,
    NumericStateTrigger,
    RepeatAction,
    SceneAction,
    ServiceAction,
    StateCondition,
    StateTrigger,
    SunCondition,
    SunTrigger,
    Target,
    TimeCondition,
    TimeTrigger,
    inert_text,
    parse_automation,
    parse_text,
    render_yaml,
    slugify,
)

OLD_SYNTAX = """\
- id: "1701"
  alias: Hallway light on motion
  description: Turn the hallway light on when motion is seen after dark
  mode: restart
  trigger:
    - platform: state
      entity_id: binary_sensor.hallway_motion
      to: "on"
    - platform: numeric_state
      entity_id: sensor.hallway_lux
      below: 20
      for: "00:02:00"
  condition:
    - condition: sun
      after: sunset
      after_offset: "-00:30:00"
    - condition: time
      weekday: [mon, tue, wed, thu, fri]
  action:
    - service: light.turn_on
      target:
        entity_id: light.hallway
      data:
        brightness_pct: 60
    - wait_for_trigger:
        - platform: state
          entity_id: binary_sensor.hallway_motion
          to: "off"
          for: {minutes: 5}
    - service: light.turn_off
      target:
        entity_id: light.hallway
"""

NEW_SYNTAX = """\
- id: "1701"
  alias: Hallway light on motion
  description: Turn the hallway light on when motion is seen after dark
  mode: restart
  triggers:
    - trigger: state
      entity_id: binary_sensor.hallway_motion
      to: "on"
    - trigger: numeric_state
      entity_id: sensor.hallway_lux
      below: 20
      for: 120
  conditions:
    - condition: sun
      after: sunset
      after_offset: "-00:30:00"
    - condition: time
      weekday: [mon, tue, wed, thu, fri]
  actions:
    - action: light.turn_on
      target:
        entity_id: light.hallway
      data:
        brightness_pct: 60
    - wait_for_trigger:
        - trigger: state
          entity_id: binary_sensor.hallway_motion
          to: "off"
          for: "00:05:00"
    - action: light.turn_off
      entity_id: light.hallway
"""


def test_both_syntaxes_give_the_same_model() -> None:
    """The 2024.3 and 2024.10+ syntax of one automation parse to equal models."""
    (old,) = parse_text(OLD_SYNTAX)
    (new,) = parse_text(NEW_SYNTAX)
    assert old == new
    assert isinstance(old.triggers[0], StateTrigger) and old.triggers[0].to == "on"
    assert isinstance(old.triggers[1], NumericStateTrigger) and old.triggers[1].for_ == 120
    assert isinstance(old.conditions[0], SunCondition) and old.conditions[0].after_offset == -1800
    assert old.trigger_entities() == ["binary_sensor.hallway_motion", "sensor.hallway_lux"]
    assert old.target_entities() == ["light.hallway"]


def test_render_is_2024_3_syntax_in_a_fixed_order() -> None:
    """Rendered YAML uses trigger/condition/action, platform: and service:, keys in a fixed order."""
    (automation,) = parse_text(NEW_SYNTAX)
    text = render_yaml(automation)
    data = yaml.safe_load(text)
    assert list(data) == ["id", "alias", "description", "mode", "trigger", "condition", "action"]
    assert data["trigger"][0] == {"platform": "state", "entity_id": "binary_sensor.hallway_motion", "to": "on"}
    assert data["trigger"][1]["for"] == "00:02:00"
    assert data["condition"][0] == {"condition": "sun", "after": "sunset", "after_offset": "-00:30:00"}
    assert data["action"][0]["service"] == "light.turn_on"
    assert data["action"][2] == {"service": "light.turn_off", "target": {"entity_id": "light.hallway"}}
    for plural in ("triggers:", "conditions:\n", "actions:", "- trigger:", "- action:"):
        assert plural not in text
    # Rendering what was parsed from the rendering changes nothing.
    (again,) = parse_text(text)
    assert again == automation
    assert render_yaml(again) == text


def test_json_and_a_single_mapping_are_accepted() -> None:
    """JSON text and one bare mapping parse like YAML lists do."""
    (automation,) = parse_text(OLD_SYNTAX)
    as_json = json.dumps(automation.to_config())
    assert parse_text(as_json) == [automation]
    assert parse_automation(automation.to_config()) == automation


def test_clock_times_and_bare_on_off_survive_yaml_1_1() -> None:
    """`at: 07:30` and `to: on` unquoted mean what a person wrote, and rendering quotes them."""
    (automation,) = parse_text(
        "alias: Morning\ntrigger:\n  - platform: time\n    at: 12:30\n  - platform: state\n"
        "    entity_id: switch.kettle\n    to: on\naction:\n  - service: switch.turn_off\n"
        "    target: {entity_id: switch.kettle}\n"
    )
    assert isinstance(automation.triggers[0], TimeTrigger) and automation.triggers[0].at == ["12:30:00"]
    assert automation.triggers[1].to == "on"  # type: ignore[union-attr]
    text = render_yaml(automation)
    assert "at: '12:30:00'" in text and "to: 'on'" in text
    assert yaml.safe_load(text)["trigger"][0]["at"] == "12:30:00"


@pytest.mark.parametrize(
    ("text", "line", "path", "words"),
    [
        ("alias: x\ntrigger:\n  - platform: teleport\naction:\n  - delay: 1\n", 3, "trigger[0].platform", "teleport"),
        ("alias: x\naction:\n  - delay: 1\n", None, "trigger", "required key 'trigger'"),
        ("alias: x\ntriggers: []\ntrigger: []\naction: []\n", 2, "triggers", "keep one"),
        (
            "- alias: a\n  trigger: {platform: sun, event: sunset}\n  action: [{delay: 1}]\n"
            "- alias: b\n  trigger:\n    - platform: state\n      entity_id: Not An Entity\n  action: [{delay: 1}]\n",
            7,
            "[1].trigger[0].entity_id[0]",
            "not an entity id",
        ),
        (
            "alias: x\ntrigger: {platform: sun, event: sunset}\naction:\n  - service: light.turn_on\n"
            "    target:\n      floor_id: upstairs\n",
            6,
            "action[0].target.floor_id",
            "2024.4",
        ),
        ("alias: x\ntrigger: {platform: sun, event: dusk}\naction: [{delay: 1}]\n", 2, "trigger[0].event", "dusk"),
        ("alias: x\ntrigger: {platform: sun, event: sunset}\naction:\n  - launch: rocket\n", 4, "action[0]", "launch"),
        ("alias: x\n  bad: indent\n", 2, "", "not valid YAML"),
        ("alias: !!python/object:os.system x\n", 1, "", "not accepted"),
        ("alias: !secret name\n", 1, "", "!secret"),
    ],
)
def test_errors_name_the_line_and_the_key(text: str, line: int | None, path: str, words: str) -> None:
    """A malformed automation is an HaConfigError that says where and what."""
    with pytest.raises(HaConfigError) as caught:
        parse_text(text)
    error = caught.value
    assert words.lower() in str(error).lower()
    assert error.path == path
    if line is not None:
        assert error.line == line


def test_actions_people_use_round_trip() -> None:
    """Choose, repeat, scenes, notifications and delays keep their meaning through render and parse."""
    automation = Automation(
        alias="Evening",
        triggers=[SunTrigger(event="sunset", offset=-900)],
        conditions=[TimeCondition(after="17:00:00", before="23:00:00", weekday=["sat", "sun"])],
        actions=[
            SceneAction(scene="scene.evening"),
            ServiceAction(
                service="notify.notify", data={"message": inert_text("Lights on {{ states('lock.front') }}")}
            ),
            DelayAction(delay=3600),
            ChooseAction(
                options=[],
                default=[ServiceAction(service="light.turn_off", target=Target(area_id=["living_room"]))],
            ),
            RepeatAction(
                count=3,
                sequence=[ServiceAction(service="light.toggle", target=Target(entity_id=["light.porch"]))],
            ),
        ],
    )
    automation.actions[3].options = [  # type: ignore[union-attr]
        __import__("homeiq_ai.kernel.haconfig", fromlist=["ChooseOption"]).ChooseOption(
            conditions=[StateCondition(entity_id=["media_player.tv"], state="playing")],
            sequence=[
                ServiceAction(
                    service="light.turn_on", target=Target(area_id=["living_room"]), data={"brightness_pct": 20}
                )
            ],
        )
    ]
    (again,) = parse_text(render_yaml(automation))
    assert again == automation
    assert [p for p, _ in again.service_calls()] == [
        "action[1]",
        "action[3].choose[0].sequence[0]",
        "action[3].default[0]",
        "action[4].repeat.sequence[0]",
    ]


def test_inert_text_keeps_templates_as_text() -> None:
    """Jinja markers in people's words are wrapped in a raw block; plain words are untouched."""
    assert inert_text("plain words") == "plain words"
    wrapped = inert_text("{{ 7*7 }} {% endraw %}")
    assert wrapped.startswith("{% raw %}") and wrapped.endswith("{% endraw %}")
    assert "{{ 7*7 }}" in wrapped


def test_slugify_matches_home_assistant_entity_ids() -> None:
    """The alias slug is what Home Assistant makes the automation's object id from."""
    assert slugify("Porch light at sunset") == "porch_light_at_sunset"
    assert slugify("Küche: Licht  an!") == "kuche_licht_an"
    assert slugify("***") == "unnamed"
