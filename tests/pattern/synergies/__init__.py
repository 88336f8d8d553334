"""Tests of synergy detection: rules, scoring, chains, automation coverage and ranking quality."""
