"""Reports: a dimension broken down by metrics over a range of the report suite's days,
online and offline side by side (DOMAIN.md's "Reporting").

What a hit or row credits is fixed when it is written: a hit's `values` are the values in
force at it; an offline row's `values` are its own merged with what linking added (a
transaction snapshot's values, or its visitor's state as of its time; its own win). So
crediting is reading `values.<dimension>`: a summary row credits its own values, a linked
row its own and its snapshot's or visitor's, and a hit or row that lacks the dimension
credits Unspecified. Offline rows add to their own metrics and to occurrences only: never
to page views, visits or visitors.

Participation credits a unit's metric totals to every value of the dimension seen in it:
- VISIT: the unit is a visit (its hits in the range). Offline rows belong to no visit, so
  a VISIT report has no offline part.
- VISITOR: the unit is a visitor: its hits in the range and its offline rows in the range
  (rows linked by transaction id to one of its snapshots, and visitor-ID rows). An offline
  row's values (its own and what linking added) count as seen for its visitor, as its hits'
  do: participation asks what the visitors who had a value did in all, online and offline.
  This changes no crediting outside participation: a row's own values never reach the
  visitor's profile or other rows. Summary rows belong to no visitor and take no part.
Unspecified is seen in a unit only when none of its hits or rows has a value. With DAY,
each amount stays on the day it happened and is credited to the values seen in its unit
over the whole range. Visits and visitors are counted, not summed: a value gets the
distinct visits and the distinct visitors (with an online hit) of the units that saw it.

Totals are what the range holds for the sources asked, without participation: the visits
and visitors totals count each visit and visitor once, so participation rows (and rows of
visits seen with several values) may add up to more than the totals.

Everything is computed by one aggregation pipeline in the store: hits (and, through
`$unionWith`, offline rows) matched on the indexed (rsid, localDay), grouped, sorted and
paged there, so a new upload, a deleted job or a late-linked row shows in the next report.
Group keys are single strings built with `$concat` (some wire servers take a compound
`$group` key as a literal), in which the visitor id comes first (visitor ids hold no
control characters) and the dimension value last, so a key stands for one combination.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import Enum
from typing import Any

from models import fields
from models.fields import COUNTED_METRICS, EVARS, EVENTS, HIT_DIMENSIONS, HIT_METRICS, Kind
from models.problems import Problem, invalid
from models.store import HITS, ROWS

MAX_METRICS = 10
MAX_DATA_SOURCES = 100  # offline data sources a report may name
MAX_DAYS = 731  # two years, leap day included
DEFAULT_DAYS = 30
MAX_OFFSET = 1_000_000
UNSPECIFIED = "Unspecified"
DISTINCT_METRICS = ("visits", "visitors")  # counted per visit and visitor, online only
SEP = "\x1f"  # between the parts of a group key: no visitor id holds it
VALUE_MARK = "="  # starts the value part of a key; an empty value part is Unspecified

Doc = dict[str, Any]


class Granularity(str, Enum):
    TOTAL = "TOTAL"  # one row per value over the whole range
    DAY = "DAY"  # one row per value and day


class Sources(str, Enum):
    ONLINE = "ONLINE"
    OFFLINE = "OFFLINE"
    ALL = "ALL"

    @property
    def online(self) -> bool:
        return self is not Sources.OFFLINE

    @property
    def offline(self) -> bool:
        return self is not Sources.ONLINE


class Participation(str, Enum):
    NONE = "NONE"
    VISIT = "VISIT"
    VISITOR = "VISITOR"


@dataclass(frozen=True)
class ReportRequest:
    """What a report asks for, as given; `check` says what is wrong with it."""

    dimension: str
    metrics: tuple[str, ...]
    first_day: date
    last_day: date
    granularity: Granularity = Granularity.TOTAL
    sources: Sources = Sources.ALL
    participation: Participation = Participation.NONE
    data_source_ids: tuple[str, ...] | None = None  # None: every offline data source
    first: int = 20
    offset: int = 0  # rows before the page


def default_days(today: date) -> tuple[date, date]:
    """The range a report covers when it names none: the last 30 days, today included."""
    return today - timedelta(days=DEFAULT_DAYS - 1), today


def valid_dimensions() -> str:
    return ", ".join([f"evar1 to evar{EVARS}", *(f.key for f in HIT_DIMENSIONS)])


def valid_metrics() -> str:
    return ", ".join([f"event1 to event{EVENTS}", *(f.key for f in HIT_METRICS), *COUNTED_METRICS])


def is_dimension(name: str) -> bool:
    found = fields.field(name)
    return found is not None and found.kind is Kind.DIMENSION and not found.is_id


def is_metric(name: str) -> bool:
    found = fields.field(name)
    return name in COUNTED_METRICS or (found is not None and found.kind is Kind.METRIC)


def check(request: ReportRequest, max_page: int) -> list[Problem]:
    """Every problem with the request, each naming its input field."""
    problems = []
    if not is_dimension(request.dimension):
        problems.append(invalid("dimension", f"'{request.dimension}' is no dimension; reports break down by {valid_dimensions()}."))
    problems += _check_metrics(request.metrics)
    if request.first_day > request.last_day:
        problems.append(invalid("from", f"from ({request.first_day}) is after to ({request.last_day})."))
    elif (request.last_day - request.first_day).days + 1 > MAX_DAYS:
        problems.append(invalid("to", f"a report covers at most {MAX_DAYS} days; from {request.first_day} to {request.last_day} is more."))
    if not 0 <= request.first <= max_page:
        problems.append(invalid("first", f"first must be 0 to {max_page}, not {request.first}."))
    if request.offset > MAX_OFFSET:
        problems.append(invalid("after", f"a report pages through at most {MAX_OFFSET:,} rows."))
    return problems


def _check_metrics(metrics: tuple[str, ...]) -> list[Problem]:
    if not metrics:
        return [invalid("metrics", "name at least one metric.")]
    if len(metrics) > MAX_METRICS:
        return [invalid("metrics", f"a report has at most {MAX_METRICS} metrics, not {len(metrics)}.")]
    problems = []
    for index, name in enumerate(metrics):
        if not is_metric(name):
            problems.append(invalid(f"metrics.{index}", f"'{name}' is no metric; metrics are {valid_metrics()}."))
        elif name in metrics[:index]:
            problems.append(invalid(f"metrics.{index}", f"'{name}' is named twice."))
    return problems


# What the pipeline reads: hits' `events`, offline rows' `metrics`; both have `values`,
# `localDay` and `visitorId`, and hits a `visitNumber`.
HAS_PAGE_NAME = {"$ne": [{"$ifNull": ["$values.pageName", None]}, None]}


def _online_amount(metric: str) -> Any:
    """What one hit adds to `metric`."""
    if metric == "occurrences":
        return 1
    if metric == "pageViews":
        return {"$cond": [HAS_PAGE_NAME, 1, 0]}
    return f"$events.{metric}"  # a missing field sums as nothing


def _offline_amount(metric: str) -> Any | None:
    """What one offline row adds to `metric`; None: offline rows never add to it."""
    if metric == "occurrences":
        return 1
    if metric == "pageViews":
        return None
    return f"$metrics.{metric}"


@dataclass(frozen=True)
class Plan:
    """How the pipeline computes one request: which amounts it sums, per source."""

    request: ReportRequest
    summed: tuple[str, ...] = field(init=False)  # metrics summed over hits and rows, as a0/b0, a1/b1, ...
    counted: bool = field(init=False)  # whether visits or visitors are asked for

    def __post_init__(self) -> None:
        object.__setattr__(self, "summed", tuple(m for m in self.request.metrics if m not in DISTINCT_METRICS))
        object.__setattr__(self, "counted", any(m in DISTINCT_METRICS for m in self.request.metrics))

    @property
    def by_day(self) -> bool:
        return self.request.granularity is Granularity.DAY

    def day_of(self, path: str) -> Doc:
        """The accumulator of a group's day (its documents share it), with DAY only."""
        return {"d": {"$first": path}} if self.by_day else {}

    @property
    def value(self) -> str:
        return f"$values.{self.request.dimension}"

    def amount_fields(self) -> list[str]:
        """The summed fields: `a<i>` online and `b<i>` offline for the i-th summed metric."""
        sources = self.request.sources
        names = []
        for index, metric in enumerate(self.summed):
            if sources.online:
                names.append(f"a{index}")
            if sources.offline and _offline_amount(metric) is not None:
                names.append(f"b{index}")
        return names

    def raw_sums(self, online: bool) -> Doc:
        """The accumulators over hits (`online`) or offline rows themselves."""
        sums: Doc = {}
        for index, metric in enumerate(self.summed):
            amount = _online_amount(metric) if online else _offline_amount(metric)
            if amount is not None:
                sums[f"{'a' if online else 'b'}{index}"] = {"$sum": amount}
        return sums

    def resums(self, prefix: str = "") -> Doc:
        """The accumulators over groups of an earlier stage (`prefix`: where their fields are)."""
        return {name: {"$sum": f"${prefix}{name}"} for name in self.amount_fields()}


