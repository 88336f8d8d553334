"""The catalog index: names, aliases, areas and domain words of a home, built once per catalog version.

Lookups are dictionary hits; typo tolerance uses rapidfuzz over the prebuilt name list of the wanted
domains only (C code, well under a millisecond for a 3,000-entity home).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

__all__ = ["DOMAIN_WORDS", "Catalog", "CatalogArea", "CatalogEntity", "CatalogIndex", "Resolution", "norm"]

# Words a person uses for a kind of device, to the domains (and device classes) they mean.
DOMAIN_WORDS: dict[str, tuple[str, ...]] = {
    "light": ("light",),
    "lamp": ("light",),
    "bulb": ("light",),
    "thermostat": ("climate",),
    "heating": ("climate",),
    "blind": ("cover",),
    "shade": ("cover",),
    "shutter": ("cover",),
    "curtain": ("cover",),
    "cover": ("cover",),
    "window": ("cover", "binary_sensor"),
    "tv": ("media_player",),
    "television": ("media_player",),
    "speaker": ("media_player",),
    "radio": ("media_player",),
    "fan": ("fan",),
    "lock": ("lock",),
    "switch": ("switch",),
    "plug": ("switch",),
}

_WORD = re.compile(r"[a-z0-9]+")


def _singular(token: str) -> str:
    if len(token) > 3 and token.endswith("s") and not token.endswith("ss"):
        return token[:-1]
    return token


def norm(text: str) -> str:
    """Lower case, words only, each word singular: the form names are indexed and looked up in."""
    return " ".join(_singular(t) for t in _WORD.findall(text.lower().replace("+", " ")))


@dataclass(frozen=True, slots=True)
class CatalogEntity:
    """One entity of the home as the resolver sees it."""

    entity_id: str
    name: str
    area_id: str | None = None
    device_class: str | None = None
    aliases: tuple[str, ...] = ()

    @property
    def domain(self) -> str:
        """The entity's domain (`light` of `light.porch`)."""
        return self.entity_id.split(".", 1)[0]


@dataclass(frozen=True, slots=True)
class CatalogArea:
    """One area of the home."""

    area_id: str
    name: str
    aliases: tuple[str, ...] = ()


@dataclass(slots=True)
class Catalog:
    """A home's areas and entities; `version` is a hash of both, the cache key of its index."""

    entities: list[CatalogEntity]
    areas: list[CatalogArea]
    version: str = ""

    def __post_init__(self) -> None:
        if not self.version:
            blob = json.dumps(
                [
                    [(e.entity_id, e.name, e.area_id, e.device_class, e.aliases) for e in self.entities],
                    [(a.area_id, a.name, a.aliases) for a in self.areas],
                ],
                sort_keys=True,
            )
            self.version = hashlib.sha256(blob.encode()).hexdigest()[:16]


@dataclass(slots=True)
class Resolution:
    """What a phrase names: one or more entities, an area (with a domain), nothing, or several candidates."""

    kind: str  # "entity" | "area" | "none" | "ambiguous"
    entity_ids: list[str] = field(default_factory=list)
    area_id: str | None = None
    domain: str | None = None
    score: float = 0.0
    candidates: list[tuple[str, float]] = field(default_factory=list)
    every: int = 0
    """For a plural phrase that several entities match ("the lights"): how many "all of them" is."""


