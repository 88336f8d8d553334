"""Backtest on hand-built histories with known answers: triggers, conditions, matching by hand, misses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from homeiq_ai.automation.backtest import History, backtest
from homeiq_ai.kernel.haconfig import parse_text
from homeiq_ai.kernel.homedata.model import Event
from homeiq_ai.kernel.sun import sun_times

TZ = "Europe/Berlin"
BERLIN = ZoneInfo(TZ)
START = datetime(2026, 3, 2, tzinfo=BERLIN).astimezone(UTC)  # a Monday, local midnight
END = START + timedelta(days=10)


def local(day: int, hh: int, mm: int) -> datetime:
    return datetime(2026, 3, 2 + day, hh, mm, tzinfo=BERLIN).astimezone(UTC)


def ev(entity: str, old: str | None, new: str, at: datetime) -> Event:
    return Event(entity_id=entity, old_state=old, new_state=new, time=at)


def one(text: str):
    [automation] = parse_text(text)
    return automation


def time_auto(at: str, service: str = "light.turn_on", extra: str = "") -> object:
    return one(
        f"alias: T\ntrigger:\n  - platform: time\n    at: '{at}'\n{extra}action:\n"
        f"  - service: {service}\n    target:\n      entity_id: light.kitchen\n"
    )


def test_time_trigger_matches_hand_actions_and_counts_misses() -> None:
    # The person turned the kitchen light on at ~07:02 on days 0-6, at 09:30 on day 7, not at all on 8-9.
    events = []
    for day in range(7):
        events += [
            ev("light.kitchen", "off", "on", local(day, 7, 2)),
            ev("light.kitchen", "on", "off", local(day, 8, 0)),
        ]
    events.append(ev("light.kitchen", "off", "on", local(7, 9, 30)))
    history = History.from_events(events, START, END)
    result = backtest(time_auto("07:00:00"), history, time_zone=TZ)
    assert (result.fired, result.matched, result.unmatched, result.missed) == (10, 7, 3, 1)
    assert result.agreement == 0.7 and result.coverage == 0.875
    assert result.firings[0].time == "2026-03-02T07:00+01:00" and result.firings[0].matched
    assert "7 of 10 times" in result.summary and "3 times it would have acted when nobody did" in result.summary
    assert result.not_evaluated == []


def test_weekday_and_time_window_conditions_in_local_time() -> None:
    history = History.from_events([], START, END)
    weekdays = time_auto("07:00:00", extra="condition:\n  - condition: time\n    weekday: [mon, tue, wed, thu, fri]\n")
    assert backtest(weekdays, history, time_zone=TZ).fired == 8  # 10 days from a Monday: 8 weekdays
    window = time_auto("07:00:00", extra="condition:\n  - condition: time\n    after: '08:00'\n    before: '06:00'\n")
    assert backtest(window, history, time_zone=TZ).fired == 0


def test_state_trigger_with_from_to_for_and_state_condition() -> None:
    events = [
        ev("binary_sensor.motion", "off", "on", local(0, 20, 0)),
        ev("binary_sensor.motion", "on", "off", local(0, 20, 1)),  # held 1 minute
        ev("binary_sensor.motion", "off", "on", local(1, 20, 0)),
        ev("binary_sensor.motion", "on", "off", local(1, 20, 10)),  # held 10 minutes
        ev("input_boolean.guest", "off", "on", local(1, 12, 0)),
        ev("binary_sensor.motion", "off", "on", local(2, 20, 0)),
    ]
    history = History.from_events(events, START, END)
    base = (
        "alias: M\ntrigger:\n  - platform: state\n    entity_id: binary_sensor.motion\n    from: 'off'\n    to: 'on'\n"
    )
    action = "action:\n  - service: light.turn_on\n    target:\n      entity_id: light.hall\n"
    assert backtest(one(base + action), history, time_zone=TZ).fired == 3
    held = base + "    for: '00:05:00'\n" + action
    result = backtest(one(held), history, time_zone=TZ)
    assert result.fired == 2  # day 1 (10 min) and day 2 (never turned off in the window)
    assert result.firings[0].time == "2026-03-03T20:05+01:00"
    guest = base + "condition:\n  - condition: state\n    entity_id: input_boolean.guest\n    state: 'on'\n" + action
    assert backtest(one(guest), history, time_zone=TZ).fired == 2  # day 1 and 2, after the guest switch


def test_numeric_state_crossing_fires_once_per_crossing() -> None:
    values = [("15", 0), ("25", 1), ("27", 2), ("18", 3), ("30", 4)]
    events = [ev("sensor.temp", None, v, local(0, 10, m)) for v, m in values]
    history = History.from_events(events, START, END)
    text = (
        "alias: Hot\ntrigger:\n  - platform: numeric_state\n    entity_id: sensor.temp\n    above: 24\n"
        "action:\n  - service: fan.turn_on\n    target:\n      entity_id: fan.x\n"
    )
    assert backtest(one(text), history, time_zone=TZ).fired == 2


def test_sun_trigger_with_offset_uses_the_home_location() -> None:
    history = History.from_events([], START, END)
    text = (
        "alias: Dusk\ntrigger:\n  - platform: sun\n    event: sunset\n    offset: '-00:30:00'\n"
        "action:\n  - service: light.turn_on\n    target:\n      entity_id: light.porch\n"
    )
    result = backtest(one(text), history, time_zone=TZ, latitude=52.52, longitude=13.405)
    assert result.fired == 10
    expected = sun_times(52.52, 13.405, START.astimezone(BERLIN).date()).sunset - timedelta(minutes=30)
    assert result.firings[0].time == expected.astimezone(BERLIN).isoformat(timespec="minutes")
    nowhere = backtest(one(text), history, time_zone=TZ)
    assert nowhere.fired == 0 and nowhere.not_evaluated


def test_time_pattern_and_unreplayable_triggers() -> None:
    history = History.from_events([], START, START + timedelta(days=1))
    text = (
        "alias: P\ntrigger:\n  - platform: time_pattern\n    minutes: '/15'\n"
        "  - platform: template\n    value_template: '{{ true }}'\n"
        "action:\n  - service: notify.notify\n    data:\n      message: hi\n"
    )
    result = backtest(one(text), history, time_zone=TZ)
    assert result.fired == 96
    assert result.agreement is None and any("template" in n for n in result.not_evaluated)
    assert "no state to compare" in result.summary


def test_dst_change_keeps_local_clock_times() -> None:
    start = datetime(2026, 3, 28, tzinfo=BERLIN).astimezone(UTC)
    history = History.from_events([], start, start + timedelta(days=3))
    result = backtest(time_auto("07:00:00"), history, time_zone=TZ)
    assert [f.time[11:] for f in result.firings] == ["07:00+01:00", "07:00+02:00", "07:00+02:00"]


def test_from_columns_equals_from_events() -> None:
    events = [ev("light.kitchen", "off", "on", local(d, 7, 1)) for d in range(5)]
    a = backtest(time_auto("07:00:00"), History.from_events(events, START, END), time_zone=TZ)
    cols = History.from_columns(
        [e.entity_id for e in events],
        [e.old_state for e in events],
        [e.new_state for e in events],
        np.array([e.time.timestamp() for e in events]),
        START,
        END,
    )
    b = backtest(time_auto("07:00:00"), cols, time_zone=TZ)
    assert a == b and a.matched == 5


def test_single_mode_ignores_triggers_during_a_delay_and_matches_the_first_effect() -> None:
    events = [
        ev("binary_sensor.motion", "off", "on", local(0, 20, 0)),
        ev("binary_sensor.motion", "on", "off", local(0, 20, 1)),
        ev("binary_sensor.motion", "off", "on", local(0, 20, 3)),  # during the 10-minute run: ignored
        ev("light.hall", "off", "on", local(0, 20, 0)),
        ev("binary_sensor.motion", "on", "off", local(0, 20, 4)),
        ev("binary_sensor.motion", "off", "on", local(1, 20, 0)),
    ]
    history = History.from_events(events, START, END)
    text = (
        "alias: M\nmode: single\ntrigger:\n  - platform: state\n    entity_id: binary_sensor.motion\n    to: 'on'\n"
        "action:\n  - service: light.turn_on\n    target:\n      entity_id: light.hall\n"
        "  - delay: '00:10:00'\n  - service: light.turn_off\n    target:\n      entity_id: light.hall\n"
    )
    result = backtest(one(text), history, time_zone=TZ)
    assert (result.fired, result.matched, result.unmatched) == (2, 1, 1)
    assert result.effects == ["light.hall -> on", "light.hall -> off after 600 s"]
    parallel = backtest(one(text.replace("mode: single", "mode: parallel")), history, time_zone=TZ)
    assert parallel.fired == 3


def test_misses_count_only_where_the_conditions_hold() -> None:
    # Hand actions at 07:01 on every day of the 10 (days 5 and 6 are Saturday and Sunday).
    events = [ev("light.kitchen", "off", "on", local(d, 7, 1)) for d in range(10)]
    events += [ev("light.kitchen", "on", "off", local(d, 9, 0)) for d in range(10)]
    history = History.from_events(events, START, END)
    weekdays = time_auto("06:30:00", extra="condition:\n  - condition: time\n    weekday: [mon, tue, wed, thu, fri]\n")
    result = backtest(weekdays, history, time_zone=TZ)
    assert (result.fired, result.matched, result.missed) == (8, 0, 8)  # 06:30 is 31 minutes early
    on_time = backtest(
        time_auto("07:00:00", extra="condition:\n  - condition: time\n    weekday: [mon, tue, wed, thu, fri]\n"),
        history,
        time_zone=TZ,
    )
    assert (on_time.fired, on_time.matched, on_time.missed, on_time.coverage) == (8, 8, 0, 1.0)


def test_sun_condition_after_dark_and_or_not_groups() -> None:
    history = History.from_events([], START, END)
    where = {"time_zone": TZ, "latitude": 52.52, "longitude": 13.405}
    dark = "condition:\n  - condition: sun\n    after: sunset\n    before: sunrise\n"
    assert backtest(time_auto("23:00:00", extra=dark), history, **where).fired == 10
    assert backtest(time_auto("12:00:00", extra=dark), history, **where).fired == 0
    either = (
        "condition:\n  - condition: or\n    conditions:\n      - condition: time\n        weekday: [sat]\n"
        "      - condition: time\n        weekday: [sun]\n"
    )
    assert backtest(time_auto("12:00:00", extra=either), history, **where).fired == 2
    neither = either.replace("condition: or", "condition: not")
    assert backtest(time_auto("12:00:00", extra=neither), history, **where).fired == 8
