"""Accuracy of the offline query parser on the labelled set (tests/data/query_labelled.jsonl).

Prints, per split (tune / heldout / all): exact plan match (triggers, conditions, actions and entities
all equal to the label), confidently wrong plans (a plan with no question that does not match), and the
ask rate on rows that need no question and on rows that do. `--show` prints the misses of the tune split
(never of the held-out one). `--engine hassil` measures Home Assistant's own sentence matcher instead.

    python bench/query_accuracy.py [--show]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"


def load_index(home: str) -> Any:
    """The catalog index of one labelled home."""
    from homeiq_ai.query.resolution.index import Catalog, CatalogArea, CatalogEntity, CatalogIndex

    raw = json.loads((DATA / "query_homes" / f"{home}.json").read_text())
    entities = [
        CatalogEntity(
            entity_id=e["entity_id"],
            name=e["friendly_name"] or e["entity_id"].split(".", 1)[1].replace("_", " "),
            area_id=e["area_id"],
            device_class=e["device_class"],
            aliases=tuple(e.get("aliases") or ()),
        )
        for e in raw["entities"]
    ]
    areas = [
        CatalogArea(area_id=a["area_id"], name=a["name"], aliases=tuple(a.get("aliases") or ())) for a in raw["areas"]
    ]
    return CatalogIndex(Catalog(entities=entities, areas=areas))


def _ids(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ",".join(sorted(str(v) for v in value))
    return str(value)


def _num(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def canon_trigger(t: dict[str, Any]) -> str:
    """A trigger of HA config as the label's canonical string."""
    p = t.get("platform")
    if p == "time":
        return f"time|{_ids(t['at'])}"
    if p == "sun":
        off = t.get("offset", "0")
        sign = -1 if str(off).startswith("-") else 1
        h, m, s = (int(x) for x in str(off).lstrip("+-").split(":")) if ":" in str(off) else (0, 0, int(off))
        return f"sun|{t['event']}|{sign * (h * 3600 + m * 60 + s)}"
    if p == "state":
        f = t.get("for")
        secs = 0
        if isinstance(f, str) and ":" in f:
            h, m, s = (int(x) for x in f.split(":"))
            secs = h * 3600 + m * 60 + s
        elif isinstance(f, dict):
            secs = f.get("hours", 0) * 3600 + f.get("minutes", 0) * 60 + f.get("seconds", 0)
        elif f:
            secs = int(f)
        return f"state|{_ids(t['entity_id'])}|{t.get('to', '')}|{secs}"
    if p == "numeric_state":
        return f"numeric|{_ids(t['entity_id'])}|{_num(t.get('above'))}|{_num(t.get('below'))}"
    if p == "zone":
        return f"zone|{_ids(t['entity_id'])}|{t['zone']}|{t['event']}"
    return json.dumps(t, sort_keys=True)


def canon_condition(c: dict[str, Any]) -> str:
    """A condition of HA config as the label's canonical string."""
    kind = c.get("condition")
    if kind == "time":
        days = c.get("weekday") or []
        days = [days] if isinstance(days, str) else list(days)
        return f"time|{c.get('after', '')}|{c.get('before', '')}|{','.join(days)}"
    if kind == "state":
        return f"state|{_ids(c['entity_id'])}|{c['state']}"
    if kind == "numeric_state":
        return f"numeric|{_ids(c['entity_id'])}|{_num(c.get('above'))}|{_num(c.get('below'))}"
    return json.dumps(c, sort_keys=True)


