"""Scenario tests: reports through the HTTP API, from hit collection and file uploads
(multipart, processed by the worker) to the numbers a report shows (graph, resolvers,
the worker, the report pipeline and the store). EXAMPLES.md 1 and 2 come out as written
there; their dates are moved to the last days of the real calendar (the embedded store's
TTL uses the real clock): day 0 is the day of the online hits, today is day 19."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from strawberry.relay import GlobalID

from graph.app import create_app
from models import clock
from models.companies import Role
from resolvers import api_keys, demo, report_suites
from tests.helpers import (
    NEW_YORK,
    Api,
    examples_1_deals,
    examples_1_hits,
    examples_2_calls,
    examples_2_source,
    file_date,
    local,
    make_source,
    process_all,
)
from tests.queries import COLLECT

REPORT = """
query($rsid: String!, $input: ReportInput!) {
  reportSuite(rsid: $rsid) {
    report(input: $input) {
      report {
        from to
        rows { edges { cursor node { value unspecified day metrics { metric online offline total } } } pageInfo { hasNextPage endCursor } }
        totals { metric online offline total }
      }
      userErrors { field code message }
    }
  }
}"""


class Reports:
    """Reports of one report suite over days 0 to 19, as a dashboard asks for them."""

    def __init__(self, api: Api, rsid: str) -> None:
        self.api, self.rsid = api, rsid

    async def result(self, dimension: str, metrics: list[str], **options) -> dict:
        days = {"from": local(0).date().isoformat(), "to": local(19).date().isoformat()}
        answer = await self.api.query(REPORT, rsid=self.rsid, input={"dimension": dimension, "metrics": metrics, **days, **options})
        return answer["reportSuite"]["report"]

    async def report(self, dimension: str, metrics: list[str], **options) -> dict:
        result = await self.result(dimension, metrics, **options)
        assert result["userErrors"] == [], result["userErrors"]
        return result["report"]

    async def table(self, dimension: str, metric: str, **options) -> dict[str, tuple[float, float, float]]:
        """{value: (online, offline, total)} of one metric, in the report's order."""
        report = await self.report(dimension, [metric], **options)
        rows = [edge["node"] for edge in report["rows"]["edges"]]
        return {row["value"]: _amounts(row["metrics"][0]) for row in rows}


def _amounts(amount: dict) -> tuple[float, float, float]:
    return amount["online"], amount["offline"], amount["total"]


@pytest.fixture(autouse=True)
def today(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: local(19, "12:00"))


@pytest.fixture
async def client(store):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(store)), base_url="http://t") as client:
        yield client


@pytest.fixture
def api(client, company) -> Api:
    return Api(client, company.admin_key)


async def _example_1(store, company, api: Api) -> str:
    """EXAMPLES.md 1: v-1's two hits (the second records lead_100), then a deals file of
    two rows: one linked to lead_100, one (lead_999) a summary row. Returns the job id."""
    await report_suites.create(store, company.admin, "furniture", "Furniture", time_zone="America/New_York")
    await report_suites.set_recording(store, company.admin, "furniture", True)
    hits = examples_1_hits()
    assert (await api.query(COLLECT, input={"rsid": "furniture", "hits": hits}))["collectHits"]["collectedCount"] == 2
    source = await make_source(store, company, "furniture", "GENERIC_TRANSACTION_ID", ["Evar 3", "transactionID"], ["Event 5", "Price"])
    content = examples_1_deals()
    job = await api.upload_job(source, "leads.txt", content)
    await process_all(store)
    assert (await api.job(job["id"]))["status"] == "SUCCESS"
    return job["id"]


@pytest.fixture
async def furniture(store, company, api) -> Reports:
    await _example_1(store, company, api)
    return Reports(api, "furniture")


async def test_examples_1_an_offline_outcome_is_credited_to_the_online_values_of_its_transaction(furniture):
    # Row 1 (lead_100) links: credited to evar3 closed-won and the snapshot's evar1 email,
    # evar2 sofa, tracking code spring-sale. Row 2 (lead_999) is a summary row: evar3 only.
    assert await furniture.table("evar1", "event5") == {"email": (0, 1, 1), "Unspecified": (0, 1, 1)}
    assert await furniture.table("evar2", "event5") == {"sofa": (0, 1, 1), "Unspecified": (0, 1, 1)}
    # Both rows are closed-won: 1200 + 300.
    assert await furniture.table("evar3", "revenue") == {"closed-won": (0, 1500, 1500)}
    # Only the linked row reaches the campaign: 1200; the summary row's 300 has no tracking code.
    assert await furniture.table("trackingCode", "revenue") == {"spring-sale": (0, 1200, 1200), "Unspecified": (0, 300, 300)}


