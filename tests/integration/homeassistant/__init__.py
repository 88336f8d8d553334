"""Integration tests against a real Home Assistant."""
