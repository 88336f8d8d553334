"""Every registered detector imports and runs on a small synthetic home."""

from __future__ import annotations

from homeiq_ai.pattern.detectors.base import DetectorConfig, PatternCandidate
from homeiq_ai.pattern.detectors.registry import DETECTOR_FUNCTIONS, default_detectors
from pattern.homes import synthetic_frame


def test_every_detector_runs_and_returns_candidates_of_its_type() -> None:
    """Each (name, function) of the registry runs and only returns candidates of a known pattern type."""
    frame = synthetic_frame(2, "apartment", 14)
    names = []
    for name, detector in default_detectors():
        found = detector(frame, DetectorConfig())
        assert all(isinstance(c, PatternCandidate) for c in found)
        assert {c.pattern_type for c in found} <= {name}, name
        names.append(name)
    assert names == list(DETECTOR_FUNCTIONS)