def _value_part(value: Any) -> Doc:
    """A key's value part: '=' and the value, or '' for Unspecified."""
    return {"$ifNull": [{"$concat": [VALUE_MARK, value]}, ""]}


def _or_empty(expression: Any) -> Doc:
    return {"$ifNull": [expression, ""]}


def _number_text(expression: Any) -> Doc:
    return {"$ifNull": [{"$toString": expression}, ""]}


def _is_set(expression: Any) -> Doc:
    return {"$cond": [{"$eq": [{"$ifNull": [expression, None]}, None]}, 0, 1]}


def source_pipelines(rsid: str, request: ReportRequest) -> tuple[Doc, Doc]:
    """The `$match` of hits and of offline rows for the request's days (over their
    (rsid, localDay) indexes); rows of the chosen data sources only."""
    days = {"$gte": request.first_day.isoformat(), "$lte": request.last_day.isoformat()}
    hits = {"rsid": rsid, "localDay": days}
    rows: Doc = {"rsid": rsid, "localDay": days}
    if request.data_source_ids is not None:
        rows["dataSourceId"] = {"$in": list(request.data_source_ids)}
    return {"$match": hits}, {"$match": rows}


def pipeline(rsid: str, request: ReportRequest) -> tuple[str, list[Doc]]:
    """The collection to run on and the pipeline that answers `request`: one document
    with `rows` (the page, plus one more row if more follow) and `totals`. Hits and rows
    are each grouped in their own branch (the rows' through `$unionWith`), so each document
    is read by the accumulators of its own kind only; what follows works on the groups."""
    plan = Plan(request)
    plain = not plan.counted and request.participation is Participation.NONE
    first = _by_day_and_value if plain else _by_visit
    hits, rows = source_pipelines(rsid, request)
    branches = []
    if request.sources.online:
        branches.append((HITS, [hits, first(plan, True)]))
    if request.sources.offline:
        branches.append((ROWS, [rows, first(plan, False)]))
    (collection, start), *others = branches
    grouped = [*start, *({"$unionWith": {"coll": name, "pipeline": branch}} for name, branch in others)]
    if plain:
        merged = {"$group": {"_id": "$_id", **plan.resums()}}  # a day and value's hits and rows
        totals = [{"$group": {"_id": None, **plan.resums()}}]
        return collection, [*grouped, merged, {"$facet": {"rows": _page(plan), "totals": totals}}]
    return collection, [*grouped, {"$facet": {"rows": _rows_by_visit(plan), "totals": _totals_by_visit(plan)}}]


