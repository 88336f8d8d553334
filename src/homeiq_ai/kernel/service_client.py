"""Calls to named peer services over HTTP, with timeouts and bounded retries.

Retries happen only where repeating cannot do harm: connection failures (nothing was sent) for every
method, and timeouts or 5xx answers for idempotent methods. A 4xx is never retried.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Self, TypeVar

import backoff
import httpx
import msgspec

from homeiq_ai.kernel.errors import (
    BadRequestError,
    GatewayTimeoutError,
    NotFoundError,
    ServiceUnavailableError,
    UpstreamError,
)

__all__ = ["OwnsHttpClient", "PeerError", "ServiceClient", "ServiceClients"]

T = TypeVar("T")

log = logging.getLogger(__name__)

_IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


class OwnsHttpClient:
    """Mixin for a client object holding its own `httpx.AsyncClient` as `_http`: `async with` closes it."""

    _http: httpx.AsyncClient

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP connection pool."""
        await self._http.aclose()


class PeerError(Exception):
    """A peer answered 4xx: the request was wrong or the resource is missing; never retried."""

    def __init__(self, service: str, status_code: int, body: Any) -> None:
        self.service = service
        self.status_code = status_code
        self.body = body
        code = body.get("code") if isinstance(body, dict) else None
        message = body.get("message") if isinstance(body, dict) else None
        self.code: str = code or "peer_error"
        self.message: str = message or f"{service} answered HTTP {status_code}"
        super().__init__(f"{service}: HTTP {status_code}: {self.message}")


