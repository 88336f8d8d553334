"""Per-client token buckets on the expensive routes (query, deploy, rollback): 429 with Retry-After."""

from __future__ import annotations

import hashlib
import json
import math
import re
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from litestar.connection import ASGIConnection
from litestar.types import ASGIApp, Receive, Scope, Send

from homeiq_ai.kernel.auth import presented_key
from homeiq_ai.kernel.errors import error_body

__all__ = ["DEFAULT_MAX_CLIENTS", "RateLimiter", "limit_for", "rate_limit_middleware"]

DEFAULT_MAX_CLIENTS = 10_000
SWEEP_INTERVAL_SECONDS = 60.0
_ROLLBACK = re.compile(r"^/api/v1/automations/[^/]+/rollback$")


def limit_for(method: str, path: str) -> str | None:
    """The name of the limit a request falls under ("query" or "deploy"), else None."""
    if method != "POST":
        return None
    path = path.rstrip("/")
    if path == "/api/v1/query" or path.startswith("/api/v1/query/"):
        return "query"
    if path == "/api/v1/deployment/deploy" or _ROLLBACK.match(path):
        return "deploy"
    return None


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """Token buckets per (limit, client); each refills at `per_minute / 60` tokens a second.

    A bucket holds at most a minute's worth of tokens. Memory is bounded: buckets that have refilled
    completely are dropped (they are the same as a new one), and past `max_clients` buckets the one
    used least recently is dropped.
    """

    def __init__(
        self,
        limits: dict[str, int],
        *,
        max_clients: int = DEFAULT_MAX_CLIENTS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Build the limiter.

        Args:
            limits: requests a minute per limit name; 0 disables that limit.
            max_clients: most buckets kept at once.
            clock: seconds, monotonic; injectable for tests.
        """
        self.limits = {name: per_minute for name, per_minute in limits.items() if per_minute > 0}
        self.max_clients = max_clients
        self.clock = clock
        self._buckets: OrderedDict[tuple[str, str], _Bucket] = OrderedDict()
        self._last_sweep = clock()

    def __len__(self) -> int:
        return len(self._buckets)

    def take(self, limit: str, client: str) -> float:
        """Take one token for `client` under `limit`.

        Returns:
            0.0 when the request may go ahead, else the seconds until the next token.
        """
        per_minute = self.limits.get(limit)
        if per_minute is None:
            return 0.0
        now = self.clock()
        if now - self._last_sweep >= SWEEP_INTERVAL_SECONDS:
            self._sweep(now)
        rate = per_minute / 60.0
        key = (limit, client)
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = _Bucket(float(per_minute), now)
            self._buckets[key] = bucket
            while len(self._buckets) > self.max_clients:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(key)
            bucket.tokens = min(float(per_minute), bucket.tokens + max(0.0, now - bucket.updated) * rate)
            bucket.updated = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) / rate

    def _sweep(self, now: float) -> None:
        self._last_sweep = now
        full = [
            key
            for key, bucket in self._buckets.items()
            if bucket.tokens + (now - bucket.updated) * self.limits.get(key[0], 0) / 60.0 >= self.limits.get(key[0], 0)
        ]
        for key in full:
            del self._buckets[key]


def _client_id(scope: Scope) -> str:
    key = presented_key(ASGIConnection(scope))
    if key is not None:
        # Only a digest is kept: the limiter never holds a key in memory longer than the request.
        return "key:" + hashlib.sha256(key.encode()).hexdigest()[:32]
    client = scope.get("client")
    return "addr:" + (str(client[0]) if client else "unknown")


def rate_limit_middleware(limiter: RateLimiter) -> Callable[[ASGIApp], ASGIApp]:
    """An ASGI middleware factory answering 429 with Retry-After when a client's bucket is empty."""

    def factory(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http" or not limiter.limits:
                await app(scope, receive, send)
                return
            limit = limit_for(scope["method"], scope["path"])
            wait = limiter.take(limit, _client_id(scope)) if limit is not None else 0.0
            if wait <= 0.0:
                await app(scope, receive, send)
                return
            retry_after = max(1, math.ceil(wait))
            per_minute = limiter.limits[limit] if limit else 0
            body = error_body(
                429,
                "rate_limited",
                f"rate limit of {per_minute} {limit} requests a minute per client exceeded; retry in {retry_after} s",
                {"limit": limit, "per_minute": per_minute, "retry_after_seconds": retry_after},
            )
            payload = json.dumps(body).encode()
            headers: list[Any] = [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                (b"retry-after", str(retry_after).encode()),
            ]
            await send({"type": "http.response.start", "status": 429, "headers": headers})
            await send({"type": "http.response.body", "body": payload})

        return middleware

    return factory