async def test_examples_1_online_metrics_are_credited_to_the_values_in_force_at_each_hit(furniture):
    # event1 is on the lead-form hit, where evar2 is sofa.
    assert await furniture.table("evar2", "event1") == {"sofa": (1, 0, 1)}
    # One visit, with email in force at both hits; offline rows never add visits.
    assert await furniture.table("evar1", "visits") == {"email": (1, 0, 1)}
    # The upload changed no hit: evar3 is only on the offline rows, and event1 stays Unspecified.
    assert await furniture.table("evar3", "event1") == {"Unspecified": (1, 0, 1)}


async def test_examples_1_visit_participation_leaves_out_the_offline_row_and_visitor_participation_keeps_it(furniture):
    # The linked row belongs to v-1 but to no visit: VISIT credits email with v-1's visit's
    # event5, which is 0 (no row shown); VISITOR credits email with everything v-1 did in
    # the range, the linked row's event5 included. The summary row belongs to no visitor.
    assert (await furniture.table("evar1", "event5", participation="VISIT")).get("email", (0, 0, 0)) == (0, 0, 0)
    assert await furniture.table("evar1", "event5", participation="VISITOR") == {"email": (0, 1, 1)}
    # v-1's visit saw evar2 sofa (on its second hit) and its first hit lacked it: the visit's
    # two page views are credited to sofa, not to Unspecified.
    assert await furniture.table("evar2", "pageViews", participation="VISIT") == {"sofa": (2, 0, 2)}
    assert await furniture.table("evar2", "pageViews") == {"sofa": (1, 0, 1), "Unspecified": (1, 0, 1)}


async def test_examples_1_totals_count_hits_and_rows_once_and_offline_rows_add_no_page_views_or_visits(furniture):
    report = await furniture.report("evar1", ["occurrences", "pageViews", "visits", "visitors", "revenue"])

    totals = {t["metric"]: _amounts(t) for t in report["totals"]}
    # 2 hits and 2 rows; 2 page views, 1 visit, 1 visitor, all online; revenue 1200 + 300 offline.
    assert totals == {
        "occurrences": (2, 2, 4),
        "pageViews": (2, 0, 2),
        "visits": (1, 0, 1),
        "visitors": (1, 0, 1),
        "revenue": (0, 1500, 1500),
    }


async def test_sources_choose_hits_or_offline_rows_and_data_source_ids_narrow_the_rows(store, furniture, company):
    assert await furniture.table("evar1", "occurrences", sources="ONLINE") == {"email": (2, 0, 2)}
    assert await furniture.table("evar1", "occurrences", sources="OFFLINE") == {"email": (0, 1, 1), "Unspecified": (0, 1, 1)}

    other = await make_source(store, company, "furniture", "GENERIC_SUMMARY", ["Evar 1"], ["Event 5"])
    assert await furniture.table("evar1", "occurrences", dataSourceIds=[other]) == {"email": (2, 0, 2)}  # no rows of that source


async def test_a_day_report_puts_each_amount_on_the_report_suites_day_it_happened(furniture):
    report = await furniture.report("evar3", ["event5", "occurrences"], granularity="DAY")

    rows = [(e["node"]["value"], e["node"]["day"], [_amounts(m) for m in e["node"]["metrics"]]) for e in report["rows"]["edges"]]
    # By event5, highest first; ties by day, then value. The hits (day 0) have no evar3 and no
    # event5, but their 2 occurrences make a row; the rows are on days 7 and 8.
    assert rows == [
        ("closed-won", local(7).date().isoformat(), [(0, 1, 1), (0, 1, 1)]),
        ("closed-won", local(8).date().isoformat(), [(0, 1, 1), (0, 1, 1)]),
        ("Unspecified", local(0).date().isoformat(), [(0, 0, 0), (2, 0, 2)]),
    ]


