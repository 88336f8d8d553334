"""The owner's page in Debian's chromium (Playwright): a real uvicorn all-in-one over stored patterns."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import REPO_ROOT, run_coro, sqlite_url
from factories import STANDARD_PATTERNS, seed_patterns
from homeiq_ai.kernel import migrate
from integration.procs import ServerProcess, free_port, uvicorn_argv

pytestmark = pytest.mark.integration

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = REPO_ROOT / "artifacts" / "web"

if not CHROMIUM.exists():
    pytest.skip(
        "!!! chromium is not installed at /usr/bin/chromium (scripts/test.sh installs it with apt): "
        "the page's browser tests do NOT run",
        allow_module_level=True,
    )
sync_api = pytest.importorskip("playwright.sync_api", reason="!!! playwright is not installed: browser tests skipped")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """The all-in-one process (every module and the page) on a SQLite file with stored patterns."""
    url = sqlite_url(tmp_path / "data" / "shared.db")
    migrate.upgrade(url)
    run_coro(lambda: seed_patterns(url, STANDARD_PATTERNS))
    env = {
        "DATABASE_URL": url,
        "HOMEIQ_DATA_DIR": str(tmp_path / "data"),
        "SCHEDULER_ENABLED": "false",
        "LOG_LEVEL": "WARNING",
        "HOME_TIME_ZONE": "Europe/Berlin",
    }
    port = free_port()
    proc = ServerProcess("all", uvicorn_argv("all", port), env, port, tmp_path)
    try:
        proc.wait_ready()
        yield proc.url
    finally:
        proc.stop()
        assert "Traceback" not in proc.log(), proc.log()


@pytest.fixture
def page(server: str) -> Iterator[Any]:
    """A chromium page; screenshots go to artifacts/web/ (printed)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    print(f"screenshots in {ARTIFACTS}")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, env={**os.environ})
        context = browser.new_context(base_url=server, viewport={"width": 390, "height": 844})
        tab = context.new_page()
        tab.set_default_timeout(15_000)
        try:
            yield tab
        finally:
            browser.close()


def _shot(tab: Any, name: str) -> None:
    tab.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _ha_state(ha: Any, entity_id: str) -> dict[str, Any]:
    """The state of one entity as Home Assistant's REST API reports it."""
    import httpx

    answer = httpx.get(f"{ha.url}/api/states/{entity_id}", headers=ha.headers(), timeout=10)
    assert answer.status_code == 200, (entity_id, answer.status_code, answer.text)
    return answer.json()


def test_suggest_from_patterns_then_reject_with_a_reason(page: Any) -> None:
    """Inbox -> suggest from the stored patterns -> open one -> reject with a reason -> shown rejected."""
    page.goto("/")
    page.get_by_role("button", name="Suggest from the latest patterns").click()
    page.wait_for_selector("article.card")
    _shot(page, "inbox")
    assert "new suggestion" in page.text_content(".flash")
    # No events are stored in this home: the card says so instead of drawing an empty chart.
    assert "no state changes of" in page.text_content("article.card figcaption")
    assert "not replayed: no recorded history of its entities yet" in page.text_content("article.card")
    assert "Europe/Berlin" in page.text_content("footer")
    page.locator("article.card h2 a").first.click()
    page.get_by_label("Reason").fill("not while we are <b>away</b>")
    page.get_by_role("button", name="Reject").click()
    page.wait_for_selector(".badge.rejected")
    _shot(page, "rejected")
    assert "reject: done" in page.text_content(".flash")
    # The reason is shown as text, markup and all.
    assert "Reason given: not while we are <b>away</b>" in page.text_content("main")


def test_a_script_in_a_request_is_shown_as_text(page: Any) -> None:
    """Ask with a <script> in the words: it shows as text and never runs."""
    ran: list[str] = []
    page.on("dialog", lambda d: (ran.append(d.message), d.dismiss()))
    page.goto("/ask")
    page.get_by_label("What should the home do?").fill("<script>alert('x')</script> turn on the kitchen light at 7am")
    page.get_by_role("button", name="Ask", exact=True).click()
    page.wait_for_selector("section.card h2")
    _shot(page, "ask")
    assert "<script>alert('x')</script>" in page.text_content("section.card h2")
    assert ran == []