def canon_action(a: dict[str, Any]) -> str:
    """An action of HA config as the label's canonical string."""
    if "delay" in a:
        d = a["delay"]
        if isinstance(d, str) and ":" in d:
            h, m, s = (int(x) for x in d.split(":"))
            d = h * 3600 + m * 60 + s
        elif isinstance(d, dict):
            d = d.get("hours", 0) * 3600 + d.get("minutes", 0) * 60 + d.get("seconds", 0)
        return f"delay|{d}"
    if "service" in a:
        target = a.get("target", {})
        parts = [
            f"entity:{e}"
            for e in (
                target.get("entity_id")
                if isinstance(target.get("entity_id"), list)
                else [target["entity_id"]]
                if target.get("entity_id")
                else []
            )
        ]
        parts += [
            f"area:{x}"
            for x in (
                target.get("area_id")
                if isinstance(target.get("area_id"), list)
                else [target["area_id"]]
                if target.get("area_id")
                else []
            )
        ]
        data = ",".join(f"{k}={_num(v)}" for k, v in sorted(a.get("data", {}).items()))
        return f"{a['service']}|{','.join(sorted(parts))}|{data}"
    if "scene" in a:
        return f"scene.turn_on|entity:{a['scene']}|"
    return json.dumps(a, sort_keys=True)


def evaluate(rows: list[dict[str, Any]], show: bool) -> dict[str, dict[str, float]]:
    """Score the offline parser on the rows; returns figures per split."""
    from homeiq_ai.query.parsing.parser import parse_request

    indexes: dict[str, Any] = {}
    stats: dict[str, dict[str, int]] = {}
    spent = 0.0
    for row in rows:
        index = indexes.get(row["home"]) or indexes.setdefault(row["home"], load_index(row["home"]))
        started = time.perf_counter()
        result = parse_request(row["request"], index)
        spent += time.perf_counter() - started
        asked = bool(result.questions)
        ok: bool
        got: tuple[list[str], list[str], list[str]] = ([], [], [])
        if result.plans:
            cfg = result.plans[0].automation.to_config()
            got = (
                sorted(canon_trigger(t) for t in cfg["trigger"]),
                sorted(canon_condition(c) for c in cfg["condition"]),
                [canon_action(a) for a in cfg["action"]],
            )
        want = (sorted(row["triggers"]), sorted(row["conditions"]), row["actions"])
        ok = asked if row["question"] else (not asked and got == want)
        for split in (row["split"], "all"):
            s = stats.setdefault(
                split,
                {"n": 0, "ok": 0, "wrong_confident": 0, "need_q": 0, "asked_need_q": 0, "no_q": 0, "asked_no_q": 0},
            )
            s["n"] += 1
            s["ok"] += ok
            if row["question"]:
                s["need_q"] += 1
                s["asked_need_q"] += asked
            else:
                s["no_q"] += 1
                s["asked_no_q"] += asked
            if not asked and result.plans and got != want:
                s["wrong_confident"] += 1
        if show and not ok and row["split"] == "tune":
            print(f"MISS {row['id']} {row['home']}: {row['request']}", file=sys.stderr)
            print(f"   want {want} q={row['question']}", file=sys.stderr)
            print(f"   got  {got} q={[q.id for q in result.questions]}", file=sys.stderr)
    out: dict[str, dict[str, float]] = {}
    for split, s in stats.items():
        out[split] = {
            "rows": s["n"],
            "exact_match": round(s["ok"] / s["n"], 4),
            "confidently_wrong": round(s["wrong_confident"] / s["n"], 4),
            "ask_rate_when_needed": round(s["asked_need_q"] / max(1, s["need_q"]), 4),
            "ask_rate_when_not_needed": round(s["asked_no_q"] / max(1, s["no_q"]), 4),
        }
    out["timing"] = {"mean_parse_ms": round(spent / len(rows) * 1000, 3)}
    return out


def main() -> None:
    """Run the bench and print the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--show", action="store_true", help="print the misses of the tune split")
    parser.add_argument("--no-fuzzy", action="store_true", help="measure without rapidfuzz typo matching")
    args = parser.parse_args()
    if args.no_fuzzy:
        from homeiq_ai.query.resolution.index import CatalogIndex, Resolution

        CatalogIndex._fuzzy = lambda self, key, domains: Resolution(kind="none")  # type: ignore[method-assign]
    rows = [json.loads(line) for line in (DATA / "query_labelled.jsonl").read_text().splitlines() if line.strip()]
    print(json.dumps(evaluate(rows, args.show), indent=1))


if __name__ == "__main__":
    main()
