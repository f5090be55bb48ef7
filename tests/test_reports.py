"""models/reports.py: what a report may ask for, and its pipeline's numbers, checked against
a report worked out document by document (below, in plain Python) over made-up hits and
rows, on the embedded store and on a real MongoDB wire server."""

import itertools
import random
from collections import defaultdict
from dataclasses import replace
from datetime import date

import pytest

from models import reports
from models.reports import Granularity, Participation, ReportRequest, Sources

FIRST_DAY, LAST_DAY = date(2026, 3, 2), date(2026, 3, 6)
DAYS = [f"2026-03-{d:02d}" for d in range(1, 9)]  # the 1st and the 7th and 8th fall outside the range


def request(**changes) -> ReportRequest:
    return replace(ReportRequest("evar1", ("event1",), FIRST_DAY, LAST_DAY), **changes)


def problems(**changes) -> dict[str | None, str]:
    return {p.field: p.message for p in reports.check(request(**changes), max_page=100)}


def test_a_good_request_has_no_problem():
    assert problems(metrics=("event1", "revenue", "occurrences", "pageViews", "visits", "visitors", "orders")) == {}
    assert problems(dimension="trackingCode") == problems(dimension="evar250") == problems(dimension="pageName") == {}


@pytest.mark.parametrize("name", ["evar0", "evar251", "eVar1", "event1", "transactionId", "visitorId", "bogus"])
def test_an_unknown_dimension_is_refused_with_the_valid_names(name):
    message = problems(dimension=name)["dimension"]

    assert f"'{name}'" in message and "evar1 to evar250" in message and "trackingCode" in message


def test_unknown_repeated_and_too_many_metrics_are_refused_by_position():
    found = problems(metrics=("event1", "evar1", "event1001", "event1"))

    assert set(found) == {"metrics.1", "metrics.2", "metrics.3"}
    assert "event1 to event1000" in found["metrics.1"] and "occurrences, pageViews, visits, visitors" in found["metrics.1"]
    assert "twice" in found["metrics.3"]
    assert "at most 10" in problems(metrics=tuple(f"event{n}" for n in range(1, 12)))["metrics"]
    assert "at least one" in problems(metrics=())["metrics"]


def test_the_range_runs_forwards_over_two_years_at_most():
    assert "after to" in problems(first_day=date(2026, 3, 7))["from"]
    assert problems(first_day=date(2024, 3, 7), last_day=date(2026, 3, 7)) == {}  # 731 days
    assert "at most 731 days" in problems(first_day=date(2024, 3, 6), last_day=date(2026, 3, 7))["to"]


def test_a_page_holds_0_to_the_page_size_rows():
    assert problems(first=0) == {}
    assert "0 to 100" in problems(first=101)["first"]
    assert "0 to 100" in problems(first=-1)["first"]


def test_the_default_range_is_the_last_30_days():
    assert reports.default_days(date(2026, 3, 31)) == (date(2026, 3, 2), date(2026, 3, 31))


def _made_up(seed: int) -> tuple[list[dict], list[dict]]:
    """Hits of 6 visitors over days 1 to 8 (some values missing, some events), and offline
    rows of the three kinds, one of them of a visitor with no hit in the range."""
    pick = random.Random(seed)
    hits, rows = [], []
    for v in range(6):
        seq = 0
        for visit in range(1, pick.randint(1, 3) + 1):
            day = DAYS[min(7, v + visit - 1)]
            for _ in range(pick.randint(1, 4)):
                seq += 1
                values = {k: pick.choice(options) for k, options in [("evar1", "ab"), ("evar2", "xyz"), ("pageName", ["home", "cart"])]}
                values = {k: value for k, value in values.items() if pick.random() < 0.7}
                events = {k: pick.choice([1.0, 2.0, 0.5]) for k in ("event1", "revenue") if pick.random() < 0.5}
                hits.append(_hit(f"v{v}", seq, day, visit, values, events))
    for line in range(14):
        link = pick.choice(["SUMMARY", "TRANSACTION", "VISITOR"])
        visitor = None if link == "SUMMARY" else pick.choice(["v0", "v1", "v2", "v5", "v9"])
        values = {k: pick.choice(options) for k, options in [("evar1", "abc"), ("evar3", "uw")] if pick.random() < 0.7}
        metrics = {k: pick.choice([1.0, 3.0, -1.0]) for k in ("event1", "revenue", "event5") if pick.random() < 0.6}
        rows.append(_row(line, pick.choice(DAYS), pick.choice(["ds-1", "ds-2"]), link, visitor, values, metrics))
    # Another report suite's and another company's documents count for nobody here.
    hits.append(_hit("v0", 99, DAYS[3], 9, {"evar1": "a"}, {"event1": 100.0}, rsid="other"))
    hits.append(_hit("v0", 98, DAYS[3], 9, {"evar1": "a"}, {"event1": 100.0}, company="c-other"))
    rows.append(_row(99, DAYS[3], "ds-1", "SUMMARY", None, {"evar1": "a"}, {"event1": 100.0}, company="c-other"))
    return hits, rows


