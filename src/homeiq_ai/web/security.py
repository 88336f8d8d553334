"""The page's own guard: the API key kept in an HttpOnly cookie, and a per-session CSRF token."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers import BaseRouteHandler

__all__ = [
    "CSRF_COOKIE",
    "CSRF_FIELD",
    "CSRF_HEADER",
    "KEY_COOKIE",
    "WebSecurity",
]

KEY_COOKIE = "homeiq_key"
CSRF_COOKIE = "homeiq_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Paths of the page that answer without the key: the key form itself and the stylesheet it uses.
OPEN_PATHS = ("/login", "/static/")


class LoginRequired(NotAuthorizedException):
    """The page needs the API key first; GET requests are sent to /login instead."""


class WebSecurity:
    """API key cookie and CSRF checks for the page's routes only (the REST api keeps its headers).

    The cookie holds an HMAC of the key, not the key: a stolen cookie does not reveal the key that the
    REST api accepts, and the REST api never accepts the cookie.
    """

    def __init__(self, api_key: str | None) -> None:
        self.api_key = api_key
        self._session_token = (
            hmac.new(api_key.encode(), b"homeiq-ai web session v1", hashlib.sha256).hexdigest()
            if api_key
            else None
        )

    @property
    def enabled(self) -> bool:
        """Whether API_KEY is set, so the page asks for it."""
        return self.api_key is not None

    def key_matches(self, presented: str) -> bool:
        """Compare a key typed into the form with API_KEY in constant time."""
        if self.api_key is None:
            return True
        return hmac.compare_digest(presented.strip().encode(), self.api_key.encode())

    def session_cookie(self) -> Cookie:
        """The cookie that keeps the key for the page: HttpOnly, SameSite=Strict, the whole site."""
        assert self._session_token is not None
        return Cookie(
            key=KEY_COOKIE,
            value=self._session_token,
            httponly=True,
            samesite="strict",
            path="/",
            max_age=30 * 24 * 3600,
        )

    def authenticated(self, connection: ASGIConnection[Any, Any, Any, Any]) -> bool:
        """Whether the request carries the page's key cookie (always true without API_KEY)."""
        if self._session_token is None:
            return True
        cookie = connection.cookies.get(KEY_COOKIE, "")
        return hmac.compare_digest(cookie.encode(), self._session_token.encode())

    def guard(self, connection: ASGIConnection[Any, Any, Any, Any], _handler: BaseRouteHandler) -> None:
        """Router guard: key cookie on every page but /login, CSRF token on every unsafe method."""
        path = connection.scope["path"]
        if not path.startswith(OPEN_PATHS) and not self.authenticated(connection):
            raise LoginRequired("this page needs the API key: sign in at /login")
        if connection.scope["method"] in UNSAFE_METHODS:
            check_origin(connection)
            # The form field is checked in the handler (the body is not parsed yet); the header here.
            header = connection.headers.get(CSRF_HEADER)
            if header is not None and not csrf_matches(connection, header):
                raise PermissionDeniedException("the form's CSRF token does not match: reload the page")


def new_csrf_token() -> str:
    """A fresh random per-session token."""
    return secrets.token_urlsafe(32)


def csrf_cookie(token: str) -> Cookie:
    """The double-submit cookie: HttpOnly, SameSite=Strict."""
    return Cookie(key=CSRF_COOKIE, value=token, httponly=True, samesite="strict", path="/")


def csrf_matches(connection: ASGIConnection[Any, Any, Any, Any], submitted: str | None) -> bool:
    """Whether the submitted token equals the session's cookie (constant time); missing is False."""
    cookie = connection.cookies.get(CSRF_COOKIE)
    if not cookie or not submitted:
        return False
    return hmac.compare_digest(cookie.encode(), submitted.encode())


def check_origin(connection: ASGIConnection[Any, Any, Any, Any]) -> None:
    """Refuse a cross-site form post: an Origin header, when sent, must name this host."""
    origin = connection.headers.get("origin")
    if not origin or origin == "null":
        return
    host = connection.headers.get("host", "")
    if origin.split("://", 1)[-1].rstrip("/") != host:
        raise PermissionDeniedException(f"a form from {origin} may not post here")
