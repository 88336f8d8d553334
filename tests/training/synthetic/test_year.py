"""A year of a 150-entity home: generated in one go (well under 60 s), realistic volume, truth round-trips."""

from __future__ import annotations

from collections import Counter

import numpy as np

from homeiq_ai.training.synthetic import generate_home
from homeiq_ai.training.synthetic.io import read_truth, write_truth


def test_a_year_of_a_150_entity_home(tmp_path) -> None:
    """365 days at 150 entities: millions of events, mostly chatty, every planted kind, truth round-trips."""
    home = generate_home(2026, home_type="single_family", days=365, entity_target=150)
    assert len(home.spec.entities) == 150
    log = home.events
    assert 2_000_000 <= len(log) <= 8_000_000
    assert np.all(np.diff(log.time_us) >= 0)
    ids = log.entity_id_column()
    assert np.isin(ids, home.truth.noise.chatty_entities).mean() > 0.8
    truth = home.truth
    porch_off = next(r for r in truth.routines if r.routine_id == "porch_light_off")
    assert len(porch_off.occurrences) >= 360
    assert Counter(a.kind for a in truth.anomalies).most_common()[-1][1] >= 4
    assert len(truth.vacations) >= 2 and len(truth.holidays) >= 8
    assert truth.causal_pairs and truth.sequences and truth.day_type_differences and truth.durations
    assert len(truth.noise.restarts) >= 10
    path = tmp_path / "truth.json"
    write_truth(path, truth)
    assert read_truth(path) == truth
