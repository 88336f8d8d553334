"""Speed of validation (one automation against a 3,000-entity home, with 200 existing automations) and backtest.

Validation target: p95 < 5 ms for one automation against a 3,000-entity home. The backtest replays the
automations a person would write from a synthetic home's planted routines and causal pairs (seed 7,
~100 entities, 30 days) and prints the time per automation and their agreement with what the residents did.

    .venv/bin/python bench/validation.py [--runs 1000]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from homeiq_ai.automation.backtest import History, backtest
from homeiq_ai.automation.validation import build_catalog, prepare_existing, validate, validate_text
from homeiq_ai.kernel.haconfig import parse_text
from homeiq_ai.kernel.homedata.model import Area, Device, Entity

DOMAINS = ("light", "switch", "sensor", "binary_sensor", "cover", "lock", "climate", "media_player", "fan")
SUGGESTION = """\
alias: Hall light on motion after dark
trigger:
  - platform: state
    entity_id: binary_sensor.e_12
    to: "on"
condition:
  - condition: sun
    after: sunset
    after_offset: "-00:30:00"
  - condition: time
    weekday: [mon, tue, wed, thu, fri]
action:
  - service: light.turn_on
    target:
      entity_id: [light.e_0, light.e_9]
    data:
      brightness_pct: 60
  - delay: "00:05:00"
  - service: light.turn_off
    target:
      entity_id: light.e_0
