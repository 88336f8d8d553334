"""One ASGI entrypoint per deployment role; each builds its app from settings when imported."""