def _day(plan: Plan, path: str) -> Any:
    return path if plan.by_day else ""


def _by_day_and_value(plan: Plan, online: bool) -> Doc:
    """Summed metrics only, no participation: hits or rows by day and value."""
    return {"$group": {"_id": {"$concat": [_day(plan, "$localDay"), _value_part(plan.value)]}, **plan.raw_sums(online)}}


def _by_visit(plan: Plan, online: bool) -> Doc:
    """Hits (`online`) or rows by visitor, visit, day and value: what every later count
    needs. An offline row has no visit; a summary row no visitor either."""
    visitor, visit = ("$visitorId", {"$toString": "$visitNumber"}) if online else (_or_empty("$visitorId"), "")
    part = [visitor, SEP, visit, SEP, _day(plan, "$localDay")]
    return {
        "$group": {
            "_id": {"$concat": [*part, _value_part(plan.value)]},
            "k": {"$first": {"$concat": part}},  # the key without the value: a unit's part
            "x": {"$first": {"$ifNull": [plan.value, None]}},
            **plan.day_of("$localDay"),
            "p": {"$first": "$visitorId" if online else {"$ifNull": ["$visitorId", None]}},
            "vn": {"$first": "$visitNumber" if online else {"$literal": None}},
            **plan.raw_sums(online),
            # The other kind's amounts as 0, so that every group has every amount: a pushed
            # part missing one would be dropped by the embedded store, and some wire servers
            # take expressions in a pushed part as literals.
            **{name: {"$first": {"$literal": 0}} for name in plan.amount_fields() if name not in plan.raw_sums(online)},
        }
    }


def _totals_by_visit(plan: Plan) -> list[Doc]:
    """The range's totals from the visit groups: visits and visitors counted once each."""
    per_visit = {
        "$group": {
            "_id": {"$concat": [_or_empty("$p"), SEP, _number_text("$vn")]},
            "p": {"$first": "$p"},
            "on": {"$max": _is_set("$vn")},
            **plan.resums(),
        }
    }
    per_visitor = {"$group": {"_id": _or_empty("$p"), "visits": {"$sum": "$on"}, "on": {"$max": "$on"}, **plan.resums()}}
    return [per_visit, per_visitor, {"$group": {"_id": None, "visits": {"$sum": "$visits"}, "visitors": {"$sum": "$on"}, **plan.resums()}}]