def _hit(visitor: str, seq: int, day: str, visit: int, values: dict, events: dict, rsid: str = "shop", company: str = "c") -> dict:
    return {
        "_id": f"{rsid}|{visitor}|{seq}|{company}",
        "rsid": rsid,
        "companyId": company,
        "visitorId": visitor,
        "seq": seq,
        "localDay": day,
        "visitNumber": visit,
        "values": values,
        "events": events,
    }


def _row(line: int, day: str, source: str, link: str, visitor, values: dict, metrics: dict, company: str = "c") -> dict:
    return {
        "_id": f"job|{line}|{company}",
        "rsid": "shop",
        "companyId": company,
        "dataSourceId": source,
        "localDay": day,
        "values": values,
        "metrics": metrics,
        "link": link,
        "visitorId": visitor,
    }


def _worked_out(hits: list[dict], rows: list[dict], req: ReportRequest) -> tuple[list[tuple], dict]:
    """The report DOMAIN.md describes, document by document: (value, day, {metric: (online,
    offline)}) rows in the report's order, and the totals."""
    first, last = req.first_day.isoformat(), req.last_day.isoformat()
    ours = [h for h in hits if h["rsid"] == "shop" and h["companyId"] == "c" and first <= h["localDay"] <= last]
    mine = [r for r in rows if r["companyId"] == "c" and first <= r["localDay"] <= last]
    mine = [r for r in mine if req.data_source_ids is None or r["dataSourceId"] in req.data_source_ids]
    docs = [(h, True) for h in ours if req.sources.online] + [(r, False) for r in mine if req.sources.offline]
    summed = defaultdict(lambda: defaultdict(lambda: [0.0, 0.0]))
    visits, visitors = defaultdict(set), defaultdict(set)

    def credit(key, doc, online):
        for metric in req.metrics:
            summed[key][metric][0 if online else 1] += _amount(doc, metric, online)
        if online:
            visits[key].add((doc["visitorId"], doc["visitNumber"]))
            visitors[key].add(doc["visitorId"])

    def day(doc):
        return doc["localDay"] if req.granularity is Granularity.DAY else None

    if req.participation is Participation.NONE:
        for doc, online in docs:
            credit((doc["values"].get(req.dimension), day(doc)), doc, online)
    else:
        units = defaultdict(list)
        for doc, online in docs:
            if req.participation is Participation.VISIT and online:
                units[(doc["visitorId"], doc["visitNumber"])].append((doc, online))
            if req.participation is Participation.VISITOR and doc["visitorId"] is not None:
                units[doc["visitorId"]].append((doc, online))
        for unit in units.values():
            seen = {doc["values"].get(req.dimension) for doc, _ in unit} - {None} or {None}
            for value, (doc, online) in itertools.product(seen, unit):
                credit((value, day(doc)), doc, online)
    table = []
    for key in set(summed) | set(visits):
        amounts = {m: tuple(summed[key][m]) for m in req.metrics if m not in reports.DISTINCT_METRICS}
        amounts |= {"visits": (len(visits[key]), 0), "visitors": (len(visitors[key]), 0)}
        amounts = {m: amounts[m] for m in req.metrics}
        if any(a != 0 for pair in amounts.values() for a in pair):
            table.append((key[0], key[1], amounts))
    order = lambda r: (-sum(r[2][req.metrics[0]]), (r[1] or "") + ("" if r[0] is None else "=" + r[0]))  # noqa: E731
    totals = {m: (sum(_amount(d, m, o) for d, o in docs if o), sum(_amount(d, m, o) for d, o in docs if not o)) for m in req.metrics}
    online = [d for d, o in docs if o]
    totals |= {
        "visits": (len({(d["visitorId"], d["visitNumber"]) for d in online}), 0),
        "visitors": (len({d["visitorId"] for d in online}), 0),
    }
    return sorted(table, key=order), {m: totals[m] for m in req.metrics}


