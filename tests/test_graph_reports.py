"""graph/reports.py through the schema: the input's defaults, userErrors, cursors, and how
a row without a value is told from a value 'Unspecified'."""

import pytest

from tests.helpers import RSID, collect, hit, moment, query

REPORT = """
query($input: ReportInput!) {
  reportSuite(rsid: "furniture") {
    report(input: $input) {
      report { from to granularity sources participation metrics
        rows { edges { cursor node { value unspecified day metrics { metric online offline total } } } pageInfo { hasNextPage hasPreviousPage endCursor } } }
      userErrors { field code message }
    }
  }
}"""


@pytest.fixture
async def hits(execute, company, suite, today):
    sent = [
        hit("v-1", 1, "15:00", evars=[{"number": 1, "value": "Unspecified"}], events=[{"number": 1, "value": 3}]),
        hit("v-2", 1, "15:00", events=[{"number": 1, "value": 2}]),
        hit("v-3", 2, "15:00", evars=[{"number": 1, "value": "email"}], events=[{"number": 1, "value": 1}]),
    ]
    assert (await collect(execute, company.uploader, sent))["collectedCount"] == 3


async def _report(execute, caller, **input) -> dict:
    return (await query(execute, caller, REPORT, input={"dimension": "evar1", "metrics": ["event1"]} | input))["reportSuite"]["report"]


async def test_by_default_a_report_covers_the_last_30_days_of_every_source_in_total(execute, company, hits, today):
    found = await _report(execute, company.reader)

    report = found["report"]
    # `today` is day 9 at 12:00 UTC: 07:00 or 08:00 in New York, the same day.
    assert (report["from"], report["to"]) == (moment(9 - 29, "12:00").date().isoformat(), moment(9, "12:00").date().isoformat())
    assert (report["granularity"], report["sources"], report["participation"]) == ("TOTAL", "ALL", "NONE")
    rows = [
        (e["node"]["value"], e["node"]["unspecified"], e["node"]["day"], e["node"]["metrics"][0]["total"]) for e in report["rows"]["edges"]
    ]
    # A value 'Unspecified' is a value; the hit without evar1 is the row that stands for none.
    assert rows == [("Unspecified", False, None, 3.0), ("Unspecified", True, None, 2.0), ("email", False, None, 1.0)]
    assert found["userErrors"] == []


async def test_rows_page_on_with_the_cursor_of_the_last_one(execute, company, hits):
    first = (await _report(execute, company.reader, first=2))["report"]["rows"]
    rest = (await _report(execute, company.reader, first=2, after=first["pageInfo"]["endCursor"]))["report"]["rows"]

    assert [e["node"]["metrics"][0]["total"] for e in first["edges"] + rest["edges"]] == [3.0, 2.0, 1.0]
    assert (first["pageInfo"]["hasNextPage"], rest["pageInfo"]["hasNextPage"], rest["pageInfo"]["hasPreviousPage"]) == (True, False, True)


@pytest.mark.parametrize(
    ("input", "field", "code"),
    [
        ({"after": "not-a-cursor"}, "after", "INVALID"),
        ({"dimension": "eVar1"}, "dimension", "INVALID"),
        ({"metrics": ["event1", "visitz"]}, "metrics.1", "INVALID"),
        ({"from": "2026-03-10", "to": "2026-03-01"}, "from", "INVALID"),
        ({"first": 101}, "first", "INVALID"),
        ({"dataSourceIds": ["bm90LWFuLWlk"]}, "dataSourceIds.0", "NOT_FOUND"),
    ],
)
async def test_what_is_wrong_with_the_input_comes_back_as_user_errors(execute, company, hits, input, field, code):
    found = await _report(execute, company.reader, **input)

    assert found["report"] is None
    assert [(e["field"], e["code"]) for e in found["userErrors"]] == [(field, code)]


async def test_a_report_of_a_report_suite_of_another_company_is_not_found(execute, other_company, hits):
    result = await execute(REPORT, other_company.reader, input={"dimension": "evar1", "metrics": ["event1"]})

    assert result.errors[0].extensions["code"] == "NOT_FOUND" and RSID in result.errors[0].message
