"""Pattern module: routines and synergies mined from the home's event history (port 8016)."""
