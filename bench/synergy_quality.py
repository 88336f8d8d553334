"""Synergy ranking quality on synthetic homes: are the planted causal pairs at the top of the list?

For each home (seeds x home types) the co-occurrence and sequence detectors run over 30 days, then
`detect_synergies` ranks pairs and chains. The planted relations are the ground truth's causal pairs
and the consecutive steps of its sequences (`GroundTruth.implied_pairs()`); with k = their number,
the table shows precision@k (which equals recall@k here), recall@2k and the average precision among device pairs,
for three conditions:

- default: the detectors' default thresholds;
- low thresholds: detectors at min_confidence 0.2 and min_occurrences 3, so more weak evidence competes;
- rules only: no evidence at all (what capability rules and areas alone would rank).

Also printed: chains found and whether each planted sequence is among them, and the time
detect_synergies takes. Homes are loose (drifting routines, bouncing contacts, random drawers, chatty
numbers: training.synthetic.realism) and tight by default (`--realism`); means are per realism. Exit status 1
when the mean recall@2k of the default condition on tight homes is below 0.8.

    .venv/bin/python bench/synergy_quality.py [--seeds 1 2 3 4 5] [--home-types studio single_family multi_storey]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import replace

from homeiq_ai.pattern.detectors.base import DetectorConfig, PatternCandidate
from homeiq_ai.pattern.detectors.registry import default_detectors
from homeiq_ai.pattern.synergies.detect import detect_synergies
from homeiq_ai.training.synthetic import generate_home
from pattern_quality import frame_entities, home_frame

DETECTORS = ("co_occurrence", "sequence")


def _detectors() -> list:
    return [fn for name, fn in default_detectors() if name in DETECTORS]


def _ranks(pairs: list[tuple[str, ...]], planted: set[tuple[str, str]]) -> dict[str, float]:
    """precision@k, recall@2k and average precision of the planted pairs in the ranked pairs (k = planted)."""
    k = len(planted)
    hits, precisions = 0, []
    for rank, pair in enumerate(pairs, start=1):
        if pair in planted:
            hits += 1
            precisions.append(hits / rank)
    return {
        "precision@k": len(planted & set(pairs[:k])) / k,
        "recall@2k": len(planted & set(pairs[: 2 * k])) / k,
        "ap": sum(precisions) / k,
    }


def main() -> int:
    """Print the ranking figures per home and condition, then the means."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    parser.add_argument("--home-types", nargs="+", default=["studio", "single_family", "multi_storey"])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--realism", nargs="+", default=["loose", "tight"], choices=["loose", "tight", "dense"])
    args = parser.parse_args()
    detectors = _detectors()
    conditions = {
        "default": DetectorConfig(),
        "low thresh": replace(DetectorConfig(), min_confidence=0.2, min_occurrences=3),
        "rules only": None,
    }
    totals: dict[str, list[dict[str, float]]] = {f"{r} {name}": [] for r in args.realism for name in conditions}
    seconds: list[float] = []
    print(
        f"{'home':>20} {'seed':>4} {'condition':>10} {'k':>3} {'pairs':>5} {'chains':>6} "
        f"{'P@k':>5} {'R@2k':>5} {'AP':>5} {'seq chains':>10}"
    )
    for realism, home_type in [(r, h) for r in args.realism for h in args.home_types]:
        for seed in args.seeds:
            home = generate_home(seed=seed, home_type=home_type, days=args.days, realism=realism)
            entities = dict(frame_entities(home))
            frame = home_frame(home)
            planted = {(p[0], p[2]) for p in home.truth.implied_pairs()}
            sequences = [tuple(s.entity_id for s in q.steps) for q in home.truth.sequences]
            for name, config in conditions.items():
                patterns: list[PatternCandidate] = []
                if config is not None:
                    for detector in detectors:
                        patterns.extend(detector(frame, config))
                t0 = time.perf_counter()
                result = detect_synergies(entities, patterns)
                seconds.append(time.perf_counter() - t0)
                pairs = [tuple(s.entity_ids) for s in result if s.synergy_type == "device_pair"]
                chains = {tuple(s.entity_ids) for s in result if s.synergy_type == "chain"}
                figures = _ranks(pairs, planted)
                totals[f"{realism} {name}"].append(figures)
                seq_found = sum(1 for q in sequences if q in chains)
                print(
                    f"{realism[:5] + ':' + home_type:>20} {seed:>4} {name:>10} {len(planted):>3} {len(pairs):>5} "
                    f"{len(chains):>6} "
                    f"{figures['precision@k']:>5.2f} {figures['recall@2k']:>5.2f} "
                    f"{figures['ap']:>5.2f} {seq_found:>4}/{len(sequences)}",
                    flush=True,
                )
    print()
    for name, rows in totals.items():
        means = {key: statistics.fmean(r[key] for r in rows) for key in rows[0]}
        if not rows:
            continue
        print(f"mean {name:>16}: " + "  ".join(f"{key} {value:.3f}" for key, value in means.items()))
    print(f"detect_synergies: median {statistics.median(seconds) * 1000:.1f} ms, max {max(seconds) * 1000:.1f} ms")
    gate = totals.get("tight default") or totals[f"{args.realism[0]} default"]
    default_recall = statistics.fmean(r["recall@2k"] for r in gate)
    if default_recall < 0.8:
        print(f"FAIL: mean recall@2k {default_recall:.3f} < 0.8")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