async def test_examples_2_a_call_is_credited_to_the_customers_values_as_of_its_time(store, company, api):
    source = await examples_2_source(store, company, api)
    await api.upload_job(source, "calls.txt", examples_2_calls())
    await process_all(store)
    telco = Reports(api, "telco")

    # Row 1: cust-42's state right after its 09:10 hit: evar2 fibre-1000. Row 2: cust-77 is
    # unknown, a summary row without evar2.
    assert await telco.table("evar2", "event2") == {"fibre-1000": (0, 1, 1), "Unspecified": (0, 1, 1)}
    assert await telco.table("evar1", "event2") == {"search": (0, 1, 1), "Unspecified": (0, 1, 1)}
    # The visitor-ID row belongs to cust-42 but to no visit.
    assert await telco.table("evar4", "event2", participation="VISITOR") == {"retention-call": (0, 1, 1)}
    assert await telco.table("evar2", "event2", participation="VISIT") == {}
    # cust-42's visit saw fibre-500 and fibre-1000: VISITOR credits both with the call.
    assert await telco.table("evar2", "event2", participation="VISITOR") == {"fibre-1000": (0, 1, 1), "fibre-500": (0, 1, 1)}


ACTIVITY = """
query($rsid: String!, $visitorId: String!, $first: Int!, $after: String) {
  reportSuite(rsid: $rsid) {
    visitor(visitorId: $visitorId) {
      activity(first: $first, after: $after) {
        edges { cursor node { timestamp source hit { visitNumber values { dimension value } }
          offlineRow { line link transactionId values { dimension value } linkedValues { dimension } metrics { event value }
            dataSource { name type } job { name status } } } }
        pageInfo { hasNextPage endCursor }
      }
    }
  }
}"""
LINKED_ROWS = """
query($rsid: String!, $id: String!) {
  reportSuite(rsid: $rsid) {
    transaction(transactionId: $id) {
      linkedRowCount
      linkedRows(first: 10) { edges { node { id line link visitorId values { dimension value } job { name } } } pageInfo { hasNextPage } }
    }
  }
}"""


async def test_a_visitors_activity_merges_its_hits_and_its_linked_rows_in_time_order(store, company, api):
    await _example_1(store, company, api)

    page = (await api.query(ACTIVITY, rsid="furniture", visitorId="v-1", first=10))["reportSuite"]["visitor"]["activity"]

    nodes = [e["node"] for e in page["edges"]]
    # The two hits of day 0, then the row linked to lead_100 (day 7); the summary row of lead_999 is nobody's.
    assert [n["source"] for n in nodes] == ["ONLINE", "ONLINE", "OFFLINE"]
    assert [n["timestamp"] for n in nodes] == sorted(n["timestamp"] for n in nodes)
    row = nodes[2]["offlineRow"]
    assert (row["line"], row["link"], row["transactionId"]) == (4, "TRANSACTION", "lead_100")
    assert row["dataSource"] == {"name": "Offline", "type": "GENERIC_TRANSACTION_ID"} and row["job"] == {
        "name": "leads.txt",
        "status": "SUCCESS",
    }
    assert {v["dimension"] for v in row["linkedValues"]} == {"evar1", "evar2", "trackingCode"}
    assert {m["event"]: m["value"] for m in row["metrics"]} == {"event5": 1.0, "revenue": 1200.0}
    assert nodes[1]["hit"]["visitNumber"] == 1 and nodes[1]["offlineRow"] is None
    assert page["pageInfo"]["hasNextPage"] is False


