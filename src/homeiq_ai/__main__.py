"""Allows `python -m homeiq_ai`."""

from homeiq_ai.cli import main

raise SystemExit(main())
