"""The loose realism setting: wider, skipped routines, bursts, random contacts, numbers, exact truth."""

from __future__ import annotations

import numpy as np
import pytest

from homeiq_ai.training.synthetic import generate_home
from homeiq_ai.training.synthetic.realism import LOOSE


@pytest.fixture(scope="module")
def pair():
    """The same small home, tight and loose."""
    return generate_home(3, "apartment", 21), generate_home(3, "apartment", 21, realism="loose")


def test_tight_is_the_default_and_unchanged(pair) -> None:
    """Without realism the home is the tight one, event for event."""
    tight, _ = pair
    again = generate_home(3, "apartment", 21, realism="tight")
    assert tight.spec.realism == "tight"
    assert tight.events == again.events
    assert tight.truth.day_marks == []


def test_loose_is_deterministic(pair) -> None:
    """The same seed gives the same loose home."""
    _, loose = pair
    assert loose.events == generate_home(3, "apartment", 21, realism="loose").events


def test_unknown_realism_is_refused() -> None:
    """A realism that does not exist is a clear error."""
    with pytest.raises(ValueError, match="realism"):
        generate_home(1, "studio", 3, realism="sloppy")


def test_loose_routines_drift_and_skip(pair) -> None:
    """Residents' routines spread wider and skip 15-40% of their days; automations keep their time."""
    tight, loose = pair
    t = {r.routine_id: r for r in tight.truth.routines}
    people = [r for r in loose.truth.routines if r.resident_id and r.derived_from is None and r.routine_id in t]
    assert people
    for r in people:
        if "door" in r.routine_id:
            continue
        widened = min(t[r.routine_id].spread_minutes * LOOSE.spread_scale, LOOSE.max_spread_minutes)
        assert r.spread_minutes == pytest.approx(widened, abs=0.01)
        assert 0.15 <= r.skip_probability <= 0.4


def test_loose_truth_is_in_the_stream(pair) -> None:
    """Every planted occurrence is a real change of the stream (bursts never move or hide one)."""
    _, loose = pair
    log = loose.events
    index = {e: i for i, e in enumerate(log.entity_ids)}
    present = set(zip(log.entity.tolist(), log.time_us.tolist(), strict=True))
    for r in loose.truth.routines:
        for t in r.occurrences:
            us = (t - t.replace(year=1970, month=1, day=1, hour=0, minute=0, second=0, microsecond=0)) // t.resolution
            assert (index[r.entity_id], us) in present
    for p in loose.truth.causal_pairs:
        assert len(p.occurrences) >= 3


def test_loose_adds_bursts_contacts_and_numbers(pair) -> None:
    """Contacts bounce within a minute, drawers fire at random, numbers outnumber the planted occurrences."""
    _tight, loose = pair
    ids = loose.spec.entity_ids
    drawers = [e for e in ids if "_drawer_" in e or "_cabinet_" in e or "_cupboard_" in e]
    assert len(drawers) == 12
    assert set(drawers) <= set(loose.truth.noise.background_entities)
    plugs = [e for e in ids if "_plug_" in e and e.endswith("_power")]
    assert plugs and set(plugs) <= set(loose.truth.noise.chatty_entities)
    log = loose.events
    plug_idx = np.isin(log.entity, [log.entity_ids.index(p) for p in plugs])
    planted = sum(len(r.occurrences) for r in loose.truth.routines if r.derived_from is None)
    assert plug_idx.sum() >= 50 * planted
    # A bounce: the same contact back "on" within 30 s of an "on".
    door = log.entity_ids.index("binary_sensor.front_door") if "binary_sensor.front_door" in log.entity_ids else None
    if door is not None:
        on = log.states.index("on")
        t = log.time_us[(log.entity == door) & (log.new_state == on)]
        assert np.any(np.diff(t) < 30_000_000)


def test_day_marks_are_measured_on_the_stream(pair) -> None:
    """A day mark's entity is really its area's first (last) change on its share of days."""
    _, loose = pair
    marks = loose.truth.day_marks
    assert marks
    for m in marks:
        assert m.kind in ("first", "last")
        assert m.share_of_days >= 0.6
        assert len(m.occurrences) >= 4
        assert m.window_start <= m.local_time <= m.window_end or m.window_start > m.window_end
