"""Automation module: suggestions, Home Assistant YAML, validation, deployment and rollback (port 8021)."""
