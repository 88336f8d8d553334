"""A synthetic home shared by the tests: 50 days over the spring DST change, Easter and a vacation."""

from __future__ import annotations

from datetime import date

import pytest

from homeiq_ai.training.synthetic import GeneratedHome, generate_home


@pytest.fixture(scope="session")
def home() -> GeneratedHome:
    """A single-family home in Berlin from 2026-03-09 for 50 days (DST starts on 2026-03-29)."""
    return generate_home(11, home_type="single_family", days=50, start=date(2026, 3, 9))