"""


def _home(n: int = 3000):
    entities = [
        Entity(
            entity_id=f"{DOMAINS[i % len(DOMAINS)]}.e_{i}",
            domain=DOMAINS[i % len(DOMAINS)],
            area_id=f"a{i % 40}",
            device_id=f"d{i // 3}",
        )
        for i in range(n)
    ]
    areas = [Area(area_id=f"a{i}", name=f"Area {i}") for i in range(40)]
    devices = [Device(device_id=f"d{i}", name=f"Device {i}") for i in range(n // 3 + 1)]
    return entities, areas, devices


def _existing(count: int = 200) -> str:
    items = []
    for k in range(count):
        light = f"light.e_{(k * 9) % 2997}"
        trigger_entity = f"binary_sensor.e_{(k * 9 + 3) % 2997}"
        service = "light.turn_off" if k % 2 else "light.turn_on"
        if k % 3:
            trig = f"    - platform: state\n      entity_id: {trigger_entity}\n      to: 'on'\n"
        else:
            trig = f"    - platform: time\n      at: '{6 + k % 12:02d}:{k % 60:02d}:00'\n"
        items.append(
            f"- id: ha{k}\n  alias: Existing {k}\n  trigger:\n{trig}  action:\n"
            f"    - service: {service}\n      target:\n        entity_id: {light}\n"
        )
    return "".join(items)


def _pct(values: list[float]) -> str:
    a = np.array(values) * 1000
    return f"p50 {np.percentile(a, 50):.3f} ms, p95 {np.percentile(a, 95):.3f} ms, max {a.max():.3f} ms"


def _time(fn, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def bench_validation(runs: int) -> None:
    entities, areas, devices = _home()
    t0 = time.perf_counter()
    catalog = build_catalog(entities, areas, devices)
    print(f"catalog of {len(entities)} entities built in {(time.perf_counter() - t0) * 1000:.2f} ms")
    [automation] = parse_text(SUGGESTION)
    existing = parse_text(_existing())
    t0 = time.perf_counter()
    prepared = prepare_existing(existing)
    print(f"prepare_existing({len(existing)}) in {(time.perf_counter() - t0) * 1000:.2f} ms")
    report = validate([automation], catalog, prepared)
    assert report.results[0].valid, report.results[0].errors
    print(f"validate one (parsed), no existing:         {_pct(_time(lambda: validate([automation], catalog), runs))}")
    print(
        f"validate_text one (parse included):         {_pct(_time(lambda: validate_text(SUGGESTION, catalog), runs))}"
    )
    print(
        f"validate one, 200 existing prepared once:   "
        f"{_pct(_time(lambda: validate([automation], catalog, prepared), runs))}"
    )
    print(
        f"validate one, 200 existing as a list:       "
        f"{_pct(_time(lambda: validate([automation], catalog, existing), max(50, runs // 10)))}"
    )
    print(
        f"conflicts found against the 200: {len(report.conflicts)} "
        f"({', '.join(sorted({c.kind for c in report.conflicts})) or 'none'})"
    )


def _suggestions(home) -> list:
    """Automations a person would write from the planted routines and pairs."""
    texts = []
    for r in home.truth.routines:
        if r.state not in ("on", "off") or r.entity_id.split(".")[0] not in ("light", "switch", "fan", "media_player"):
            continue
        cond = ""
        if r.days == "weekdays":
            cond = "condition:\n  - condition: time\n    weekday: [mon, tue, wed, thu, fri]\n"
        elif r.days == "weekends":
            cond = "condition:\n  - condition: time\n    weekday: [sat, sun]\n"
        domain = r.entity_id.split(".")[0]
        texts.append(
            f"alias: {r.routine_id}\ntrigger:\n  - platform: time\n    at: '{r.local_time}'\n{cond}"
            f"action:\n  - service: {domain}.turn_{r.state}\n    target:\n      entity_id: {r.entity_id}\n"
        )
    for p in home.truth.causal_pairs:
        domain = p.response_entity_id.split(".")[0]
        if p.response_state not in ("on", "off") or domain not in ("light", "switch", "fan", "media_player"):
            continue
        texts.append(
            f"alias: {p.pair_id}\ntrigger:\n  - platform: state\n    entity_id: {p.trigger_entity_id}\n"
            f"    to: '{p.trigger_state}'\naction:\n  - service: {domain}.turn_{p.response_state}\n"
            f"    target:\n      entity_id: {p.response_entity_id}\n"
        )
    return [parse_text(t)[0] for t in texts]


def bench_backtest() -> list:
    from datetime import UTC, datetime, timedelta

    from homeiq_ai.training.synthetic import generate_home

    home = generate_home(seed=7, days=30, entity_target=100)
    log = home.events
    start = datetime.combine(home.spec.start, datetime.min.time(), tzinfo=UTC)
    end = start + timedelta(days=30)
    states = np.asarray(log.states, dtype=object)
    ids = np.asarray(log.entity_ids, dtype=object)
    t0 = time.perf_counter()
    old = np.where(log.old_state >= 0, states[np.maximum(log.old_state, 0)], None)
    history = History.from_columns(ids[log.entity], old, states[log.new_state], log.time_us / 1e6, start, end)
    print(f"history of {len(log)} events indexed in {(time.perf_counter() - t0) * 1000:.1f} ms")
    autos = _suggestions(home)
    spec = home.spec
    times, results = [], []
    for a in autos:
        t0 = time.perf_counter()
        results.append(backtest(a, history, time_zone=spec.time_zone, latitude=spec.latitude, longitude=spec.longitude))
        times.append(time.perf_counter() - t0)
    agreements = [r.agreement for r in results if r.agreement is not None]
    print(f"backtest of {len(autos)} suggestions over 30 days: {_pct(times)} each, {sum(times) * 1000:.1f} ms in all")
    if agreements:
        print(f"agreement with the residents: mean {np.mean(agreements):.3f}, median {np.median(agreements):.3f}")
    for r in results[:3]:
        print("  ", r.summary)
    return autos


def bench_ha(autos: list) -> None:
    """The share of our rendered automations that Home Assistant 2024.3.3's own validator accepts."""
    from ha_validate import ha_validate

    configs = [a.to_config() for a in autos]
    bad = {"alias": "bad", "trigger": [{"platform": "teleport"}], "action": []}
    t0 = time.perf_counter()
    answers = ha_validate([*configs, bad])
    ok = sum(a["ok"] for a in answers[:-1])
    assert not answers[-1]["ok"], "the validator accepted an invalid platform"
    print(
        f"Home Assistant's validator accepts {ok} of {len(configs)} rendered suggestions "
        f"({(time.perf_counter() - t0):.1f} s including its start); a planted bad one is rejected"
    )
    for a in answers[:-1]:
        if not a["ok"]:
            print("   rejected:", a["error"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--ha", action="store_true", help="also check the suggestions with HA's validator")
    args = parser.parse_args()
    bench_validation(args.runs)
    autos = bench_backtest()
    if args.ha:
        bench_ha(autos)


if __name__ == "__main__":
    main()
