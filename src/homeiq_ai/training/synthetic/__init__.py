"""Synthetic homes with planted, known behaviour: the yardstick every detector is measured against.

`generate_home(seed, ...)` builds a home (areas, devices, entities named as Home Assistant names
them), its residents, a period of state changes in Home Assistant's shape, and the ground truth of
what was planted in them. `io` writes and reads the files; `scoring` compares a detector's findings
with the truth. Pure computation: no database, no network, no clock, no global random state.
"""

from homeiq_ai.training.synthetic.events import EventLog
from homeiq_ai.training.synthetic.generator import KNOWN_LOCATIONS, generate_home
from homeiq_ai.training.synthetic.layout import HOME_TYPES
from homeiq_ai.training.synthetic.realism import REALISMS
from homeiq_ai.training.synthetic.spec import (
    Anomaly,
    Area,
    CausalPair,
    DayMark,
    DayTypeDifference,
    Device,
    Entity,
    Event,
    GeneratedHome,
    GroundTruth,
    HomeSpec,
    NoiseTruth,
    Resident,
    Routine,
    Sequence,
    SequenceStep,
    SunRoutine,
    TypicalDuration,
    UnavailableWindow,
    Vacation,
)
from homeiq_ai.training.synthetic.weather import CLIMATE_ZONES

__all__ = [
    "CLIMATE_ZONES",
    "HOME_TYPES",
    "KNOWN_LOCATIONS",
    "REALISMS",
    "Anomaly",
    "Area",
    "CausalPair",
    "DayMark",
    "DayTypeDifference",
    "Device",
    "Entity",
    "Event",
    "EventLog",
    "GeneratedHome",
    "GroundTruth",
    "HomeSpec",
    "NoiseTruth",
    "Resident",
    "Routine",
    "Sequence",
    "SequenceStep",
    "SunRoutine",
    "TypicalDuration",
    "UnavailableWindow",
    "Vacation",
    "generate_home",
]
