"""The published language of query and automation: a typed Home Assistant automation, parse and render.

- `model`: Automation, its triggers, conditions and actions; `to_config()` writes Home Assistant's
  config in the 2024.3+ syntax (singular keys, `platform:`, `service:`).
- `parse`: YAML/JSON a person pastes, in the 2024.3 or the 2024.10+ syntax, to the model; errors name
  the path and the line.
- `render`: readable YAML with a fixed key order; `inert_text` keeps people's words out of templates.
"""

from __future__ import annotations

from homeiq_ai.kernel.haconfig.model import *  # noqa: F403
from homeiq_ai.kernel.haconfig.model import __all__ as _model_all
from homeiq_ai.kernel.haconfig.parse import HaConfigError, parse_automation, parse_automations, parse_text
from homeiq_ai.kernel.haconfig.render import inert_text, render_config_yaml, render_yaml, slugify

__all__ = [
    *_model_all,
    "HaConfigError",
    "inert_text",
    "parse_automation",
    "parse_automations",
    "parse_text",
    "render_config_yaml",
    "render_yaml",
    "slugify",
]