def _amount(doc: dict, metric: str, online: bool) -> float:
    if metric in reports.DISTINCT_METRICS:
        return 0
    if metric == "occurrences":
        return 1
    if metric == "pageViews":
        return 1 if online and "pageName" in doc["values"] else 0
    return doc["events" if online else "metrics"].get(metric, 0)


def _as_table(report: reports.Report) -> list[tuple]:
    return [(r.value, r.day and r.day.isoformat(), {a.metric: (a.online, a.offline) for a in r.amounts}) for r in report.rows]


async def _run(scope, req: ReportRequest) -> reports.Report:
    collection, pipeline = reports.pipeline("shop", req)
    return reports.read(req, await scope.aggregate(collection, pipeline))


METRIC_SETS = [("event1", "occurrences"), ("revenue", "event5", "pageViews"), ("visits", "revenue", "visitors")]


@pytest.mark.wire
@pytest.mark.parametrize("participation", list(Participation))
@pytest.mark.parametrize("granularity", list(Granularity))
async def test_the_pipeline_gives_the_numbers_worked_out_document_by_document(any_store, granularity, participation):
    hits, rows = _made_up(seed=7)
    await any_store.insert_many("hits", hits)
    await any_store.insert_many("rows", rows)
    scope = any_store.company("c")
    for sources, metrics, dimension in itertools.product(list(Sources), METRIC_SETS, ["evar1", "evar3"]):
        req = request(
            dimension=dimension, metrics=metrics, granularity=granularity, sources=sources, participation=participation, first=100
        )
        expected_rows, expected_totals = _worked_out(hits, rows, req)

        report = await _run(scope, req)

        assert _as_table(report) == expected_rows, (sources, metrics, dimension)
        assert {a.metric: (a.online, a.offline) for a in report.totals} == expected_totals, (sources, metrics, dimension)
        assert report.more is False


@pytest.mark.wire
async def test_pages_of_a_report_follow_on_without_repeating_a_row(any_store):
    hits, rows = _made_up(seed=3)
    await any_store.insert_many("hits", hits)
    await any_store.insert_many("rows", rows)
    scope = any_store.company("c")
    whole = request(dimension="evar2", metrics=("occurrences", "visits"), granularity=Granularity.DAY, first=100)
    everything = _as_table(await _run(scope, whole))
    paged, offset = [], 0
    while True:
        page = await _run(scope, replace(whole, first=4, offset=offset))
        paged += _as_table(page)
        offset += 4
        if not page.more:
            break

    assert len(everything) > 8 and paged == everything


@pytest.mark.wire
async def test_data_source_ids_narrow_the_offline_rows(any_store):
    hits, rows = _made_up(seed=5)
    await any_store.insert_many("hits", hits)
    await any_store.insert_many("rows", rows)
    req = request(dimension="evar3", metrics=("occurrences", "event1"), data_source_ids=("ds-2",), first=100)

    report = await _run(any_store.company("c"), req)

    assert _as_table(report) == _worked_out(hits, rows, req)[0]
    assert report.totals[0].offline == sum(
        1 for r in rows if r["dataSourceId"] == "ds-2" and r["companyId"] == "c" and "03-02" <= r["localDay"][5:] <= "03-06"
    )


@pytest.mark.wire
async def test_a_report_on_no_data_has_no_rows_and_zero_totals(any_store):
    report = await _run(any_store.company("c"), request(metrics=("visits", "event1"), participation=Participation.VISITOR))

    assert report.rows == () and report.more is False
    assert [(a.metric, a.total) for a in report.totals] == [("visits", 0.0), ("event1", 0.0)]
