"""The ground truth matches the events: routines, sun routines, pairs, sequences, durations, anomalies."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from homeiq_ai.kernel.sun import sun_times
from homeiq_ai.training.synthetic import GeneratedHome
from homeiq_ai.training.synthetic.events import from_us, to_us


def _changes(home: GeneratedHome, entity_id: str) -> tuple[np.ndarray, np.ndarray]:
    log = home.events.for_entity(entity_id)
    return log.time_us, log.state_column()


def _has(home: GeneratedHome, entity_id: str, state: str, t) -> bool:
    times, states = _changes(home, entity_id)
    us = to_us(t)
    hits = np.nonzero(times == us)[0]
    return any(states[i] == state for i in hits)


def _local_minutes(t, tz: ZoneInfo) -> float:
    local = t.astimezone(tz)
    return local.hour * 60 + local.minute + local.second / 60


def _clock_diff(a: float, b: float) -> float:
    d = abs(a - b) % 1440
    return min(d, 1440 - d)


def test_truth_has_every_kind_of_planted_item(home) -> None:
    """The truth holds routines, sun routines, causal pairs, sequences, differences, durations, anomalies."""
    t = home.truth
    assert len(t.routines) >= 10 and len(t.sun_routines) >= 4
    assert len(t.causal_pairs) >= 4 and len(t.sequences) >= 2
    assert t.day_type_differences and len(t.durations) >= 10
    kinds = {"unusual_time", "unusual_frequency", "left_on_too_long", "missing_activity"}
    assert {a.kind for a in t.anomalies} == kinds
    assert t.holidays and t.vacations


def test_every_routine_occurrence_is_in_the_event_stream(home) -> None:
    """Each recorded routine and sun-routine occurrence is a state change at exactly that time."""
    for r in [*home.truth.routines, *home.truth.sun_routines]:
        assert r.occurrences, r.routine_id
        times, states = _changes(home, r.entity_id)
        present = {int(t) for t, s in zip(times.tolist(), states.tolist(), strict=True) if s == r.state}
        missing = [o for o in r.occurrences if to_us(o) not in present]
        assert not missing, (r.routine_id, missing[:3])


def test_routine_occurrences_keep_their_local_time(home) -> None:
    """Each occurrence lies within 2.5 standard deviations (plus a minute) of the routine's local time."""
    tz = ZoneInfo(home.spec.time_zone)
    for r in home.truth.routines:
        h, m = map(int, r.local_time.split(":"))
        limit = 3.0 * r.spread_minutes + 1.5 if r.derived_from else 2.5 * r.spread_minutes + 1.0
        if r.derived_from:
            limit += 25  # the duration that separates it from its base is clipped, not Gaussian
        worst = max(_clock_diff(_local_minutes(o, tz), h * 60 + m) for o in r.occurrences)
        assert worst <= limit, (r.routine_id, worst)


def test_routine_occurrences_fall_on_their_day_set(home) -> None:
    """Weekday routines happen Monday to Friday outside holidays, weekend ones on weekends or holidays."""
    tz = ZoneInfo(home.spec.time_zone)
    holidays = set(home.truth.holidays)
    for r in home.truth.routines:
        if r.derived_from:
            continue
        for o in r.occurrences:
            day = o.astimezone(tz).date()
            if r.days == "weekdays":
                assert day.weekday() < 5 and day not in holidays, (r.routine_id, day)
            elif r.days == "weekends":
                assert day.weekday() >= 5 or day in holidays, (r.routine_id, day)
            elif r.days == "specific":
                assert day.weekday() in r.weekdays and day not in holidays, (r.routine_id, day)


def test_dst_change_keeps_routines_on_the_local_wall_clock(home) -> None:
    """Across the 2026-03-29 DST change a 23:30 routine stays at 23:30 local while its UTC hour moves."""
    tz = ZoneInfo(home.spec.time_zone)
    porch_off = next(r for r in home.truth.routines if r.routine_id == "porch_light_off")
    before = [o for o in porch_off.occurrences if o.astimezone(tz).date().isoformat() < "2026-03-29"]
    after = [o for o in porch_off.occurrences if o.astimezone(tz).date().isoformat() > "2026-03-29"]
    assert before and after
    assert all(abs(_local_minutes(o, tz) - (23 * 60 + 30)) <= 2 for o in before + after)
    assert {o.astimezone(UTC).hour for o in before} == {22}
    assert {o.astimezone(UTC).hour for o in after} == {21}
    for r in home.truth.routines:
        if r.derived_from or r.spread_minutes > 6:
            continue
        h, m = map(int, r.local_time.split(":"))
        for o in r.occurrences:
            assert _clock_diff(_local_minutes(o, tz), h * 60 + m) <= 2.5 * r.spread_minutes + 1.0


