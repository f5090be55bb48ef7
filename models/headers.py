"""The column catalogue of upload files and data source templates.

Headers are matched case-insensitively but their spaces are required: `Evar 1` is valid,
`eVar1` is not. Each header maps to the key that online hits use for the same thing, so
offline and online values meet under one name.
"""

import re
from dataclasses import dataclass
from enum import Enum

EVARS = 250
EVENTS = 1000
DATE = "Date"


class Kind(str, Enum):
    DIMENSION = "DIMENSION"
    METRIC = "METRIC"


@dataclass(frozen=True)
class Header:
    name: str  # canonical spelling, as templates write it
    kind: Kind
    key: str  # the field name shared with online hits


_NAMED = [
    Header("Category", Kind.DIMENSION, "category"),
    Header("Marketing Channel", Kind.DIMENSION, "marketingChannel"),
    Header("Marketing Channel Detail", Kind.DIMENSION, "marketingChannelDetail"),
    Header("Product", Kind.DIMENSION, "products"),
    Header("Tracking Code", Kind.DIMENSION, "trackingCode"),
    Header("transactionID", Kind.DIMENSION, "transactionId"),
    Header("visitorID", Kind.DIMENSION, "visitorId"),
    Header("Zip", Kind.DIMENSION, "zip"),
    Header("Orders", Kind.METRIC, "orders"),
    Header("Price", Kind.METRIC, "revenue"),
    Header("Quantity", Kind.METRIC, "units"),
    Header("Cart Adds", Kind.METRIC, "cartAdds"),
    Header("Cart Removes", Kind.METRIC, "cartRemoves"),
    Header("Cart Views", Kind.METRIC, "cartViews"),
    Header("Cart Opens", Kind.METRIC, "cartOpens"),
    Header("Checkouts", Kind.METRIC, "checkouts"),
]
_BY_LOWER_NAME = {h.name.lower(): h for h in _NAMED}
_NUMBERED = re.compile(r"(evar|event) ([1-9][0-9]*)")
TRANSACTION_ID = _BY_LOWER_NAME["transactionid"]
VISITOR_ID = _BY_LOWER_NAME["visitorid"]


def parse_header(text: str) -> Header | None:
    """The catalogue header `text` names, or None when it names none."""
    lower = text.strip().lower()
    if lower in _BY_LOWER_NAME:
        return _BY_LOWER_NAME[lower]
    numbered = _NUMBERED.fullmatch(lower)
    if not numbered:
        return None
    prefix, number = numbered.group(1), int(numbered.group(2))
    if prefix == "evar" and number <= EVARS:
        return Header(f"Evar {number}", Kind.DIMENSION, f"evar{number}")
    if prefix == "event" and number <= EVENTS:
        return Header(f"Event {number}", Kind.METRIC, f"event{number}")
    return None


def allowed_headers(kind: Kind) -> str:
    """What a column of this kind may be called, for error messages."""
    numbered = f"Evar 1 to Evar {EVARS}" if kind is Kind.DIMENSION else f"Event 1 to Event {EVENTS}"
    return ", ".join([numbered] + [h.name for h in _NAMED if h.kind is kind])
