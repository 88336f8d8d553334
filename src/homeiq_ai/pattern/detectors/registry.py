"""The detectors an analysis runs, in order, by name."""

from __future__ import annotations

import importlib
from collections.abc import Sequence

from homeiq_ai.pattern.detectors.base import Detector, DetectorConfig, EventFrame, PatternCandidate

__all__ = ["DETECTOR_FUNCTIONS", "default_detectors"]

# name -> (module under homeiq_ai.pattern.detectors, function)
DETECTOR_FUNCTIONS: dict[str, tuple[str, str]] = {
    "time_of_day": ("time_of_day", "detect_time_of_day"),
    "day_type": ("day_type", "detect_day_type"),
    "duration": ("duration", "detect_duration"),
    "co_occurrence": ("co_occurrence", "detect_co_occurrences"),
    "sequence": ("sequence", "detect_sequences"),
    "first_last_of_day": ("day_edges", "detect_first_last_of_day"),
    "anomaly": ("anomaly", "detect_anomalies"),
}


def _detector(module: str, function: str) -> Detector:
    # Imported when it runs, so one broken detector fails alone (and is reported) instead of the whole run.
    def run(frame: EventFrame, config: DetectorConfig) -> Sequence[PatternCandidate]:
        return getattr(importlib.import_module(f"homeiq_ai.pattern.detectors.{module}"), function)(frame, config)

    run.__name__ = function
    return run


def default_detectors() -> list[tuple[str, Detector]]:
    """Every detector as (name, function), in the order they run."""
    return [(name, _detector(module, function)) for name, (module, function) in DETECTOR_FUNCTIONS.items()]
