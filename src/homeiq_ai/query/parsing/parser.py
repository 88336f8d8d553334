"""Rules that read a request: triggers, conditions and actions, resolved against the catalog index.

The parser never guesses where a person would want to be asked: ambiguous names, missing parts, am/pm
and security-sensitive actions become questions with concrete options; answers come back in `answers`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from homeiq_ai.kernel.haconfig import (
    Action,
    Automation,
    Condition,
    DelayAction,
    NumericStateCondition,
    NumericStateTrigger,
    ServiceAction,
    StateCondition,
    StateTrigger,
    SunTrigger,
    Target,
    TimeCondition,
    TimeTrigger,
    Trigger,
    ZoneTrigger,
    inert_text,
)
from homeiq_ai.query.resolution.index import CatalogIndex, Resolution

__all__ = ["ParseResult", "ParsedPlan", "Question", "parse_request"]

DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
DAY_WORDS = {
    "monday": "mon",
    "tuesday": "tue",
    "wednesday": "wed",
    "thursday": "thu",
    "friday": "fri",
    "saturday": "sat",
    "sunday": "sun",
}
COLORS = ("red", "green", "blue", "orange", "yellow", "purple", "pink", "white", "warm white", "cyan")
SWITCHABLE = ("light", "switch", "fan", "media_player", "climate", "humidifier", "input_boolean", "cover")
_TIME = r"(?:\d{1,2}(?::\d{2})?\s*(?:am|pm|a\.m\.|p\.m\.)?|noon|midnight)(?!\s*%)(?!\d)"
_UNIT = r"(seconds?|secs?|minutes?|mins?|hours?|hrs?)"
_VERB = (
    r"\b(?:turn|switch|dim|brighten|set|open|close|lock|unlock|toggle|play|pause|resume|stop|send|notify|"
    r"activate|run|start|arm|disarm)\b"
)


@dataclass(slots=True)
class Question:
    """A question that the plan needs answered, with its options (id, label)."""

    id: str
    text: str
    options: list[tuple[str, str]] = field(default_factory=list)


@dataclass(slots=True)
class ParsedPlan:
    """One plan: the automation, a summary and a confidence."""

    automation: Automation
    summary: str
    confidence: float


@dataclass(slots=True)
class ParseResult:
    """Plans, questions and the entities the request named (with scores)."""

    plans: list[ParsedPlan]
    questions: list[Question]
    entities: list[tuple[str, float]]
    confidence: float
    routine: str | None = None  # "get up" of "when I usually get up": a time the pattern api may know


def _seconds(amount: str, unit: str) -> int:
    value = int(amount)
    if unit.startswith("h"):
        return value * 3600
    if unit.startswith("m"):
        return value * 60
    return value


class _Reader:
    """State of one parse: the text left, what was found, the questions and the answers."""

    def __init__(self, text: str, index: CatalogIndex, answers: dict[str, str]) -> None:
        self.text = " " + text + " "
        self.index = index
        self.answers = answers
        self.triggers: list[Trigger] = []
        self.conditions: list[Condition] = []
        self.actions: list[Action] = []
        self.questions: list[Question] = []
        self.entities: dict[str, float] = {}
        self.scores: list[float] = []
        self.words: list[str] = []  # summary fragments of triggers and conditions
        self.routine: str | None = None

    # --- helpers ---------------------------------------------------------------------------------

    def take(self, pattern: str) -> re.Match[str] | None:
        """Find a pattern, cut it out of the text and return the match."""
        match = re.search(pattern, self.text)
        if match:
            self.text = self.text[: match.start()] + " " + self.text[match.end() :]
        return match

    def ask(self, question: Question) -> None:
        if question.id not in self.answers and all(q.id != question.id for q in self.questions):
            self.questions.append(question)

    def clock(self, raw: str) -> str | None:
        """A clock time as HH:MM:SS; asks am/pm where it cannot tell (answered: the chosen one)."""
        raw = raw.strip().replace(".", "")
        if raw == "noon":
            return "12:00:00"
        if raw == "midnight":
            return "00:00:00"
        m = re.fullmatch(r"(\d{1,2})(?::(\d{2}))?\s*(am|pm)?", raw)
        if not m:
            return None
        hour, minute, half = int(m.group(1)), int(m.group(2) or 0), m.group(3)
        if hour > 23 or minute > 59:
            return None
        if half:
            if hour > 12 or hour == 0:
                return None
            hour = hour % 12 + (12 if half == "pm" else 0)
        elif 1 <= hour <= 12 and not raw.startswith("0"):
            qid = f"time_{hour:02d}{minute:02d}"
            answer = self.answers.get(qid)
            am, pm = f"{hour % 12:02d}:{minute:02d}:00", f"{hour % 12 + 12:02d}:{minute:02d}:00"
            if answer in (am, pm):
                return answer
            self.ask(
                Question(
                    qid,
                    f"Did you mean {hour}:{minute:02d} in the morning or in the evening?",
                    [(am, f"{hour}:{minute:02d} am"), (pm, f"{hour}:{minute:02d} pm")],
                )
            )
            return am
        return f"{hour:02d}:{minute:02d}:00"

    def resolve(self, phrase: str, domains: tuple[str, ...] | None, role: str) -> Resolution:
        """Resolve a phrase; ambiguity or no match becomes a question (answered: the chosen entity)."""
        phrase = re.sub(r"\s+", " ", phrase).strip(" ,.")
        qid = "entity_" + re.sub(r"[^a-z0-9]+", "_", phrase.lower()).strip("_")
        answer = self.answers.get(qid)
        # The person chose it: as sure as an exact name (and it counts in the plan's confidence).
        if answer and answer in self.index.by_id:
            self.entities[answer] = 1.0
            self.scores.append(1.0)
            return Resolution(kind="entity", entity_ids=[answer], score=1.0)
        if answer and answer.startswith("area:") and answer[5:] in self.index.area_names:
            self.scores.append(1.0)
            return Resolution(kind="area", area_id=answer[5:], domain=domains[0] if domains else None, score=1.0)
        if answer == "all":
            every = self.index.resolve(f"all {phrase}", domains)
            if every.kind == "entity":
                for eid in every.entity_ids:
                    self.entities[eid] = 1.0
                self.scores.append(1.0)
                return every
        res = self.index.resolve(phrase, domains)
        if res.kind == "entity":
            for eid in res.entity_ids:
                self.entities[eid] = res.score
            self.scores.append(res.score)
        elif res.kind == "area":
            self.scores.append(res.score)
        else:
            options = [(eid, f"{self.index.name_of(eid)} ({eid})") for eid, _ in res.candidates]
            if res.area_id and res.candidates:
                options.append((f"area:{res.area_id}", f"everything in {self.index.area_names[res.area_id]}"))
            if res.every > 1:
                options.append(("all", f"all of them ({res.every})"))
            text = (
                f"Which one did you mean by '{phrase}' ({role})?"
                if options
                else f"I could not find '{phrase}' ({role}) in your home. Which device did you mean?"
            )
            self.ask(Question(qid, text, options))
        return res

    # --- conditions ------------------------------------------------------------------------------

    def conditions_pass(self) -> None:
        persons = self.index.persons or sorted(self.index.by_domain.get("device_tracker", []))
        m = self.take(r"\b(?:only )?(if|when|while) (?:nobody|no one|noone|no-one|no body) is (?:at )?home\b( and\b)?")
        if m:
            if m.group(1) == "when" and m.group(2):
                # "when nobody is home and the temperature goes above 25": the rest is still the trigger.
                self.text = self.text[: m.start()] + " when " + self.text[m.start() :]
            if persons:
                self.conditions.append(StateCondition(entity_id=persons, state="not_home"))
                self.words.append("when nobody is home")
        if self.take(r"\b(?:only )?(?:after dark|when it(?: is|'s) dark|at night)\b"):
            self.conditions.append(StateCondition(entity_id=["sun.sun"], state="below_horizon"))
            self.words.append("after dark")
        m = self.take(rf"\b(?:only )?between ({_TIME}) and ({_TIME})")
        if m:
            after, before = self.clock(m.group(1)), self.clock(m.group(2))
            if after and before:
                self.conditions.append(TimeCondition(after=after, before=before))
                self.words.append(f"between {after[:5]} and {before[:5]}")
        if self.take(r"\b(?:on |every )?(?:weekdays|weekday|work ?days)\b"):
            self.conditions.append(TimeCondition(weekday=DAYS[:5]))
            self.words.append("on weekdays")
        elif self.take(r"\b(?:on |every |at )?(?:the )?weekends?\b"):
            self.conditions.append(TimeCondition(weekday=DAYS[5:]))
            self.words.append("on weekends")
        else:
            day = r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)s?"
            m = self.take(rf"\b(?:on |every )(?:{day})(?:(?:,| and|, and) (?:{day}))*\b")
            if m:
                days = [DAY_WORDS[d.rstrip("s")] for d in re.findall(day, m.group(0))]
                days = sorted(set(days), key=DAYS.index)
                self.conditions.append(TimeCondition(weekday=days))
                self.words.append("on " + ", ".join(days))
        # numeric and state conditions: "if/only when <thing> is above 25", "only when the tv is on"
        while True:
            m = self.take(
                r"\b(?:only )?(?:if|only when|only while)(?: and)? (?:the )?([a-z0-9 ]+?) is "
                r"(above|over|higher than|more than|below|under|lower than|less than) (-?\d+(?:\.\d+)?)\b"
            )
            if not m:
                break
            res = self.resolve(m.group(1), ("sensor",), "condition")
            if res.kind == "entity":
                value = float(m.group(3)) if "." in m.group(3) else int(m.group(3))
                above = m.group(2) in ("above", "over", "higher than", "more than")
                self.conditions.append(
                    NumericStateCondition(
                        entity_id=res.entity_ids, above=value if above else None, below=None if above else value
                    )
                )
                self.words.append(
                    f"when {self.index.name_of(res.entity_ids[0])} is {'above' if above else 'below'} {value}"
                )
        while True:
            m = self.take(
                r"\b(?:only )?(?:if|only when|only while)(?: and)? (?:the )?([a-z0-9 ]+?) is "
                r"(on|off|open|closed|playing|paused|locked|unlocked)\b"
            )
            if not m:
                break
            res = self.resolve(m.group(1), None, "condition")
            if res.kind == "entity":
                self.conditions.append(StateCondition(entity_id=res.entity_ids, state=m.group(2)))
                self.words.append(f"only when {self.index.name_of(res.entity_ids[0])} is {m.group(2)}")

    # --- triggers --------------------------------------------------------------------------------

    def triggers_pass(self) -> None:
        m = self.take(
            r"\b(?:when|at the time|at the hour) (?:i|we) (?:usually|normally|typically|always) "
            r"(get up|wake up|go to bed|go to sleep|come home|get home|leave(?: home)?|have breakfast|have dinner)\b"
        )
        if m:
            self.routine = m.group(1)
            at = self.answers.get("routine_time", "")
            if re.fullmatch(r"\d{2}:\d{2}:\d{2}", at):
                self.triggers.append(TimeTrigger(at=[at]))
                self.words.append(f"when you usually {m.group(1)} ({at[:5]})")
            else:
                self.ask(
                    Question(
                        "routine_time",
                        f"I do not know yet when you usually {m.group(1)}. At what time?",
                        [("06:30:00", "6:30"), ("07:00:00", "7:00"), ("07:30:00", "7:30")],
                    )
                )
        m = self.take(rf"\b(\d+) {_UNIT} (before|after) (sunset|sunrise|dusk|dawn)\b")
        if m:
            event = "sunset" if m.group(4) in ("sunset", "dusk") else "sunrise"
            offset = _seconds(m.group(1), m.group(2)) * (-1 if m.group(3) == "before" else 1)
            self.triggers.append(SunTrigger(event=event, offset=offset))
            self.words.append(f"{m.group(1)} {m.group(2)} {m.group(3)} {event}")
        m = self.take(r"\b(?:at |every day at |each day at )?(sunset|sunrise|dusk|dawn)\b")
        if m:
            event = "sunset" if m.group(1) in ("sunset", "dusk") else "sunrise"
            self.triggers.append(SunTrigger(event=event))
            self.words.append(f"at {event}")
        m = self.take(rf"\b(?:every day |each day |daily )?at ({_TIME})((?:,? (?:and )?(?:at )?{_TIME})*)")
        if m:
            raws = [m.group(1), *re.findall(_TIME, m.group(2) or "")]
            times = [t for t in (self.clock(r) for r in raws if r.strip()) if t]
            for t in times:
                self.triggers.append(TimeTrigger(at=[t]))
            if times:
                self.words.append("at " + " and ".join(t[:5] for t in times))
        self.event_pass()

    def _for(self, clause: str) -> tuple[str, int | None]:
        m = re.search(rf"\bfor (\d+) {_UNIT}\b", clause)
        if not m:
            return clause, None
        return clause[: m.start()] + clause[m.end() :], _seconds(m.group(1), m.group(2))

    def event_pass(self) -> None:
        m = re.search(r"\b(?:when|whenever|once|as soon as)\b", self.text)
        if not m:
            return
        verb = re.search(r"(?<!is )(?<!are )(?<!been )(?<!the )" + _VERB, self.text[m.end() :])
        end = m.end() + verb.start() if verb else len(self.text)
        clause = self.text[m.end() : end]
        self.text = self.text[: m.start()] + " " + self.text[end:]
        clause = re.sub(r"^\s*(?:and )?", "", clause).strip(" ,")
        clause, hold = self._for(clause)
        clause = re.sub(r"\s+", " ", clause).strip(" ,")
        if not clause:
            return
        # arriving or leaving home
        m = re.fullmatch(r"(?:the )?([a-z ]+?) (?:arrives|gets|comes|returns|is) (?:back )?home", clause)
        n = re.fullmatch(r"(?:the )?([a-z ]+?) (?:leaves|has left|goes out|departs)(?: (?:the )?home)?", clause)
        if m or n:
            who = (m or n).group(1)
            event = "enter" if m else "leave"
            res = self.resolve(who, ("person",), "who") if who not in ("i", "me") else self._me()
            if res.kind == "entity" and res.score < 0.95:
                res = self.resolve(who, ("device_tracker",), "who")
            elif res.kind != "entity":
                alt = self.index.resolve(who, ("device_tracker",))
                if alt.kind == "entity":
                    self.questions = [q for q in self.questions if not q.id.startswith("entity_")]
                    res = alt
                    self.entities.update({e: alt.score for e in alt.entity_ids})
            if res.kind == "entity":
                self.triggers.append(ZoneTrigger(entity_id=res.entity_ids, zone="zone.home", event=event))
                name = self.index.name_of(res.entity_ids[0])
                self.words.append(f"when {name} {'arrives home' if m else 'leaves home'}")
            return
        # motion
        m = (
            re.fullmatch(
                r"(?:there is )?(no )?motion (?:is )?(?:detected |clears? |stops )?(?:in|at|on) (?:the )?([a-z0-9 ]+)",
                clause,
            )
            or re.fullmatch(
                r"(?:the )?([a-z0-9 ]+?) motion (?:detects|sees|senses) (?:movement|motion|someone)", clause
            )
            or re.fullmatch(r"(?:the )?([a-z0-9 ]+?) motion (?:is )?(?:detected|triggers|turns on)", clause)
        )
        if m:
            none = m.lastindex == 2 and bool(m.group(1))
            area_phrase = m.group(2) if m.lastindex == 2 else m.group(1)
            area = self.index.find_area(area_phrase)
            sensors = self.index.motion_in(area) if area else []
            if len(sensors) == 1:
                self.entities[sensors[0]] = 1.0
                res = Resolution(kind="entity", entity_ids=sensors, score=1.0)
            else:
                res = self.resolve(f"{area_phrase} motion", ("binary_sensor",), "motion sensor")
            if res.kind == "entity":
                self.triggers.append(StateTrigger(entity_id=res.entity_ids, to="off" if none else "on", for_=hold))
                word = "stops" if none else "is detected"
                self.words.append(f"when motion {word} ({self.index.name_of(res.entity_ids[0])})")
            return
        # numeric thresholds
        m = re.fullmatch(
            r"(?:the )?([a-z0-9 ]+?) (?:goes |rises |gets |is |climbs |drops |falls |stays )?"
            r"(above|over|higher than|more than|exceeds|below|under|lower than|less than) (-?\d+(?:\.\d+)?)"
            r"(?: ?(?:degrees|%|percent|w|watts|ppm))?",
            clause,
        )
        if m:
            res = self.resolve(m.group(1), ("sensor",), "sensor")
            if res.kind == "entity":
                value = float(m.group(3)) if "." in m.group(3) else int(m.group(3))
                above = m.group(2) in ("above", "over", "higher than", "more than", "exceeds")
                self.triggers.append(
                    NumericStateTrigger(
                        entity_id=res.entity_ids,
                        above=value if above else None,
                        below=None if above else value,
                        for_=hold,
                    )
                )
                self.words.append(
                    f"when {self.index.name_of(res.entity_ids[0])} goes {'above' if above else 'below'} {value}"
                )
            return
        # state changes
        m = re.fullmatch(
            r"(?:the )?([a-z0-9 ]+?) (?:turns|is turned|switches|goes|is|has been|gets turned|changes to) (on|off)",
            clause,
        )
        o = re.fullmatch(
            r"(?:the )?([a-z0-9 ]+?) (?:opens|is opened|is open|has been open|has been opened|gets opened"
            r"|closes|is closed|has been closed|gets closed)",
            clause,
        )
        if m or o:
            phrase = (m or o).group(1)
            to = m.group(2) if m else ("open" if "open" in clause[len(phrase) :] else "closed")
            res = self.resolve(
                phrase,
                (
                    "binary_sensor",
                    "cover",
                    "lock",
                    "light",
                    "switch",
                    "media_player",
                    "fan",
                    "climate",
                    "input_boolean",
                ),
                "trigger",
            )
            if res.kind == "entity":
                eid = res.entity_ids[0]
                state = to
                if self.index.by_id[eid].domain == "binary_sensor" and to in ("open", "closed"):
                    state = "on" if to == "open" else "off"
                self.triggers.append(StateTrigger(entity_id=res.entity_ids, to=state, for_=hold))
                self.words.append(
                    f"when {self.index.name_of(eid)} {'turns ' + to if m else ('opens' if to == 'open' else 'closes')}"
                )
            return
        self.ask(
            Question(
                "trigger_unclear",
                f"I did not understand '{clause}' as a trigger. When should it run?",
                [("sunset", "at sunset"), ("sunrise", "at sunrise"), ("07:00:00", "at 7:00"), ("22:00:00", "at 22:00")],
            )
        )

    def _me(self) -> Resolution:
        persons = self.index.persons
        if len(persons) == 1:
            return Resolution(kind="entity", entity_ids=persons, score=1.0)
        answer = self.answers.get("who_me")
        if answer in persons:
            return Resolution(kind="entity", entity_ids=[answer], score=1.0)
        self.ask(Question("who_me", "Who are you?", [(p, self.index.name_of(p)) for p in persons]))
        return Resolution(kind="none")

    # --- actions ---------------------------------------------------------------------------------

    def actions_pass(self, message: str | None) -> None:
        text = re.sub(r"\s+", " ", self.text).strip(" ,.")
        text = re.sub(r"^(?:then|and|please)\s+", "", text)
        parts = [p.strip(" ,") for p in re.split(r",? and then |, then | then |,? and |, ", text) if p.strip(" ,")]
        last: tuple[Target, str] | None = None
        verb: str | None = None
        for part in parts:
            part = re.sub(r"^(?:please |also |only |then )+", "", part)
            if part in ("notify", "send") or re.fullmatch(
                r"(?:send (?:me )?(?:a )?(?:notification|message|alert))", part
            ):
                part = "notify"
            if part == "notify":
                self.actions.append(
                    ServiceAction(service="notify.notify", data={"message": inert_text(message or "Automation ran")})
                )
                continue
            delay = re.search(rf"\b(?:after|in|for) (\d+) {_UNIT}\b", part)
            if delay and last is not None and re.search(r"\b(?:it|them|back)\b", part):
                off = "turn_on" if re.search(r"\bon\b", part) else "turn_off"
                target, domain = last
                self.actions.append(DelayAction(delay=_seconds(delay.group(1), delay.group(2))))
                self.actions.append(ServiceAction(service=f"{domain}.{off}", target=target))
                continue
            made = self.action(part, verb)
            if made is not None and made[0] is not None:
                action, verb = made
                if isinstance(action, ServiceAction) and not action.target.is_empty():
                    last = (action.target, action.domain)
                self.actions.append(action)

    def action(self, part: str, verb: str | None) -> tuple[Action | None, str] | None:
        m = re.match(r"(turn|switch) (on|off) (.+)$", part) or re.match(r"(turn|switch) (.+) (on|off)$", part)
        if m:
            on = m.group(2) if m.group(2) in ("on", "off") else m.group(3)
            phrase = m.group(3) if m.group(2) in ("on", "off") else m.group(2)
            bright = re.search(r" (?:at|to) (\d{1,3}) ?%(?: brightness)?$", phrase)
            data: dict[str, Any] = {}
            if bright and on == "on":
                phrase = phrase[: bright.start()]
                data["brightness_pct"] = int(bright.group(1))
            return self.service_on(phrase, f"turn_{on}", data), f"turn_{on}"
        m = re.match(r"(toggle) (.+)$", part)
        if m:
            return self.service_on(m.group(2), "toggle", {}), "toggle"
        m = re.match(r"set (?:the )?volume (?:of|on) (.+?) to (\d{1,3}) ?%$", part)
        if m:
            return self.service_on(
                m.group(1), "volume_set", {"volume_level": int(m.group(2)) / 100}, ("media_player",)
            ), "volume"
        m = re.match(r"(?:dim|brighten|set) (.+?) to (\d{1,3}) ?%$", part)
        if m:
            res_domains = ("light", "cover")
            res = self.resolve(m.group(1), res_domains, "action")
            target, domain = self.target(res, "light")
            if target is None:
                return None
            if domain == "cover":
                return ServiceAction(
                    service="cover.set_cover_position", target=target, data={"position": int(m.group(2))}
                ), "set"
            return ServiceAction(
                service="light.turn_on", target=target, data={"brightness_pct": int(m.group(2))}
            ), "set"
        m = re.match(rf"set (.+?) (?:to|on) ({'|'.join(COLORS)})$", part)
        if m:
            return self.service_on(
                m.group(1), "turn_on", {"color_name": m.group(2).replace(" ", "")}, ("light",)
            ), "set"
        m = re.match(r"set (.+?) to (heat|cool|auto|heat_cool|dry|fan_only|off)(?: mode)?$", part)
        if m:
            return self.service_on(m.group(1), "set_hvac_mode", {"hvac_mode": m.group(2)}, ("climate",)), "set"
        m = re.match(r"set (.+?) to (\d{1,2}(?:\.\d)?)(?: ?(?:degrees|°|c))?$", part)
        if m:
            value = float(m.group(2)) if "." in m.group(2) else int(m.group(2))
            return self.service_on(m.group(1), "set_temperature", {"temperature": value}, ("climate",)), "set"
        m = re.match(r"set (.+?) (on|off)$", part)
        if m:
            return self.service_on(m.group(1), f"turn_{m.group(2)}", {}), f"turn_{m.group(2)}"
        m = re.match(r"(open|close|lock|unlock|play|pause|resume|stop|arm|disarm|activate|run|start) (.+)$", part)
        if m:
            word, phrase = m.group(1), m.group(2)
            table = {
                "open": (("cover",), "open_cover"),
                "close": (("cover",), "close_cover"),
                "lock": (("lock",), "lock"),
                "unlock": (("lock",), "unlock"),
                "play": (("media_player",), "media_play"),
                "resume": (("media_player",), "media_play"),
                "pause": (("media_player",), "media_pause"),
                "stop": (("media_player",), "media_stop"),
                "arm": (("alarm_control_panel",), "alarm_arm_away"),
                "disarm": (("alarm_control_panel",), "alarm_disarm"),
                "activate": (("scene",), "turn_on"),
                "run": (("script",), "turn_on"),
                "start": (("script",), "turn_on"),
            }
            domains, service = table[word]
            return self.service_on(phrase, service, {}, domains), word
        m = re.match(r"(.+?) (on|off)$", part)
        if m:
            return self.service_on(m.group(1), f"turn_{m.group(2)}", {}), f"turn_{m.group(2)}"
        if verb in ("turn_on", "turn_off", "toggle"):
            return self.service_on(part, verb, {}), verb
        if verb in ("open", "close", "lock", "play", "pause"):
            return self.action(f"{verb} {part}", None)
        return None

    def service_on(
        self, phrase: str, service: str, data: dict[str, Any], domains: tuple[str, ...] = SWITCHABLE
    ) -> ServiceAction | None:
        phrase = re.sub(r"\b(?:alarm|system)\b$", "", phrase).strip() if "alarm_control_panel" in domains else phrase
        res = self.resolve(phrase, domains, "action")
        target, domain = self.target(res, domains[0])
        if target is None:
            return None
        return ServiceAction(service=f"{domain}.{service}", target=target, data=data)

    def target(self, res: Resolution, default: str) -> tuple[Target | None, str]:
        if res.kind == "entity":
            return Target(entity_id=list(res.entity_ids)), self.index.by_id[res.entity_ids[0]].domain
        if res.kind == "area" and res.area_id:
            return Target(area_id=[res.area_id]), res.domain or default
        return None, default


def sensitive_reason(index: CatalogIndex, action: ServiceAction) -> str | None:
    """Why an action needs a yes first (unlock, disarm, opening a garage door), else None."""
    if action.service in ("lock.unlock", "lock.open", "alarm_control_panel.alarm_disarm"):
        return action.service.split(".")[1].replace("alarm_", "")
    if action.service == "cover.open_cover":
        for eid in action.target.entity_id:
            entity = index.by_id.get(eid)
            if entity and (entity.device_class in ("garage", "gate") or "garage" in eid or "gate" in eid):
                return "open"
    return None


def _describe(index: CatalogIndex, action: Action) -> str:
    if isinstance(action, DelayAction):
        return (
            f"wait {action.delay // 60} min"
            if isinstance(action.delay, int) and action.delay >= 60
            else f"wait {action.delay} s"
        )
    if isinstance(action, ServiceAction):
        what = ", ".join(
            [index.name_of(e) for e in action.target.entity_id]
            + [f"everything ({action.domain}) in {index.area_names.get(a, a)}" for a in action.target.area_id]
        )
        verb = action.name.replace("_", " ")
        extra = ", ".join(f"{k} {v}" for k, v in action.data.items() if k != "message")
        if action.service == "notify.notify":
            return f"send the notification '{action.data.get('message', '')}'"
        return f"{verb} {what}" + (f" ({extra})" if extra else "")
    return type(action).__name__


def parse_request(text: str, index: CatalogIndex, answers: dict[str, str] | None = None) -> ParseResult:
    """Read one request against a catalog index.

    Args:
        text: the request (and any free-text refinements appended).
        index: the home's catalog index.
        answers: question id -> option id (or free text) of questions already answered.

    Returns:
        The plans (empty where a part is missing), the questions still open, the entities named.
    """
    answers = dict(answers or {})
    lowered = text.lower().strip().rstrip(".!?")
    lowered = lowered.replace("\u2019", "'")
    message: str | None = None
    m = re.search(
        r"\b(?:send (?:me )?(?:a )?(?:notification|message|alert)|notify me|tell me|alert me)"
        r"(?: (?:saying|that|with|:)| to say)?\s+(.+)$",
        lowered,
    )
    if m:
        original = text.strip().rstrip(".!?")
        message = original[m.start(1) : m.end(1)] if len(original) == len(lowered) else m.group(1)
        lowered = lowered[: m.start()] + " notify"
    reader = _Reader(lowered, index, answers)
    reader.conditions_pass()
    reader.triggers_pass()
    reader.actions_pass(message)
    # Free-text or option answers to missing parts.
    trig_answer = answers.get("no_trigger") or answers.get("trigger_unclear")
    if not reader.triggers and trig_answer:
        if trig_answer in ("sunset", "sunrise"):
            reader.triggers.append(SunTrigger(event=trig_answer))  # type: ignore[arg-type]
            reader.words.append(f"at {trig_answer}")
        elif re.fullmatch(r"\d{2}:\d{2}:\d{2}", trig_answer):
            reader.triggers.append(TimeTrigger(at=[trig_answer]))
            reader.words.append(f"at {trig_answer[:5]}")
    if (
        not reader.triggers
        and not any(q.id in ("trigger_unclear", "routine_time") for q in reader.questions)
        and not any(q.id.startswith("time_") for q in reader.questions)
    ):
        reader.ask(
            Question(
                "no_trigger",
                "I could not find a trigger. When should this run?",
                [("sunset", "at sunset"), ("sunrise", "at sunrise"), ("07:00:00", "at 7:00"), ("22:00:00", "at 22:00")],
            )
        )
    if not reader.actions and not any(q.id.startswith("entity_") for q in reader.questions):
        reader.ask(Question("no_action", "I could not find what should happen. What should it do?", []))
    kept: list[Action] = []
    for action in reader.actions:
        why = sensitive_reason(index, action) if isinstance(action, ServiceAction) else None
        if why and isinstance(action, ServiceAction):
            qid = f"confirm_{action.service.replace('.', '_')}_{'_'.join(action.target.entity_id)}"
            answer = answers.get(qid)
            if answer == "no":
                continue
            if answer != "yes":
                names = ", ".join(index.name_of(e) for e in action.target.entity_id)
                reader.ask(
                    Question(
                        qid,
                        f"This will {why} {names} without anyone at home confirming. Are you sure?",
                        [("yes", f"Yes, {why} {names}"), ("no", "No, leave that out")],
                    )
                )
        kept.append(action)
    plans: list[ParsedPlan] = []
    confidence = min(reader.scores) if reader.scores else 0.0
    if reader.triggers and kept:
        when = " ".join(reader.words) or "when triggered"
        does = ", then ".join(_describe(index, a) for a in kept)
        summary = f"{when[0].upper()}{when[1:]}: {does}."
        alias = summary if len(summary) <= 100 else summary[:97] + "..."
        automation = Automation(
            alias=inert_text(alias),
            description=inert_text(text.strip()[:500]),
            triggers=reader.triggers,
            conditions=reader.conditions,
            actions=kept,
            mode="restart" if any(isinstance(a, DelayAction) for a in kept) else "single",
        )
        plan_conf = confidence * (0.6 if reader.questions else 1.0)
        plans.append(ParsedPlan(automation=automation, summary=summary, confidence=round(plan_conf, 3)))
    if reader.questions:
        confidence *= 0.6
    return ParseResult(
        plans=plans,
        questions=reader.questions,
        entities=sorted(reader.entities.items(), key=lambda kv: -kv[1]),
        confidence=round(confidence, 3),
        routine=reader.routine,
    )
