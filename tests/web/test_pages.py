"""The owner's page through the app: pages render, people's words are escaped, CSRF and the key cookie."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from homeiq_ai.web.svg import hour_chart

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


async def test_every_page_renders_with_the_health_strip(app_client: Callable[..., Any]) -> None:
    """Inbox, Ask, Patterns and Runs answer HTML with the four health components and the time zone."""
    async with app_client("all") as client:
        for path in ("/", "/ask", "/patterns", "/runs"):
            response = await client.get(path)
            assert response.status_code == 200, (path, response.text[:500])
            assert response.headers["content-type"].startswith("text/html")
            for part in ("Home Assistant", "Broker", "LLM", "Database"):
                assert part in response.text
            assert "time zone: UTC" in response.text
            assert "script-src 'self'" in response.headers["content-security-policy"]


async def test_a_script_in_a_request_shows_as_text(app_client: Callable[..., Any]) -> None:
    """What a person typed is escaped: a <script> comes back as text, never as markup."""
    async with app_client("all") as client:
        page = await client.get("/ask")
        token = CSRF.search(page.text).group(1)
        posted = await client.post(
            "/ask", data={"csrf_token": token, "query": "<script>alert(1)</script> turn on the porch light"}
        )
        assert posted.status_code in (303, 200), posted.text[:300]
        shown = await client.get(posted.headers["location"]) if posted.status_code == 303 else posted
        assert "<script>alert(1)</script>" not in shown.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in shown.text


async def test_a_form_without_the_csrf_token_is_refused(app_client: Callable[..., Any]) -> None:
    """A post without the session's token (or with another one) is 403 and changes nothing."""
    async with app_client("all") as client:
        await client.get("/ask")
        missing = await client.post("/ask", data={"query": "turn on the light"})
        assert missing.status_code == 403 and "CSRF" in missing.text
        wrong = await client.post("/ask", data={"query": "turn on the light", "csrf_token": "x" * 43})
        assert wrong.status_code == 403
        cross = await client.post(
            "/ask", data={"query": "x"}, headers={"origin": "http://evil.example"}
        )
        assert cross.status_code == 403


async def test_the_api_key_is_asked_once_and_kept_in_a_strict_httponly_cookie(
    app_client: Callable[..., Any], make_settings: Callable[..., Any]
) -> None:
    """With API_KEY set the page sends people to /login; the cookie opens the page but not the REST api."""
    settings = make_settings(API_KEY="s3cret-key-for-tests")
    async with app_client("all", settings) as client:
        first = await client.get("/", follow_redirects=False)
        assert first.status_code == 303 and first.headers["location"] == "/login"
        login = await client.get("/login")
        token = CSRF.search(login.text).group(1)
        bad = await client.post("/login", data={"csrf_token": token, "api_key": "wrong"})
        assert bad.status_code == 401 and "not the API key" in bad.text
        good = await client.post(
            "/login", data={"csrf_token": token, "api_key": "s3cret-key-for-tests"}, follow_redirects=False
        )
        assert good.status_code == 303
        cookie = good.headers["set-cookie"]
        assert "HttpOnly" in cookie and "samesite=strict" in cookie.lower()
        assert "s3cret-key-for-tests" not in cookie
        assert (await client.get("/")).status_code == 200
        # The cookie is for the page only: the REST api still wants the header.
        assert (await client.get("/api/v1/patterns")).status_code == 401


def test_hour_chart_draws_24_bars_and_escapes_its_title() -> None:
    """The server-drawn chart has one bar per hour and its title is text."""
    svg = str(hour_chart([float(h % 5) for h in range(24)], title="<b>x</b>"))
    assert svg.count("<rect") == 24 and "&lt;b&gt;x&lt;/b&gt;" in svg
    with pytest.raises(ValueError, match="24 values"):
        hour_chart([1.0] * 23, title="t")


