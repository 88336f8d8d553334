"""The real Home Assistant fixture of tests/integration/homeassistant, for the fault and crash tests."""

from integration.homeassistant.conftest import *  # noqa: F403  (fixtures: home_assistant, ha_venv, ...)