def test_sun_routines_follow_the_true_sun(home) -> None:
    """Sun routines happen at the day's computed sunrise or sunset plus their offset."""
    tz = ZoneInfo(home.spec.time_zone)
    for r in home.truth.sun_routines:
        for o in r.occurrences:
            day = o.astimezone(tz).date()
            st = sun_times(home.spec.latitude, home.spec.longitude, day)
            base = st.sunset if r.sun_event == "sunset" else st.sunrise
            assert base is not None
            delta = (o - base).total_seconds() / 60 - r.offset_minutes
            assert abs(delta) <= 2.5 * r.spread_minutes + 0.1, (r.routine_id, o, delta)


def test_causal_responses_follow_triggers_within_the_max_delay(home) -> None:
    """For every recorded occurrence the trigger happens then the response within delay_max_s."""
    for p in home.truth.causal_pairs:
        assert p.trigger_count >= len(p.occurrences) > 0
        t_times, t_states = _changes(home, p.trigger_entity_id)
        triggers = set(t_times[t_states == p.trigger_state].tolist())
        r_times, r_states = _changes(home, p.response_entity_id)
        responses = np.sort(r_times[r_states == p.response_state])
        for t in p.occurrences:
            us = to_us(t)
            assert us in triggers, p.pair_id
            j = int(np.searchsorted(responses, us, side="right"))
            assert j < len(responses), p.pair_id
            delay = (responses[j] - us) / 1e6
            assert p.delay_min_s - 0.001 <= delay <= p.delay_max_s + 0.001, (p.pair_id, delay)


def test_sequences_run_in_order_within_the_max_gap(home) -> None:
    """Each sequence occurrence has its steps in order, each within max_gap_s of the one before."""
    for seq in home.truth.sequences:
        assert len(seq.steps) >= 3
        for start in seq.occurrences:
            t = to_us(start)
            assert _has(home, seq.steps[0].entity_id, seq.steps[0].state, start)
            for step in seq.steps[1:]:
                times, states = _changes(home, step.entity_id)
                nxt = times[(times > t) & (states == step.state)]
                assert nxt.size, seq.sequence_id
                assert (nxt[0] - t) / 1e6 <= seq.max_gap_s
                t = int(nxt[0])


def test_weekday_and_weekend_differences_are_visible(home) -> None:
    """Weekday and weekend occurrences of a difference sit at their own, clearly different local times."""
    tz = ZoneInfo(home.spec.time_zone)
    routines = {r.routine_id: r for r in home.truth.routines}
    both = [d for d in home.truth.day_type_differences if d.weekday_routine_id and d.weekend_routine_id]
    assert both
    for d in both:
        means = []
        for rid, hhmm in ((d.weekday_routine_id, d.weekday_time), (d.weekend_routine_id, d.weekend_time)):
            occ = routines[rid].occurrences
            mean = float(np.mean([_local_minutes(o, tz) for o in occ]))
            h, m = map(int, hhmm.split(":"))
            assert abs(mean - (h * 60 + m)) <= 6, (rid, mean)
            means.append(mean)
        assert abs(means[0] - means[1]) >= 30
    weekday_only = [d for d in home.truth.day_type_differences if d.weekend_time is None]
    for d in weekday_only:
        occ = routines[d.weekday_routine_id].occurrences
        assert all(o.astimezone(tz).weekday() < 5 for o in occ)