class _Retryable(Exception):
    """Internal: a failure worth one more try."""

    def __init__(self, reason: str, response: httpx.Response | None = None, *, timed_out: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.response = response
        self.timed_out = timed_out


def _body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return {"message": response.text[:500]}


class ServiceClient:
    """One named peer service at one base URL."""

    def __init__(
        self,
        name: str,
        base_url: str,
        http: httpx.AsyncClient,
        *,
        tries: int = 3,
        timeout: float = 10.0,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.name = name
        self.base_url = base_url.rstrip("/")
        self._http = http
        self._tries = tries
        self._timeout = timeout
        self._headers = dict(headers or {})

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        idempotent: bool | None = None,
        timeout: float | None = None,
    ) -> httpx.Response:
        """Send one request, retrying within the rules above.

        Args:
            method: HTTP method.
            path: path below the service's base URL, starting with '/'.
            json: JSON body.
            params: query parameters; None values are left out.
            idempotent: whether timeouts and 5xx may be retried; defaults by method.
            timeout: per-try timeout in seconds; defaults to the client's.

        Returns:
            The 2xx/3xx response.

        Raises:
            PeerError: the peer answered 4xx.
            UpstreamError: the peer kept answering 5xx.
            ServiceUnavailableError: the peer could not be reached or kept timing out.
        """
        method = method.upper()
        safe = method in _IDEMPOTENT if idempotent is None else idempotent
        url = f"{self.base_url}{path}"
        clean_params = {k: v for k, v in (params or {}).items() if v is not None}

        def _giveup(exc: Exception) -> bool:
            return not isinstance(exc, _Retryable)

        @backoff.on_exception(
            backoff.expo,
            _Retryable,
            max_tries=self._tries,
            factor=0.2,
            max_value=2.0,
            giveup=_giveup,
            logger=None,
        )
        async def _once() -> httpx.Response:
            try:
                response = await self._http.request(
                    method,
                    url,
                    json=json,
                    params=clean_params,
                    headers=self._headers,
                    timeout=timeout or self._timeout,
                )
            except httpx.ConnectError as exc:
                raise _Retryable(f"cannot connect: {exc}") from exc
            except httpx.TimeoutException as exc:
                connecting = isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout)
                if not safe and not connecting:
                    raise GatewayTimeoutError(
                        f"{self.name} did not answer {method} {path} within {timeout or self._timeout:g} s; "
                        "not retried because it may have been applied",
                        code="peer_timeout",
                        details={"service": self.name},
                    ) from exc
                # A connect timeout means unreachable (503); a read/write timeout means slow (504).
                raise _Retryable(f"timed out ({type(exc).__name__})", timed_out=not connecting) from exc
            except httpx.TransportError as exc:
                # The request may have reached the peer before the connection broke (ReadError,
                # RemoteProtocolError): only an idempotent call may be repeated.
                if not safe:
                    raise ServiceUnavailableError(
                        f"{self.name} dropped the connection during {method} {path}; not retried because "
                        "it may have been applied",
                        code="peer_unavailable",
                        details={"service": self.name},
                    ) from exc
                raise _Retryable(f"transport error: {exc}") from exc
            if response.status_code >= 500:
                if safe:
                    raise _Retryable(f"HTTP {response.status_code}", response)
                return response
            return response

        try:
            response = await _once()
        except _Retryable as exc:
            if exc.response is not None:
                raise UpstreamError(
                    f"{self.name} answered HTTP {exc.response.status_code} to {method} {path} "
                    f"after {self._tries} tries",
                    details={"service": self.name, "body": _body(exc.response)},
                ) from exc
            if exc.timed_out:
                raise GatewayTimeoutError(
                    f"{self.name} did not answer {method} {path} within {timeout or self._timeout:g} s "
                    f"({self._tries} tries)",
                    code="peer_timeout",
                    details={"service": self.name},
                ) from exc
            raise ServiceUnavailableError(
                f"{self.name} is unreachable at {self.base_url} after {self._tries} tries: {exc.reason}",
                code="peer_unavailable",
                details={"service": self.name},
            ) from exc
        if response.status_code >= 500:
            raise UpstreamError(
                f"{self.name} answered HTTP {response.status_code} to {method} {path}",
                details={"service": self.name, "body": _body(response)},
            )
        if response.status_code >= 400:
            raise PeerError(self.name, response.status_code, _body(response))
        return response

    async def call(
        self,
        method: str,
        path: str,
        response_type: type[T],
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        errors: Mapping[str, type[Exception]] | None = None,
        idempotent: bool | None = None,
    ) -> T:
        """Call a peer's api route and decode the answer into a DTO.

        msgspec Structs in `json` are encoded as JSON. A 4xx whose `code` names one of the peer api's
        declared `errors` is raised as that error, so callers see the same errors as in-process.

        Raises:
            The declared error, BadRequestError / NotFoundError for other 4xx, UpstreamError,
            ServiceUnavailableError.
        """
        body = msgspec.to_builtins(json) if json is not None else None
        try:
            response = await self.request(method, path, json=body, params=params, idempotent=idempotent)
        except PeerError as exc:
            declared = (errors or {}).get(exc.code)
            if declared is not None:
                raise declared(exc.message) from exc
            if exc.status_code == 404:
                raise NotFoundError(exc.message, code=exc.code) from exc
            raise BadRequestError(f"{self.name}: {exc.message}", code=exc.code, details=exc.body) from exc
        except UpstreamError as exc:
            # A declared error with a 5xx status (a peer's "not configured" 503, say) is raised as itself.
            body = (exc.details or {}).get("body") if isinstance(exc.details, dict) else None
            code = body.get("code") if isinstance(body, dict) else None
            declared = (errors or {}).get(code) if isinstance(code, str) else None
            if declared is not None:
                raise declared(str(body.get("message") or exc.message)) from exc
            raise
        try:
            return msgspec.json.decode(response.content, type=response_type)
        except msgspec.ValidationError as exc:
            raise UpstreamError(f"{self.name} answered {method} {path} with an unexpected body: {exc}") from exc

    async def get_json(self, path: str, *, params: Mapping[str, Any] | None = None) -> Any:
        """GET a path and decode its JSON body."""
        return (await self.request("GET", path, params=params)).json()

    async def post_json(self, path: str, *, json: Any = None, idempotent: bool | None = None) -> Any:
        """POST a JSON body and decode the JSON answer."""
        return (await self.request("POST", path, json=json, idempotent=idempotent)).json()

    async def health(self, timeout: float = 2.0) -> bool:
        """Return whether the peer answers its liveness probe; never raises."""
        try:
            response = await self._http.get(f"{self.base_url}/health/live", timeout=timeout)
        except httpx.HTTPError:
            return False
        return response.status_code == 200


class ServiceClients:
    """The named peer services of this process, sharing one connection pool."""

    def __init__(
        self,
        urls: Mapping[str, str],
        *,
        tries: int = 3,
        timeout: float = 10.0,
        api_key: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._urls = dict(urls)
        self._tries = tries
        self._timeout = timeout
        self._headers = {"X-API-Key": api_key} if api_key else {}
        self._http = httpx.AsyncClient(
            transport=transport,
            limits=httpx.Limits(max_connections=50, max_keepalive_connections=20),
            follow_redirects=False,
        )
        self._clients: dict[str, ServiceClient] = {}

    def service(self, name: str) -> ServiceClient:
        """Return the client of a named service.

        Raises:
            KeyError: no URL is configured for that name.
        """
        client = self._clients.get(name)
        if client is None:
            if name not in self._urls:
                raise KeyError(f"no URL configured for service {name!r}")
            client = ServiceClient(
                name,
                self._urls[name],
                self._http,
                tries=self._tries,
                timeout=self._timeout,
                headers=self._headers,
            )
            self._clients[name] = client
        return client

    async def aclose(self) -> None:
        """Close the shared connection pool."""
        await self._http.aclose()