def _rows_by_visit(plan: Plan) -> list[Doc]:
    credited = _participated(plan) if plan.request.participation is not Participation.NONE else []
    if not plan.counted:
        key = {"$concat": [_day(plan, "$d"), _value_part("$x")]}
        return [*credited, {"$group": {"_id": key, **plan.resums()}}, *_page(plan)]
    per_visitor_key = {"$concat": [_or_empty("$p"), SEP, _day(plan, "$d"), _value_part("$x")]}
    per_visitor = {
        "$group": {
            "_id": per_visitor_key,
            "x": {"$first": "$x"},
            **plan.day_of("$d"),
            "visits": {"$sum": _is_set("$vn")},
            "on": {"$max": _is_set("$vn")},
            **plan.resums(),
        }
    }
    key = {"$concat": [_day(plan, "$d"), _value_part("$x")]}
    per_value = {"$group": {"_id": key, "visits": {"$sum": "$visits"}, "visitors": {"$sum": "$on"}, **plan.resums()}}
    return [*credited, per_visitor, per_value, *_page(plan)]


def _participated(plan: Plan) -> list[Doc]:
    """The visit groups again, each unit's amounts credited to every value seen in it: the
    output has the shape of `_by_visit`'s, one group per visitor, visit, day and value."""
    visit = plan.request.participation is Participation.VISIT
    unit = {"$concat": ["$p", SEP, {"$toString": "$vn"}]} if visit else "$p"
    part = {
        "k": "$k",
        **({"d": "$d"} if plan.by_day else {}),
        "p": "$p",
        "vn": "$vn",
        **{name: f"${name}" for name in plan.amount_fields()},
    }
    per_unit = {
        "$group": {
            "_id": unit,
            "xs": {"$addToSet": "$x"},
            "any": {"$max": _is_set("$x")},
            "parts": {"$push": part},
        }
    }
    seen = {"$match": {"$or": [{"xs": {"$ne": None}}, {"any": 0}]}}  # Unspecified only where nothing was seen
    regroup = {
        "$group": {
            "_id": {"$concat": ["$parts.k", _value_part("$xs")]},
            "x": {"$first": "$xs"},
            **plan.day_of("$parts.d"),
            "p": {"$first": "$parts.p"},
            "vn": {"$first": "$parts.vn"},
            **plan.resums("parts."),
        }
    }
    in_unit = {"$match": {"vn" if visit else "p": {"$ne": None}}}
    return [in_unit, per_unit, {"$unwind": "$xs"}, seen, {"$unwind": "$parts"}, regroup]


def _page(plan: Plan) -> list[Doc]:
    """Rows with any amount, by the first metric's total (highest first), then key, paged."""
    request = plan.request
    amounts = [*plan.amount_fields(), *(m for m in DISTINCT_METRICS if m in request.metrics)]
    first = request.metrics[0]
    if first in DISTINCT_METRICS:
        total: Any = f"${first}"
    else:
        total = {"$add": [f"${name}" for name in plan.amount_fields() if name[1:] == "0"] or [0]}
    return [
        {"$match": {"$or": [{name: {"$ne": 0}} for name in amounts]} if amounts else {"_id": {"$in": []}}},
        {"$addFields": {"t": total}},
        {"$sort": {"t": -1, "_id": 1}},
        {"$skip": request.offset},
        {"$limit": request.first + 1},
    ]


@dataclass(frozen=True)
class Amount:
    metric: str
    online: float
    offline: float

    @property
    def total(self) -> float:
        return self.online + self.offline


@dataclass(frozen=True)
class Row:
    value: str | None  # None: Unspecified
    day: date | None  # None: a TOTAL report
    amounts: tuple[Amount, ...]


@dataclass(frozen=True)
class Report:
    request: ReportRequest
    rows: tuple[Row, ...]  # the page
    more: bool  # whether rows follow the page
    totals: tuple[Amount, ...]


def read(request: ReportRequest, answer: list[Doc]) -> Report:
    """The report in the pipeline's answer."""
    plan = Plan(request)
    found = answer[0] if answer else {"rows": [], "totals": []}
    rows = [Row(*_key(plan, doc["_id"]), _amounts(plan, doc)) for doc in found["rows"]]
    totals = _amounts(plan, found["totals"][0] if found["totals"] else {})
    return Report(request, tuple(rows[: request.first]), len(rows) > request.first, totals)


def _key(plan: Plan, key: str) -> tuple[str | None, date | None]:
    day, value = (key[:10], key[10:]) if plan.by_day else ("", key)
    return (value[len(VALUE_MARK) :] if value else None), (date.fromisoformat(day) if day else None)


def _amounts(plan: Plan, doc: Doc) -> tuple[Amount, ...]:
    amounts = []
    for metric in plan.request.metrics:
        if metric in DISTINCT_METRICS:
            amounts.append(Amount(metric, float(doc.get(metric, 0)), 0.0))
            continue
        index = plan.summed.index(metric)
        amounts.append(Amount(metric, float(doc.get(f"a{index}", 0)), float(doc.get(f"b{index}", 0))))
    return tuple(amounts)