async def test_activity_pages_follow_on_from_their_cursor_across_hits_and_rows(store, company, api):
    await _example_1(store, company, api)
    seen, after = [], None
    while True:
        variables = {"rsid": "furniture", "visitorId": "v-1", "first": 1} | ({"after": after} if after else {})
        page = (await api.query(ACTIVITY, **variables))["reportSuite"]["visitor"]["activity"]
        seen += [e["node"]["source"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]

    assert seen == ["ONLINE", "ONLINE", "OFFLINE"]


async def test_a_transaction_lists_the_rows_linked_to_it(store, company, api):
    await _example_1(store, company, api)

    transaction = (await api.query(LINKED_ROWS, rsid="furniture", id="lead_100"))["reportSuite"]["transaction"]

    (edge,) = transaction["linkedRows"]["edges"]
    assert transaction["linkedRowCount"] == 1
    assert (edge["node"]["line"], edge["node"]["link"], edge["node"]["visitorId"], edge["node"]["job"]) == (
        4,
        "TRANSACTION",
        "v-1",
        {"name": "leads.txt"},
    )
    assert {"dimension": "evar1", "value": "email"} in edge["node"]["values"]
    node = (await api.query("query($id: ID!) { node(id: $id) { ... on OfflineRow { line transactionId } } }", id=edge["node"]["id"]))[
        "node"
    ]
    assert node == {"line": 4, "transactionId": "lead_100"}


async def test_the_next_report_shows_a_new_upload_a_deleted_job_and_a_late_linked_row(store, company, api, furniture):
    assert await furniture.table("trackingCode", "revenue") == {"spring-sale": (0, 1200, 1200), "Unspecified": (0, 300, 300)}
    source = await make_source(store, company, "furniture", "GENERIC_TRANSACTION_ID", ["Evar 3", "transactionID"], ["Price"])
    job = await api.upload_job(source, "more.txt", f"Date\tEvar 3\tPrice\ttransactionID\n{file_date(9)}\tupsell\t450\tlead_100\n".encode())
    await process_all(store)

    # A second deal on lead_100: the campaign gets 1200 + 450.
    assert await furniture.table("trackingCode", "revenue") == {"spring-sale": (0, 1650, 1650), "Unspecified": (0, 300, 300)}

    # Deleting a job's data removes its rows (deleteJobData, on another branch, does this).
    await store.delete_many("rows", {"jobId": _own_id(job["id"])})
    assert await furniture.table("trackingCode", "revenue") == {"spring-sale": (0, 1200, 1200), "Unspecified": (0, 300, 300)}

    # Late linking (another branch) rewrites a summary row as linked once its transaction
    # is collected: the lead_999 row, linked to v-1's values, moves to spring-sale.
    (row,) = await store.find_many("rows", {"transactionId": "lead_999"})
    linked = row | {
        "values": row["values"] | {"trackingCode": "spring-sale"},
        "added": ["trackingCode"],
        "link": "TRANSACTION",
        "visitorId": "v-1",
    }
    await store.delete_many("rows", {"_id": row["_id"]})
    await store.insert("rows", linked)
    assert await furniture.table("trackingCode", "revenue") == {"spring-sale": (0, 1500, 1500)}


def _own_id(global_id: str) -> str:
    return GlobalID.from_id(global_id).node_id


async def test_the_readmes_walk_through_ends_with_deals_closed_offline_credited_to_the_online_campaign(store, client, monkeypatch):
    # The demo and the README date everything by the real clock ("yesterday").
    monkeypatch.setattr(clock, "now", lambda: datetime.now(UTC))
    _, keys = await demo.seed(store)
    api = Api(client, keys[Role.ADMIN])
    sources = (await api.query('{ reportSuite(rsid: "demo.site") { dataSources(first: 10) { edges { node { id type } } } } }'))[
        "reportSuite"
    ]
    (source,) = [e["node"]["id"] for e in sources["dataSources"]["edges"] if e["node"]["type"] == "GENERIC_TRANSACTION_ID"]
    yesterday = (datetime.now(NEW_YORK) - timedelta(days=1)).strftime("%m/%d/%Y")
    await api.upload_job(
        source, "deals.txt", f"Date\tEvar 3\tEvent 5\tPrice\ttransactionID\n{yesterday}\tclosed-won\t1\t450\tlead_100\n".encode()
    )
    await process_all(store)

    found = (await api.query(_readme_block("## Reports")))["reportSuite"]["report"]

    rows = {e["node"]["value"]: [_amounts(m) for m in e["node"]["metrics"]] for e in found["report"]["rows"]["edges"]}
    # The README's table: revenue and event5 offline, visits online.
    assert rows == {"spring-sale": [(0, 1650, 1650), (0, 2, 2), (1, 0, 1)], "Unspecified": [(0, 300, 300), (0, 2, 2), (1, 0, 1)]}
    assert list(rows) == ["spring-sale", "Unspecified"]


def _readme_block(section: str) -> str:
    """The first GraphQL block of a README section."""
    text = (Path(__file__).parent.parent / "README.md").read_text()
    after = text[text.index(f"\n{section}\n") :]
    return after[after.index("```graphql\n") + len("```graphql\n") :].split("```", 1)[0]


async def test_another_companys_key_finds_neither_the_rows_nor_the_visitor(store, company, api, client):
    await _example_1(store, company, api)
    (row,) = await store.find_many("rows", {"transactionId": "lead_100"})
    _, their_key = await api_keys.create_company(store, "Globex")
    theirs = Api(client, their_key)

    node = await theirs.query("query($id: ID!) { node(id: $id) { id } }", id=str(GlobalID("OfflineRow", row["_id"])))
    mine = await api.query("query($id: ID!) { node(id: $id) { ... on OfflineRow { line } } }", id=str(GlobalID("OfflineRow", row["_id"])))

    assert node == {"node": None} and mine == {"node": {"line": 4}}
