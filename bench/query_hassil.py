"""Home Assistant's offline sentence matcher (hassil + home-assistant-intents) on the query labelled set.

hassil matches commands ("turn on the kitchen light"), not automations: it has no triggers or conditions.
This prints how many labelled requests it recognises at all, and on how many of the requests that need
no question its intent names the entity of the first expected action (the most it could contribute).
hassil is not a dependency of the project: install it to run this (`pip install hassil home-assistant-intents`).

    python bench/query_hassil.py
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"


def main() -> None:
    """Run and print the figures as JSON."""
    from hassil import Intents, recognize
    from hassil.expression import TextChunk
    from hassil.intents import TextSlotList, TextSlotValue
    from home_assistant_intents import get_intents

    intents = Intents.from_dict(get_intents("en"))
    rows = [json.loads(line) for line in (DATA / "query_labelled.jsonl").read_text().splitlines() if line.strip()]
    slots_by_home = {}
    for home in {r["home"] for r in rows}:
        raw = json.loads((DATA / "query_homes" / f"{home}.json").read_text())
        names = [
            TextSlotValue(TextChunk(e["friendly_name"]), e["entity_id"]) for e in raw["entities"] if e["friendly_name"]
        ]
        areas = [TextSlotValue(TextChunk(a["name"]), a["area_id"]) for a in raw["areas"]]
        slots_by_home[home] = {
            "name": TextSlotList(name="name", values=names),
            "area": TextSlotList(name="area", values=areas),
            "floor": TextSlotList(name="floor", values=[]),
        }
    recognised = entity_right = plain = 0
    started = time.perf_counter()
    for row in rows:
        result = recognize(row["request"], intents, slot_lists=slots_by_home[row["home"]])
        if result is None:
            continue
        recognised += 1
        if not row["question"] and row["actions"]:
            want = row["actions"][0].split("|")[1].removeprefix("entity:")
            name = result.entities.get("name")
            if name is not None and name.value == want:
                entity_right += 1
    plain = sum(1 for r in rows if not r["question"])
    print(
        json.dumps(
            {
                "rows": len(rows),
                "recognised_any_intent": round(recognised / len(rows), 4),
                "first_action_entity_right_of_no_question_rows": round(entity_right / plain, 4),
                "exact_plan_match": 0.0,
                "mean_ms": round((time.perf_counter() - started) / len(rows) * 1000, 3),
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    sys.exit(main())
