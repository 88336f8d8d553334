"""homeiq-ai: routines and requests turned into safe Home Assistant automations."""

__version__ = "0.1.0"
