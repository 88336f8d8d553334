"""Pattern detectors: pure functions from an EventFrame (columns in the home's local time) to candidates."""
