"""The field catalogue: every dimension and metric, online and offline, under one name.

A field's `key` is what a hit's input calls it, the key it is stored under, and the name
reports use (`trackingCode`, `evar3`, `revenue`). Its `header` is how an upload file or a
data source template spells it (`Tracking Code`, `Evar 3`, `Price`): case-insensitive,
spaces required. The catalogue also says which fields a transaction snapshot keeps and
how a dimension persists across hits, and holds the limits on what a hit or row carries.
"""

import re
from dataclasses import dataclass
from enum import Enum
from functools import cache, lru_cache

EVARS = 250
EVENTS = 1000
MAX_ID_BYTES = 100  # transactionID and visitorID values
MAX_VALUE_BYTES = 255  # any other dimension value
DATE = "Date"  # the first column of every upload file; not a field of hits


class Kind(str, Enum):
    DIMENSION = "DIMENSION"
    METRIC = "METRIC"


class Persistence(str, Enum):
    """How long a dimension's value lasts after the hit that set it."""

    HIT = "HIT"  # belongs to its hit only
    VISIT = "VISIT"  # lasts the visit; the most recent value wins
    VISIT_ORIGINAL = "VISIT_ORIGINAL"  # lasts the visit; the visit's first value wins
    SETTINGS = "SETTINGS"  # eVars: as the report suite's eVar settings say
    NONE = "NONE"  # ids and metrics: not a persisting value


@dataclass(frozen=True)
class Field:
    key: str
    kind: Kind
    header: str | None  # None: online only, no upload file column
    in_snapshot: bool = False  # a transaction snapshot keeps it
    persistence: Persistence = Persistence.NONE

    @property
    def is_id(self) -> bool:
        return self.key in ("transactionId", "visitorId")


def _dimension(key: str, header: str | None, persistence: Persistence, in_snapshot: bool) -> Field:
    return Field(key, Kind.DIMENSION, header, in_snapshot, persistence)


def _metric(key: str, header: str) -> Field:
    return Field(key, Kind.METRIC, header)


# The named fields, in the order hit inputs list them. eVars and events are numbered
# families, built by `field()` below; the ids are listed last.
NAMED = (
    _dimension("pageName", None, Persistence.HIT, False),
    _metric("orders", "Orders"),
    _metric("revenue", "Price"),
    _metric("units", "Quantity"),
    _metric("cartAdds", "Cart Adds"),
    _metric("cartRemoves", "Cart Removes"),
    _metric("cartViews", "Cart Views"),
    _metric("cartOpens", "Cart Opens"),
    _metric("checkouts", "Checkouts"),
    _dimension("products", "Product", Persistence.HIT, True),
    _dimension("trackingCode", "Tracking Code", Persistence.VISIT, True),
    _dimension("marketingChannel", "Marketing Channel", Persistence.VISIT, True),
    _dimension("marketingChannelDetail", "Marketing Channel Detail", Persistence.VISIT, True),
    _dimension("category", "Category", Persistence.HIT, True),
    _dimension("zip", "Zip", Persistence.HIT, False),
    _dimension("referrer", None, Persistence.VISIT_ORIGINAL, True),
    _dimension("transactionId", "transactionID", Persistence.NONE, False),
    _dimension("visitorId", "visitorID", Persistence.NONE, False),
)
_BY_KEY = {f.key: f for f in NAMED}
_BY_HEADER = {f.header.lower(): f for f in NAMED if f.header}
_NUMBERED_KEY = re.compile(r"(evar|event)([1-9][0-9]*)")
_NUMBERED_HEADER = re.compile(r"(evar|event) ([1-9][0-9]*)")

TRANSACTION_ID = _BY_KEY["transactionId"]
VISITOR_ID = _BY_KEY["visitorId"]
# What a hit carries besides its visitor id, time, eVars, events and transaction ids.
HIT_FIELDS = tuple(f for f in NAMED if not f.is_id)
HIT_DIMENSIONS = tuple(f for f in HIT_FIELDS if f.kind is Kind.DIMENSION)
HIT_METRICS = tuple(f for f in HIT_FIELDS if f.kind is Kind.METRIC)

# Metrics reports count rather than read off a hit or row. Offline rows add only to occurrences.
COUNTED_METRICS = {
    "occurrences": "Hits and offline rows.",
    "pageViews": "Hits with a page name.",
    "visits": "Visits (online only).",
    "visitors": "Unique visitors (online only).",
}


@lru_cache(maxsize=4096)  # called for every value of every hit; names may come from clients
def field(key: str) -> Field | None:
    """The field stored under `key` (`evar12`, `event5`, `trackingCode`), or None."""
    if key in _BY_KEY:
        return _BY_KEY[key]
    numbered = _NUMBERED_KEY.fullmatch(key)
    return _numbered(*numbered.groups()) if numbered else None


def by_header(text: str) -> Field | None:
    """The field an upload header names, matched case-insensitively with its spaces, or None."""
    lower = text.strip().lower()
    if lower in _BY_HEADER:
        return _BY_HEADER[lower]
    numbered = _NUMBERED_HEADER.fullmatch(lower)
    return _numbered(*numbered.groups()) if numbered else None


@cache
def _numbered(prefix: str, number: str) -> Field | None:
    n = int(number)
    if prefix == "evar" and 1 <= n <= EVARS:
        return Field(f"evar{n}", Kind.DIMENSION, f"Evar {n}", in_snapshot=True, persistence=Persistence.SETTINGS)
    if prefix == "event" and 1 <= n <= EVENTS:
        return Field(f"event{n}", Kind.METRIC, f"Event {n}")
    return None


def in_snapshot(key: str) -> bool:
    found = field(key)
    return found is not None and found.in_snapshot


def allowed_headers(kind: Kind) -> str:
    """What a column of this kind may be called, for error messages."""
    numbered = f"Evar 1 to Evar {EVARS}" if kind is Kind.DIMENSION else f"Event 1 to Event {EVENTS}"
    return ", ".join([numbered] + [f.header for f in NAMED if f.kind is kind and f.header])