def test_a_mistake_in_edited_yaml_is_shown_inline(page: Any) -> None:
    """Edit the YAML with a mistake: the finding appears under the editor while typing."""
    page.goto("/")
    page.get_by_role("button", name="Suggest from the latest patterns").click()
    page.locator("article.card h2 a").first.click()
    page.locator("#yaml").fill("alias: broken\ntrigger:\n  - platform: state\naction: [")
    page.wait_for_selector("#live-findings li.critical, #live-findings p.critical")
    _shot(page, "yaml-mistake")
    assert "not available" not in page.text_content("#live-findings")


def test_ask_answer_suggest_approve_deploy_disable_roll_back(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """Ask -> answer the question -> suggestion -> approve -> deploy -> in HA -> disable -> roll back."""
    ha = request.getfixturevalue("home_assistant")
    url = sqlite_url(tmp_path / "data" / "shared.db")
    migrate.upgrade(url)
    env = {
        "DATABASE_URL": url,
        "HOMEIQ_DATA_DIR": str(tmp_path / "data"),
        "SCHEDULER_ENABLED": "false",
        "HA_URL": ha.url,
        "HA_TOKEN": ha.token,
        "DATA_SOURCE": "home_assistant",
    }
    # The owner's first step with Home Assistant: read its home (entities, areas, history) once.
    sync = subprocess.run(
        [sys.executable, "-m", "homeiq_ai", "sync"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert sync.returncode == 0, sync.stderr
    port = free_port()
    proc = ServerProcess("all-ha", uvicorn_argv("all", port), env, port, tmp_path)
    try:
        proc.wait_ready(60)
        with sync_api.sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
            tab = browser.new_context(base_url=proc.url).new_page()
            tab.goto("/ask")
            tab.get_by_label("What should the home do?").fill("turn on the lights at 7am")
            tab.get_by_role("button", name="Ask", exact=True).click()
            if tab.locator("fieldset button").count():
                tab.locator("fieldset button").first.click()
            tab.get_by_role("button", name="Turn it into a suggestion").click()
            tab.locator("article.card h2 a").first.click()
            tab.get_by_role("button", name="Approve").click()
            tab.get_by_role("button", name="Deploy").click()
            tab.wait_for_selector(".badge.deployed")
            _shot(tab, "deployed")
            live = tab.text_content("main")
            found = re.search(r"In Home Assistant as (automation\.[a-z0-9_]+)", live)
            assert found, live
            entity_id = found.group(1)
            first = _ha_state(ha, entity_id)
            assert first["state"] == "on"
            first_alias = first["attributes"]["friendly_name"]
            assert "Only one version so far" in live

            tab.get_by_role("button", name="Disable").click()
            tab.wait_for_selector(".badge.disabled")
            assert _ha_state(ha, entity_id)["state"] == "off"

            # An edit of the deployed automation, deployed again, is version 2 in Home Assistant.
            text = tab.input_value("#yaml")
            tab.locator("#yaml").fill(re.sub(r"(?m)^alias: .*$", "alias: Lights at seven, edited", text, count=1))
            tab.get_by_role("button", name="Save the edit").click()
            tab.wait_for_selector(".badge.approved")
            tab.get_by_role("button", name="Deploy").click()
            tab.wait_for_selector(".badge.deployed")
            assert _ha_state(ha, entity_id)["attributes"]["friendly_name"] == "Lights at seven, edited"
            assert "version 2 (live)" in tab.text_content("main")
            # The diff of version 2 shows the alias line that changed.
            assert tab.locator("pre.diff span.add", has_text="Lights at seven, edited").count() == 1

            tab.locator('input[name="version"][value="1"]').check()
            tab.get_by_role("button", name="Roll back to the chosen version").click()
            _shot(tab, "rolled-back")
            assert "rollback: done" in tab.text_content(".flash")
            assert _ha_state(ha, entity_id)["attributes"]["friendly_name"] == first_alias
            # A rollback is recorded as a new version that names the one it restored.
            assert "version 3 (live)" in tab.text_content("main")
            assert "rollback to version 1" in tab.text_content("main")
            browser.close()
    finally:
        proc.stop()
