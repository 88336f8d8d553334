"""Scoring helpers: a perfect detector scores 1, wrong findings lower precision, misses lower recall."""

from __future__ import annotations

from datetime import timedelta

from homeiq_ai.training.synthetic.scoring import score_anomalies, score_causal_pairs, score_routines


def test_perfect_routine_detector_scores_one(home) -> None:
    """Reporting every planted routine at its local time gives precision and recall 1."""
    found = [(r.entity_id, r.state, r.local_time) for r in home.truth.routines]
    score = score_routines(found, home.truth)
    assert (score.precision, score.recall) == (1.0, 1.0)


def test_routines_off_by_an_hour_are_missed(home) -> None:
    """Times an hour off match nothing: recall and precision fall to 0."""
    found = []
    for r in home.truth.routines:
        h, m = map(int, r.local_time.split(":"))
        found.append((r.entity_id, r.state, f"{(h + 1) % 24:02d}:{m:02d}"))
    score = score_routines(found, home.truth)
    assert score.recall == 0.0 and score.precision == 0.0


def test_pairs_precision_counts_false_findings(home) -> None:
    """Planted pairs plus one invented pair: recall 1, precision below 1."""
    found = [
        (p.trigger_entity_id, p.trigger_state, p.response_entity_id, p.response_state)
        for p in home.truth.causal_pairs
    ]
    found.append(("light.kitchen_ceiling", "on", "switch.coffee_maker", "on"))
    score = score_causal_pairs(found, home.truth)
    assert score.recall == 1.0
    assert score.false_positives == 1


def test_anomaly_scoring_uses_the_windows(home) -> None:
    """Finding each anomaly inside its window scores 1; a finding far away is a false positive."""
    found = [(a.entity_id, a.start + (a.end - a.start) / 2) for a in home.truth.anomalies]
    assert score_anomalies(found, home.truth).recall == 1.0
    far = [(home.truth.anomalies[0].entity_id, home.truth.anomalies[0].start - timedelta(days=2))]
    assert score_anomalies(far, home.truth).precision == 0.0
