"""Tests of the shared kernel."""
