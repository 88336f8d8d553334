"""Tests of the synthetic home generator (training.synthetic)."""