class CatalogIndex:
    """Every lookup structure of one catalog version."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.version = catalog.version
        self.by_id: dict[str, CatalogEntity] = {e.entity_id: e for e in catalog.entities}
        self.names: dict[str, set[str]] = defaultdict(set)
        self.areas: dict[str, str] = {}
        self.area_names: dict[str, str] = {a.area_id: a.name for a in catalog.areas}
        self.in_area: dict[tuple[str, str], list[str]] = defaultdict(list)
        self.by_domain: dict[str, list[str]] = defaultdict(list)
        self._choices: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for area in catalog.areas:
            for label in (area.name, area.area_id.replace("_", " "), *area.aliases):
                self.areas.setdefault(norm(label), area.area_id)
        for entity in catalog.entities:
            domain = entity.domain
            self.by_domain[domain].append(entity.entity_id)
            if entity.area_id:
                self.in_area[(entity.area_id, domain)].append(entity.entity_id)
            labels = {
                norm(entity.name),
                norm(entity.entity_id.split(".", 1)[1].replace("_", " ")),
                *(norm(a) for a in entity.aliases),
            }
            for label in list(labels):
                words = label.split()
                # "Front Door Lock" is also "front door" to a person locking it.
                if len(words) > 1 and words[-1] in DOMAIN_WORDS and domain in DOMAIN_WORDS[words[-1]]:
                    labels.add(" ".join(words[:-1]))
            for label in labels:
                if label:
                    self.names[label].add(entity.entity_id)
                    self._choices[domain].append((label, entity.entity_id))
        self.persons = sorted(self.by_domain.get("person", []))

    def name_of(self, entity_id: str) -> str:
        """The friendly name of an entity (its id where it has none)."""
        entity = self.by_id.get(entity_id)
        return entity.name if entity else entity_id

    def find_area(self, phrase: str) -> str | None:
        """The area a phrase names exactly, if any."""
        return self.areas.get(norm(phrase))

    def motion_in(self, area_id: str) -> list[str]:
        """Motion or occupancy sensors of an area."""
        return [
            eid
            for eid in self.in_area.get((area_id, "binary_sensor"), [])
            if self.by_id[eid].device_class in ("motion", "occupancy", "presence")
        ]

    def resolve(self, phrase: str, domains: tuple[str, ...] | None = None) -> Resolution:
        """The entity or area a phrase names, preferring `domains`."""
        raw = phrase.lower().strip()
        raw = re.sub(r"^(?:all (?:of )?)?(?:the |my |a )?", "", raw)
        plural = bool(re.search(r"\b\w+s\b\s*$", raw)) or phrase.lower().startswith("all")
        moved = re.match(r"(.+?) in (?:the )?(.+)$", raw)
        if moved and self.find_area(moved.group(2)):
            raw = f"{moved.group(2)} {moved.group(1)}"
        key = norm(raw)
        if not key:
            return Resolution(kind="none")

        def ok(eid: str) -> bool:
            return domains is None or self.by_id[eid].domain in domains

        exact = sorted(e for e in self.names.get(key, ()) if ok(e))
        if len(exact) == 1:
            return Resolution(kind="entity", entity_ids=exact, score=1.0)
        if len(exact) > 1 and domains:
            for domain in domains:
                first = [e for e in exact if self.by_id[e].domain == domain]
                if first:
                    exact = first
                    break
            if len(exact) == 1:
                return Resolution(kind="entity", entity_ids=exact, score=0.97)
        if len(exact) > 1:
            return Resolution(kind="ambiguous", candidates=[(e, 1.0) for e in exact], score=0.5)
        if key in DOMAIN_WORDS:
            wanted = tuple(d for d in DOMAIN_WORDS[key] if domains is None or d in domains) or DOMAIN_WORDS[key]
            members = [eid for d in wanted for eid in self.by_domain.get(d, [])]
            named = [
                eid
                for eid in members
                if key in norm(self.by_id[eid].name).split() or self.by_id[eid].device_class == key
            ]
            pick = named or members
            if len(pick) == 1:
                return Resolution(kind="entity", entity_ids=pick, score=0.9)
            if pick and phrase.lower().lstrip().startswith("all "):
                # "all the lights": every one of them, as said.
                return Resolution(kind="entity", entity_ids=sorted(pick), score=0.9)
            if pick:
                return Resolution(
                    kind="ambiguous",
                    candidates=[(e, 0.8) for e in pick[:6]],
                    score=0.4,
                    every=len(pick) if plural else 0,
                )
        area_hit = self._area_phrase(key, domains, plural)
        if area_hit is not None:
            return area_hit
        return self._fuzzy(key, domains)

    def candidates(self, text: str, limit: int = 25) -> list[str]:
        """The entities whose names best match any part of a text (for an LLM prompt), best first."""
        pool = [pair for choices in self._choices.values() for pair in choices]
        hits = process.extract(norm(text), [label for label, _ in pool], scorer=fuzz.partial_ratio, limit=limit * 3)
        out: list[str] = []
        for _label, _score, index in hits:
            eid = pool[index][1]
            if eid not in out:
                out.append(eid)
        return out[:limit]

    def _area_phrase(self, key: str, domains: tuple[str, ...] | None, plural: bool) -> Resolution | None:
        words = key.split()
        for cut in range(len(words) - 1, 0, -1):
            area = self.areas.get(" ".join(words[:cut]))
            if area is None:
                continue
            rest = " ".join(words[cut:])
            wanted = DOMAIN_WORDS.get(rest)
            if wanted is None:
                return None
            if domains:
                wanted = tuple(d for d in wanted if d in domains) or wanted
            members = [eid for d in wanted for eid in self.in_area.get((area, d), [])]
            if not members:
                return None
            if plural:
                return Resolution(kind="area", area_id=area, domain=wanted[0], score=0.95)
            if len(members) == 1:
                return Resolution(kind="entity", entity_ids=members, score=0.95)
            return Resolution(kind="ambiguous", candidates=[(m, 0.9) for m in members], area_id=area, score=0.5)
        return None

    def _fuzzy(self, key: str, domains: tuple[str, ...] | None) -> Resolution:
        pool: list[tuple[str, str]] = []
        for domain in domains or tuple(self._choices):
            pool.extend(self._choices.get(domain, ()))
        if not pool:
            return Resolution(kind="none")
        hits = process.extract(key, [label for label, _ in pool], scorer=fuzz.WRatio, limit=6, score_cutoff=70)
        best: dict[str, float] = {}
        for _label, score, index in hits:
            eid = pool[index][1]
            best[eid] = max(best.get(eid, 0.0), score / 100.0)
        ranked = sorted(best.items(), key=lambda kv: -kv[1])
        if not ranked:
            return Resolution(kind="none")
        top = ranked[0]
        if top[1] >= 0.84 and (len(ranked) == 1 or top[1] - ranked[1][1] >= 0.06):
            return Resolution(kind="entity", entity_ids=[top[0]], score=top[1], candidates=ranked[:4])
        return Resolution(kind="ambiguous", candidates=ranked[:4], score=top[1] * 0.5)
