"""The optional LLM planner against a loopback server that speaks the chat-completions protocol."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from homeiq_ai.kernel.db import Database
from homeiq_ai.query.api import QueryRequest
from homeiq_ai.query.llm import LlmPlanner
from homeiq_ai.query.service import QueryService
from query.catalogs import home_index

GOOD = {
    "alias": "Basement light at dusk",
    "summary": "At sunset, turn on the basement light.",
    "trigger": [{"platform": "sun", "event": "sunset"}],
    "condition": [],
    "action": [{"service": "light.turn_on", "target": {"entity_id": "light.basement"}}],
    "mode": "single",
}


class _Chat:
    """What the loopback model answers next, and what it was asked."""

    answer: dict[str, Any] = GOOD
    delay_s: float = 0.0
    requests: list[dict[str, Any]] = []


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        _Chat.requests.append(body)
        time.sleep(_Chat.delay_s)
        reply = {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 0,
            "model": body["model"],
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "stop",
                    "message": {"role": "assistant", "content": json.dumps(_Chat.answer)},
                }
            ],
        }
        data = json.dumps(reply).encode()
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except OSError:
            pass  # the client gave up (timeout case)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def chat_url() -> Iterator[str]:
    """A loopback chat-completions server for one test."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Chat.answer, _Chat.delay_s, _Chat.requests = GOOD, 0.0, []
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


class _Catalog:
    async def index(self) -> Any:
        return home_index("synthetic_family")


def _service(db: Database, url: str, timeout_s: float = 5.0) -> QueryService:
    llm = LlmPlanner("test-key", model="local-model", base_url=url, timeout_s=timeout_s, max_retries=1, candidates=10)
    return QueryService(db, catalog=_Catalog(), llm=llm)  # type: ignore[arg-type]


async def test_llm_plans_what_the_offline_parser_cannot(db: Database, chat_url: str) -> None:
    """No trigger offline -> the model's structured answer, checked, is the plan; only candidates are sent."""
    query = await _service(db, chat_url).create_query(QueryRequest(query="light up the basement when it gets dark"))
    assert (query.engine, query.status) == ("llm", "planned")
    assert query.plan is not None and query.plan["action"][0]["target"] == {"entity_id": "light.basement"}
    sent = _Chat.requests[0]
    assert sent["response_format"]["type"] == "json_schema"
    prompt = sent["messages"][0]["content"]
    assert "light.basement" in prompt and prompt.count("\n") < 20  # top candidates, not 120 entities


async def test_clear_requests_never_reach_the_llm(db: Database, chat_url: str) -> None:
    """A request the offline parser plans is answered offline."""
    query = await _service(db, chat_url).create_query(QueryRequest(query="turn on the porch light at sunset"))
    assert query.engine == "offline" and _Chat.requests == []


async def test_an_unknown_entity_from_the_llm_falls_back(db: Database, chat_url: str) -> None:
    """The model naming an entity the home lacks is refused; the offline answer stands and says so."""
    _Chat.answer = {**GOOD, "action": [{"service": "light.turn_on", "target": {"entity_id": "light.moon"}}]}
    query = await _service(db, chat_url).create_query(QueryRequest(query="light up the basement when it gets dark"))
    assert query.engine == "offline_fallback" and query.notes
    assert query.status == "needs_clarification" and query.plan is None


async def test_a_timeout_falls_back_after_bounded_retries(db: Database, chat_url: str) -> None:
    """A model slower than the timeout: one try plus one retry, then the offline answer."""
    _Chat.delay_s = 1.5
    started = time.monotonic()
    query = await _service(db, chat_url, timeout_s=0.3).create_query(
        QueryRequest(query="light up the basement when it gets dark")
    )
    assert query.engine == "offline_fallback"
    assert len(_Chat.requests) == 2
    assert time.monotonic() - started < 5
