"""Render automations as readable YAML in the 2024.3+ syntax, and keep people's words out of templates."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

import yaml

from homeiq_ai.kernel.haconfig.model import Automation

__all__ = ["inert_text", "render_config_yaml", "render_yaml", "slugify"]

_TEMPLATE_MARKERS = ("{{", "{%", "{#")


def inert_text(text: str) -> str:
    """Text that Home Assistant shows as written even where it renders templates (a notify message).

    Words a person typed are data: where they hold Jinja markers they are wrapped in a raw block, so
    `{{ states('lock.front') }}` in an alias or a message is printed, never evaluated.
    """
    if not any(marker in text for marker in _TEMPLATE_MARKERS):
        return text
    # A raw block cannot hold its own end tag; split it out so it stays text too.
    safe = text.replace("{% endraw %}", "{% endraw %}{{ '{% endraw %}' }}{% raw %}")
    return "{% raw %}" + safe + "{% endraw %}"


class _Dumper(yaml.SafeDumper):
    """SafeDumper that indents lists under their key and writes multi-line text as blocks."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> Any:
        return super().increase_indent(flow, False)


_CLOCK_LIKE = re.compile(r"^[-+]?\d+:\d")


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    if _CLOCK_LIKE.match(value):
        # YAML 1.1 reads some unquoted clock times as base-60 numbers (12:30:00 -> 45000): always quote.
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="'")
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_Dumper.add_representer(str, _represent_str)


def render_config_yaml(config: Mapping[str, Any] | Iterable[Mapping[str, Any]]) -> str:
    """YAML of one config dict or a list of them, keys in the order given."""
    data: Any = dict(config) if isinstance(config, Mapping) else [dict(c) for c in config]
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, default_flow_style=False, width=100)


def render_yaml(automations: Automation | Iterable[Automation], *, include_id: bool = True) -> str:
    """YAML of one automation (a mapping) or of several (a list), as automations.yaml holds them."""
    if isinstance(automations, Automation):
        return render_config_yaml(automations.to_config(include_id=include_id))
    return render_config_yaml([a.to_config(include_id=include_id) for a in automations])


def slugify(text: str) -> str:
    """Home Assistant's slug of an alias: the object id of `automation.<slug>`.

    Lower case ASCII letters and digits joined by single underscores (accents are folded), as
    Home Assistant's `slugify` makes them; an alias with none becomes "unnamed".
    """
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    slug = re.sub(r"[^a-z0-9]+", "_", folded).strip("_")
    return slug or "unnamed"
