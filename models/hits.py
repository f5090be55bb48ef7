"""Online hits as collected: the input shape, its checks, and the stored document."""

import hashlib
import json
import math
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Any

from models.fields import EVARS, EVENTS, HIT_METRICS, MAX_ID_BYTES, MAX_VALUE_BYTES
from models.keys import hit_key
from models.problems import Problem
from models.text import check_text

FUTURE_TOLERANCE = timedelta(minutes=5)
EARLIEST = datetime(1970, 1, 2, tzinfo=UTC)
MAX_PROBLEMS_PER_HIT = 10
DIGEST_LENGTH = 24  # hex characters: 96 bits, no collision among a visitor's recent hits
MAX_IDS_PER_HIT = 10  # each id stores its own snapshot: bound what one hit can write
# Ids that tracking code sends when it has no real one; taking them would merge strangers.
PLACEHOLDER_IDS = frozenset({"0", "null", "undefined", "none", "nil", "nan", "-", "-1"})


@dataclass(frozen=True)
class HitIn:
    """One hit as a client sent it; `dimensions` holds every named dimension given."""

    visitor_id: str
    timestamp: str
    evars: tuple[tuple[int, str], ...] = ()
    events: tuple[tuple[str, float], ...] = ()  # (event5, 1), (orders, 1), (revenue, 9.5), ...
    dimensions: dict[str, str] = field(default_factory=dict)  # pageName, trackingCode, ...
    transaction_id: str | None = None


@dataclass(frozen=True)
class CheckedHit:
    """A hit that passed its checks, with its time parsed and its transaction ids split."""

    index: int
    visitor_id: str
    at: datetime
    values: dict[str, str]  # evarN and named dimensions given on the hit
    events: dict[str, float]
    transaction_ids: tuple[str, ...]
    raw_transaction_id: str | None

    @cached_property
    def digest(self) -> str:
        """What makes a resent hit recognisable: its visitor, time and content. Computed once:
        collection asks for it when it looks the hit up, applies it and stores it."""
        content = [self.visitor_id, self.at.isoformat(), sorted(self.values.items()), sorted(self.events.items()), self.raw_transaction_id]
        return hashlib.sha256(json.dumps(content).encode()).hexdigest()[:DIGEST_LENGTH]


def check_hit(index: int, hit: HitIn, now: datetime) -> tuple[CheckedHit | None, list[Problem]]:
    where = f"hits.{index}"
    problems = _check_counts(where, hit)
    if problems:
        return None, problems
    problems = check_id(f"{where}.visitorId", "visitorId", hit.visitor_id)
    at, time_problems = _check_timestamp(f"{where}.timestamp", hit.timestamp, now)
    problems += time_problems
    problems += _check_values(where, hit)
    problems += _check_events(where, hit.events)
    ids, id_problems = split_transaction_ids(f"{where}.transactionId", hit.transaction_id)
    problems += id_problems
    if problems or at is None:
        return None, _at_most(MAX_PROBLEMS_PER_HIT, where, problems)
    # An empty value sets nothing, as in the suites' own collection.
    values = {k: v for k, v in ({f"evar{n}": v for n, v in hit.evars} | hit.dimensions).items() if v}
    return CheckedHit(index, hit.visitor_id, at, values, dict(hit.events), ids, hit.transaction_id), []


def _check_counts(where: str, hit: HitIn) -> list[Problem]:
    """A hit names each eVar and event once at most, so longer lists are refused unread."""
    problems = []
    if len(hit.evars) > EVARS:
        problems.append(Problem(f"{where}.evars", "TOO_MANY", f"a hit has at most {EVARS} eVars, not {len(hit.evars)}."))
    if len(hit.events) > EVENTS + len(HIT_METRICS):
        problems.append(Problem(f"{where}.events", "TOO_MANY", f"a hit has at most {EVENTS} numbered events, not {len(hit.events)}."))
    return problems


def _at_most(limit: int, where: str, problems: list[Problem]) -> list[Problem]:
    if len(problems) <= limit:
        return problems
    more = Problem(where, "MORE_PROBLEMS", f"... and {len(problems) - limit} more problems with this hit.")
    return [*problems[:limit], more]


def check_id(where: str, name: str, value: str) -> list[Problem]:
    """A visitor id must name one real person: no blanks or placeholders, at most 100 bytes."""
    if value.strip().lower() in PLACEHOLDER_IDS or not value.strip():
        return [Problem(where, "PLACEHOLDER_ID", f"{name} '{value}' is a placeholder, not an id; send the real one.")]
    # Printable text holds no control character: only other text is looked at character by character.
    if not value.isprintable() and any(unicodedata.category(c) == "Cc" for c in value):
        return [Problem(where, "INVALID", f"{name} holds a control character (such as a tab, line break or NUL).")]
    return check_text(where, name, value, MAX_ID_BYTES)


def split_transaction_ids(where: str, value: str | None) -> tuple[tuple[str, ...], list[Problem]]:
    """One or several comma-separated ids, at most 100 bytes in all."""
    if value is None:
        return (), []
    problems = check_text(where, "transactionId (all its ids)", value, MAX_ID_BYTES)
    if problems:
        return (), problems
    ids = tuple(dict.fromkeys(part.strip() for part in value.split(",") if part.strip()))
    if not ids:
        return (), [Problem(where, "INVALID", "transactionId holds no id; leave it out instead.")]
    if len(ids) > MAX_IDS_PER_HIT:
        return (), [Problem(where, "TOO_MANY", f"a hit carries at most {MAX_IDS_PER_HIT} transaction ids, not {len(ids)}.")]
    return ids, []


