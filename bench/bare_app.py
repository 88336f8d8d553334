"""The baseline for bench/health.py: a bare Litestar app with one GET route returning a small JSON dict."""

from __future__ import annotations

from litestar import Litestar, get


@get("/health", sync_to_thread=False)
def health() -> dict[str, str]:
    """Answer at once with a small JSON body, as /health/health does."""
    return {"status": "ok", "service": "bare", "version": "0"}


app = Litestar(route_handlers=[health])
