"""The shared kernel: infrastructure used by every module; it imports no module."""