def _check_timestamp(where: str, text: str, now: datetime) -> tuple[datetime | None, list[Problem]]:
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        return None, [Problem(where, "INVALID_TIMESTAMP", f"'{text}' is not an ISO-8601 time such as 2026-03-02T10:05:00-05:00.")]
    if at.tzinfo is None:
        return None, [Problem(where, "INVALID_TIMESTAMP", f"'{text}' has no UTC offset; add one, e.g. -05:00 or Z.")]
    # Before the epoch is no real hit (0001-01-01 is how some clients send "no date"), and
    # such times may have no form in UTC or in the report suite's time zone.
    if at < EARLIEST:
        return None, [Problem(where, "INVALID_TIMESTAMP", f"'{text}' is before {EARLIEST.date()}: not a real hit time.")]
    if at > now + FUTURE_TOLERANCE:
        return None, [Problem(where, "FUTURE_TIMESTAMP", f"'{text}' is in the future.")]
    # MongoDB keeps milliseconds: order and store hits at the precision they are kept at.
    return at.astimezone(UTC).replace(microsecond=at.microsecond // 1000 * 1000), []


def _check_values(where: str, hit: HitIn) -> list[Problem]:
    problems = []
    for number in _repeated(number for number, _ in hit.evars):
        problems.append(Problem(f"{where}.evars", "DUPLICATE", f"evar{number} is given twice."))
    for number, value in hit.evars:
        if not 1 <= number <= EVARS:
            problems.append(Problem(f"{where}.evars", "INVALID", f"eVar number must be 1 to {EVARS}, not {number}."))
        else:
            problems += check_text(f"{where}.evars", f"evar{number}", value, MAX_VALUE_BYTES)
    for name, value in hit.dimensions.items():
        problems += check_text(f"{where}.{name}", name, value, MAX_VALUE_BYTES)
    return problems


def _repeated(items: Iterable[Any]) -> list[Any]:
    seen: set[Any] = set()
    repeated: set[Any] = set()
    for item in items:
        (repeated if item in seen else seen).add(item)
    return sorted(repeated)


def _check_events(where: str, events: tuple[tuple[str, float], ...]) -> list[Problem]:
    problems = [Problem(f"{where}.events", "DUPLICATE", f"{n} is given twice.") for n in _repeated(name for name, _ in events)]
    for name, value in events:
        if name.startswith("event") and not 1 <= int(name[5:]) <= EVENTS:
            problems.append(Problem(f"{where}.events", "INVALID", f"event number must be 1 to {EVENTS}, not {name[5:]}."))
        elif not math.isfinite(value):
            problems.append(Problem(f"{where}.events", "INVALID", f"{name} must be a finite number."))
    return problems


@dataclass(frozen=True)
class AppliedHit:
    """A hit applied to its visitor's state: its place in the visitor's history and visits."""

    hit: CheckedHit
    seq: int
    visit_number: int
    in_force: dict[str, str]  # every dimension value the hit's events are credited to


@dataclass(frozen=True)
class StoredHit:
    id: str
    rsid: str
    visitor_id: str
    seq: int
    at: datetime
    local_day: str  # the report suite's day, fixed when written (aggregation has no time zones)
    visit_number: int
    values: dict[str, str]
    events: dict[str, float]
    transaction_id: str | None
    digest: str

    @classmethod
    def of(cls, applied: AppliedHit, company_id: str, rsid: str, local_day: str) -> "StoredHit":
        hit = applied.hit
        return cls(
            id=hit_key(company_id, rsid, hit.visitor_id, applied.seq),
            rsid=rsid,
            visitor_id=hit.visitor_id,
            seq=applied.seq,
            at=hit.at,
            local_day=local_day,
            visit_number=applied.visit_number,
            values=applied.in_force,
            events=hit.events,
            transaction_id=hit.raw_transaction_id,
            digest=hit.digest,
        )

    def applied(self, hit: CheckedHit) -> AppliedHit:
        """`hit` as this stored copy of it was applied (for a hit sent again)."""
        return AppliedHit(hit, self.seq, self.visit_number, self.values)

    def to_doc(self, company_id: str) -> dict[str, Any]:
        return {
            "_id": self.id,
            "rsid": self.rsid,
            "companyId": company_id,
            "visitorId": self.visitor_id,
            "seq": self.seq,
            "timestamp": self.at,
            "localDay": self.local_day,
            "visitNumber": self.visit_number,
            "values": self.values,
            "events": self.events,
            "transactionId": self.transaction_id,
            "digest": self.digest,
        }

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> "StoredHit":
        return cls(
            id=doc["_id"],
            rsid=doc["rsid"],
            visitor_id=doc["visitorId"],
            seq=doc["seq"],
            at=doc["timestamp"],
            local_day=doc["localDay"],
            visit_number=doc["visitNumber"],
            values=doc["values"],
            events=doc["events"],
            transaction_id=doc["transactionId"],
            digest=doc["digest"],
        )
