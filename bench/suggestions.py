"""From a home's analysis to ranked suggestions: how many, share valid (ours and HA 2024.3.3's), backtest, time.

`.venv/bin/python bench/suggestions.py [--seed 7] [--no-ha]`: a synthetic 30-day home (the demo's
generator), every detector of the registry, one automation per pattern (automation/generation), our
validation against the home's entities, the 30-day backtest, and Home Assistant's own validator
(bench/ha_validate.py, in the venv scripts/ha-venv.sh builds).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from homeiq_ai.automation.backtest import History, backtest
from homeiq_ai.automation.generation import build_from_pattern
from homeiq_ai.automation.validation import build_catalog, validate
from homeiq_ai.kernel.homedata.model import Entity
from homeiq_ai.pattern.detectors.base import DetectorConfig
from homeiq_ai.pattern.detectors.registry import default_detectors
from homeiq_ai.training.synthetic import generate_home
from pattern_quality import home_frame


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-ha", action="store_true", help="skip Home Assistant's validator")
    args = parser.parse_args()
    home = generate_home(seed=args.seed, days=30, entity_target=100)
    frame = home_frame(home)
    t0 = time.perf_counter()
    config = DetectorConfig()
    patterns = [c for _name, detector in default_detectors() for c in detector(frame, config)]
    t_detect = time.perf_counter() - t0
    t1 = time.perf_counter()
    followers: dict[str, list[tuple[str, str]]] = {}
    for p in patterns:
        if p.pattern_type == "co_occurrence":
            followers.setdefault(p.details["trigger_entity_id"], []).append(
                (p.details["response_entity_id"], p.details["response_state"])
            )
    drafts = [
        (p, build_from_pattern(p.pattern_type, p.entity_ids, p.details, p.description, followers)) for p in patterns
    ]
    built = [(p, d) for p, d in drafts if d is not None]
    catalog = build_catalog(
        [
            Entity(entity_id=e.entity_id, domain=e.domain, device_class=e.device_class, area_id=e.area_id)
            for e in home.spec.entities
        ]
    )
    report = validate([d.automation for _p, d in built], catalog, [])
    log = home.events
    start = datetime.combine(home.spec.start, datetime.min.time(), tzinfo=UTC)
    states = np.asarray(log.states, dtype=object)
    ids = np.asarray(log.entity_ids, dtype=object)
    old = np.where(log.old_state >= 0, states[np.maximum(log.old_state, 0)], None)
    history = History.from_columns(
        ids[log.entity], old, states[log.new_state], log.time_us / 1e6, start, start + timedelta(days=30)
    )
    spec = home.spec
    tests = [
        backtest(d.automation, history, time_zone=spec.time_zone, latitude=spec.latitude, longitude=spec.longitude)
        for _p, d in built
    ]
    ranked = sorted(
        zip(built, tests, strict=True), key=lambda x: -(x[0][0].confidence * (0.5 + 0.5 * (x[1].agreement or 0)))
    )
    t_suggest = time.perf_counter() - t1
    kinds = Counter(p.pattern_type for p, _d in built)
    all_kinds = Counter(p.pattern_type for p in patterns)
    valid = sum(r.valid for r in report.results)
    print(f"home seed {args.seed}: {len(frame)} events, {len(patterns)} patterns in {t_detect:.2f} s")
    print(
        f"suggestions: {len(built)} of {len(patterns)} patterns became automations "
        f"({t_suggest * 1000:.0f} ms: build, validate, backtest, rank)"
    )
    for kind in sorted(all_kinds):
        print(f"   {kind}: {kinds.get(kind, 0)} of {all_kinds[kind]}")
    print(f"our validation passes {valid} of {len(built)} ({100 * valid / max(len(built), 1):.1f}%)")
    for r in report.results:
        if not r.valid:
            print("   invalid:", r.alias, [e.message for e in r.errors][:2])
    agreements = [t.agreement for t in tests if t.agreement is not None]
    if agreements:
        print(
            f"backtest agreement: mean {np.mean(agreements):.3f}, median {np.median(agreements):.3f} "
            f"over {len(agreements)} that fired"
        )
    print("top 5:")
    for (p, d), t in ranked[:5]:
        print(f"   {p.confidence:.2f} {d.automation.alias!r}: {t.summary}")
    if not args.no_ha:
        from ha_validate import ha_validate

        t2 = time.perf_counter()
        answers = ha_validate([d.automation.to_config() for _p, d in built])
        ok = sum(a["ok"] for a in answers)
        print(
            f"Home Assistant 2024.3.3's validator accepts {ok} of {len(built)} "
            f"({100 * ok / max(len(built), 1):.1f}%, {time.perf_counter() - t2:.1f} s)"
        )
        for a in answers:
            if not a["ok"]:
                print("   rejected:", a["error"])


if __name__ == "__main__":
    main()
