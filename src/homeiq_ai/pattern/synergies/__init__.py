"""Synergies: entities that could be linked by an automation, from capability rules, areas and evidence."""