def test_durations_match_the_events(home) -> None:
    """Each duration's periods are on/off pairs in the events, near the planted mean."""
    for d in home.truth.durations:
        times, states = _changes(home, d.entity_id)
        lengths = []
        for start in d.occurrences:
            us = to_us(start)
            i = int(np.nonzero(times == us)[0][0])
            assert states[i] == d.state
            j = i + 1
            while states[j] == d.state:
                j += 1
            lengths.append((times[j] - us) / 60e6)
        assert abs(np.mean(lengths) - d.observed_mean_minutes) < 1e-3 * max(1.0, d.observed_mean_minutes)
        tolerance = max(0.25 * d.mean_minutes, 3 * d.std_minutes / np.sqrt(len(lengths)) + 0.2)
        assert abs(d.observed_mean_minutes - d.mean_minutes) <= tolerance, d.entity_id


def test_anomalies_are_in_their_windows(home) -> None:
    """Each anomaly's evidence lies in its window and looks like its kind."""
    tz = ZoneInfo(home.spec.time_zone)
    routines = home.truth.routines
    for a in home.truth.anomalies:
        times, states = _changes(home, a.entity_id)
        inside = (times >= to_us(a.start)) & (times <= to_us(a.end))
        if a.kind == "unusual_time":
            assert 3 <= a.start.astimezone(tz).hour < 5 and inside.sum() == 2
        elif a.kind == "unusual_frequency":
            assert inside.sum() >= 20 and a.end - a.start <= timedelta(hours=1)
        elif a.kind == "left_on_too_long":
            assert a.end - a.start >= timedelta(hours=4)
            assert states[times == to_us(a.start)][0] == "on" and states[times == to_us(a.end)][0] == "off"
        else:
            own = [r for r in routines if r.entity_id == a.entity_id and r.derived_from is None]
            assert own and not any(a.start <= o < a.end for r in own for o in r.occurrences)
            assert a.end - a.start == timedelta(days=3) or a.end - a.start <= timedelta(days=3, hours=1)


def test_old_states_chain_and_repeat_no_state(home) -> None:
    """Each change's old_state is the entity's previous new_state (its initial state first), never equal."""
    initial = {e.entity_id: e.initial_state for e in home.spec.entities}
    log = home.events
    assert np.all(np.diff(log.time_us) >= 0)
    tz = ZoneInfo(home.spec.time_zone)
    assert from_us(int(log.time_us[0])).astimezone(tz).date() >= home.spec.start
    end = home.spec.start + timedelta(days=home.spec.days)
    assert from_us(int(log.time_us[-1])).astimezone(tz).date() < end
    checked = 0
    for entity_id in initial:
        sub = log.for_entity(entity_id)
        if not len(sub):
            continue
        new = sub.state_column()
        old = sub.state_column(old=True)
        assert old[0] == initial[entity_id], entity_id
        assert np.array_equal(old[1:], new[:-1]), entity_id
        plain = sub.attr < 0
        assert np.all(new[plain] != old[plain]), entity_id
        checked += 1
    assert checked > 0.9 * len(initial)


def test_noise_is_most_of_the_volume(home) -> None:
    """Chatty sensors make most events; unavailable and unknown states and diagnostics appear."""
    noise = home.truth.noise
    ids = home.events.entity_id_column()
    chatty = np.isin(ids, noise.chatty_entities)
    assert chatty.mean() > 0.7
    states = set(home.events.state_column().tolist())
    assert {"unavailable", "unknown"} <= states
    assert noise.diagnostic_entities and noise.unavailable and noise.restarts and noise.background_entities
    for w in noise.unavailable[:20]:
        times, states_ = _changes(home, w.entity_id)
        at = states_[(times >= to_us(w.start)) & (times <= to_us(w.start) + 1)]
        assert "unavailable" in at.tolist()
    diag = set(noise.diagnostic_entities)
    assert np.isin(ids, list(diag)).any()


def test_vacations_empty_the_home(home) -> None:
    """At noon on every vacation day every resident is away."""
    tz = ZoneInfo(home.spec.time_zone)
    for v in home.truth.vacations:
        day = v.start
        while day <= v.end:
            noon = to_us(datetime.combine(day, time(12), tzinfo=tz))
            for r in home.spec.residents:
                times, states = _changes(home, r.person_entity_id)
                before = states[times <= noon]
                assert before.size and before[-1] == "not_home", (r.name, day)
            day += timedelta(days=1)
