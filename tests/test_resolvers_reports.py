"""resolvers/reports.py: who may ask for a report, which data sources it may name, and
that it is one round trip on the rows and hits stored at the time of asking."""

from datetime import date

import pytest

from models.companies import Caller
from models.data_sources import CATALOGUE, SourceType, web_beacon
from models.hits import HitIn
from models.problems import Denied, Rejected
from models.reports import ReportRequest, Sources
from resolvers import collection, data_sources, report_suites, reports
from tests.helpers import RSID, at, moment


def _request(**changes) -> ReportRequest:
    day = moment(1, "12:00").date()
    return ReportRequest(**({"dimension": "evar1", "metrics": ("event1",), "first_day": day, "last_day": day} | changes))


async def _source(store, caller: Caller, rsid: str = RSID):
    entry = CATALOGUE[SourceType.GENERIC_SUMMARY]
    return await data_sources.create(store, caller, rsid, "Summary", entry.category, entry.type, [("Evar 1", None)], [("Event 1", None)])


@pytest.fixture
async def furniture(store, company, suite, today):
    hits = [HitIn("v-1", at(1, "15:00"), evars=((1, "email"),), events=(("event1", 2.0),))]
    await collection.collect_hits(store, company.uploader, RSID, hits)
    return await report_suites.get(store, company.admin, RSID)


async def test_a_reader_gets_the_report_in_one_round_trip(store, company, furniture):
    before = store.round_trips

    report = await reports.report(store, company.reader, furniture, _request(), max_page=100)

    assert store.round_trips - before == 1
    assert [(r.value, r.amounts[0].online) for r in report.rows] == [("email", 2.0)]


async def test_without_a_key_there_is_no_report(store, furniture):
    with pytest.raises(Denied) as denied:
        await reports.report(store, None, furniture, _request(), max_page=100)

    assert denied.value.problems[0].code == "UNAUTHENTICATED"


async def test_another_companys_key_sees_none_of_the_suites_data(store, furniture, other_company):
    report = await reports.report(store, other_company.admin, furniture, _request(metrics=("event1", "visits")), max_page=100)

    assert report.rows == () and [a.total for a in report.totals] == [0.0, 0.0]


async def test_every_problem_comes_back_at_once(store, company, furniture):
    with pytest.raises(Rejected) as rejected:
        await reports.report(store, company.reader, furniture, _request(dimension="evar0", metrics=("nope",), first=1000), max_page=100)

    assert [p.field for p in rejected.value.problems] == ["dimension", "metrics.0", "first"]


async def test_data_source_ids_must_name_offline_sources_of_the_report_suite(store, company, other_company, furniture):
    ours = await _source(store, company.admin)
    await report_suites.create(store, company.admin, "garden", "Garden")
    elsewhere = await _source(store, company.admin, "garden")
    await report_suites.create(store, other_company.admin, "theirs", "Theirs")
    theirs = await _source(store, other_company.admin, "theirs")
    beacon = web_beacon(RSID, company.id)
    ids = (ours.id, elsewhere.id, theirs.id, beacon.id, "no-such-source")

    with pytest.raises(Rejected) as rejected:
        await reports.report(store, company.reader, furniture, _request(data_source_ids=ids), max_page=100)

    found = {p.field: p.code for p in rejected.value.problems}
    assert found == {
        "dataSourceIds.1": "NOT_FOUND",
        "dataSourceIds.2": "NOT_FOUND",
        "dataSourceIds.3": "INVALID",
        "dataSourceIds.4": "NOT_FOUND",
    }


async def test_a_report_reads_what_is_stored_when_it_is_asked(store, company, furniture):
    first = await reports.report(store, company.reader, furniture, _request(sources=Sources.ONLINE), max_page=100)
    await collection.collect_hits(
        store, company.uploader, RSID, [HitIn("v-2", at(1, "16:00"), evars=((1, "email"),), events=(("event1", 1.0),))]
    )

    second = await reports.report(store, company.reader, furniture, _request(sources=Sources.ONLINE), max_page=100)

    assert [r.amounts[0].online for r in first.rows] == [2.0] and [r.amounts[0].online for r in second.rows] == [3.0]


async def test_days_are_the_report_suites_days(store, company, furniture):
    # 15:00 UTC on day 1 is 10:00 or 11:00 in New York, the same day; a hit at 02:00 UTC on
    # day 2 is still day 1 there.
    await collection.collect_hits(
        store, company.uploader, RSID, [HitIn("v-3", at(2, "02:00"), evars=((1, "late"),), events=(("event1", 1.0),))]
    )
    day_one = moment(1, "12:00").date()

    report = await reports.report(store, company.reader, furniture, _request(first_day=day_one, last_day=day_one), max_page=100)

    assert {r.value for r in report.rows} == {"email", "late"}
    next_day = await reports.report(
        store,
        company.reader,
        furniture,
        _request(first_day=date.fromordinal(day_one.toordinal() + 1), last_day=date.fromordinal(day_one.toordinal() + 1)),
        max_page=100,
    )
    assert next_day.rows == ()
