"""Optional LLM planner: an OpenAI-compatible chat model with structured output, checked against the catalog.

Used only when OPENAI_API_KEY is set (OPENAI_BASE_URL for local servers such as Ollama or llama.cpp),
and only where the offline parser could not plan. Only the top candidate entities go into the prompt;
every entity and service the model names is checked against the catalog; a timeout or a bad answer
returns None so the offline answer stands (the service says so).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from homeiq_ai.kernel.haconfig import Automation, HaConfigError, ServiceAction, parse_automation
from homeiq_ai.query.resolution.index import CatalogIndex

log = logging.getLogger(__name__)

__all__ = ["PLAN_SCHEMA", "LlmPlanError", "LlmPlanner"]

# The JSON schema of the answer: one HA automation config (2024.3 syntax).
PLAN_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "alias": {"type": "string"},
        "summary": {"type": "string"},
        "trigger": {"type": "array", "items": {"type": "object"}},
        "condition": {"type": "array", "items": {"type": "object"}},
        "action": {"type": "array", "items": {"type": "object"}},
        "mode": {"type": "string", "enum": ["single", "restart", "queued", "parallel"]},
    },
    "required": ["alias", "summary", "trigger", "condition", "action", "mode"],
}

# Domains whose services need no entity of their own.
_FREE_DOMAINS = frozenset({"notify", "persistent_notification", "homeassistant"})


class LlmPlanError(Exception):
    """The model's answer was missing, malformed or named something the home does not have."""


def _entity_ids(value: Any) -> list[str]:
    """Every entity id anywhere in a config fragment."""
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "entity_id":
                found.extend([item] if isinstance(item, str) else [i for i in item if isinstance(i, str)])
            else:
                found.extend(_entity_ids(item))
    elif isinstance(value, list):
        for item in value:
            found.extend(_entity_ids(item))
    return found


def check_plan(raw: dict[str, Any], index: CatalogIndex) -> Automation:
    """The model's plan as a typed automation, once every entity and service is known to the catalog.

    Raises:
        LlmPlanError: malformed config, an unknown entity, or a service of a domain the home lacks.
    """
    config = {k: raw[k] for k in ("alias", "trigger", "condition", "action", "mode") if k in raw}
    try:
        automation = parse_automation(config)
    except HaConfigError as exc:
        raise LlmPlanError(f"the model's plan is not a valid automation: {exc}") from exc
    known = {"sun.sun", "zone.home"}
    for entity_id in _entity_ids(config):
        if entity_id not in index.by_id and entity_id not in known:
            raise LlmPlanError(f"the model named {entity_id!r}, which is not in this home")
    for _path, action in automation.all_actions():
        if isinstance(action, ServiceAction):
            domain = action.domain
            if domain not in _FREE_DOMAINS and domain not in index.by_domain:
                raise LlmPlanError(f"the model called {action.service!r}, but the home has no {domain} entity")
    return automation


class LlmPlanner:
    """Asks an OpenAI-compatible chat model for a plan, with a timeout and bounded retries."""

    def __init__(
        self,
        api_key: str,
        *,
        model: str,
        base_url: str | None = None,
        timeout_s: float = 8.0,
        max_retries: int = 1,
        candidates: int = 25,
    ) -> None:
        from openai import AsyncOpenAI

        self.model = model
        self.candidates = candidates
        self._client = AsyncOpenAI(api_key=api_key, base_url=base_url, timeout=timeout_s, max_retries=max_retries)

    async def close(self) -> None:
        """Close the HTTP client."""
        await self._client.close()

    def prompt(self, text: str, index: CatalogIndex) -> list[dict[str, str]]:
        """The chat messages: instructions, the top candidate entities (never the whole catalog), the request."""
        lines = [f"{eid}: {index.name_of(eid)}" for eid in index.candidates(text, self.candidates)]
        system = (
            "You turn a home owner's request into one Home Assistant automation (2024.3 syntax: "
            "`platform:` in triggers, `service:` in actions). Use only these entities:\n"
            + "\n".join(lines)
            + "\nAnswer with JSON only, matching the schema; `summary` is one plain sentence."
        )
        return [{"role": "system", "content": system}, {"role": "user", "content": text}]

    async def plan(self, text: str, index: CatalogIndex) -> tuple[Automation, str]:
        """The model's plan and summary, checked against the catalog.

        Raises:
            LlmPlanError: no answer in time, or an answer that fails the checks.
        """
        try:
            response = await self._client.chat.completions.create(
                model=self.model,
                messages=self.prompt(text, index),  # type: ignore[arg-type]
                response_format={
                    "type": "json_schema",
                    "json_schema": {"name": "automation_plan", "schema": PLAN_SCHEMA},
                },  # type: ignore[typeddict-item]
                temperature=0,
            )
        except Exception as exc:  # the SDK raises timeouts, connection and status errors
            raise LlmPlanError(f"the language model did not answer: {type(exc).__name__}") from exc
        try:
            content = response.choices[0].message.content or ""
            raw = json.loads(content)
        except (IndexError, AttributeError, json.JSONDecodeError) as exc:
            raise LlmPlanError("the language model's answer was not JSON") from exc
        if not isinstance(raw, dict):
            raise LlmPlanError("the language model's answer was not an object")
        automation = check_plan(raw, index)
        return automation, str(raw.get("summary") or automation.alias)[:300]
