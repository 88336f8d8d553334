"""The owner's page: suggestions with their evidence, Ask, patterns and synergies, runs, health."""
