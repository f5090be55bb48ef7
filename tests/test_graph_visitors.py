"""graph/visitors.py: reading online data after collectHits: visitors, their profile and
hits, transactions and their status, node(id:), and that another company reads none of it.
collectHits itself is tested in test_graph_collection.py."""

import base64
from datetime import timedelta

import pytest
from strawberry.relay import GlobalID

from models import store as collections
from models.keys import hit_key, visitor_key
from resolvers import report_suites
from tests.helpers import RSID, codes, collect, hit, moment, parsed, query, values
from tests.queries import HITS, TRANSACTION, TRANSACTIONS, VISITOR

pytestmark = pytest.mark.usefixtures("today")

VISITORS = """
query($rsid: String!, $first: Int!, $after: String) {
  reportSuite(rsid: $rsid) {
    visitors(first: $first, after: $after) {
      edges { cursor node { visitorId visitCount } }
      pageInfo { hasNextPage endCursor }
    }
  }
}"""

VISITOR_TRANSACTIONS = """
query($rsid: String!, $visitorId: String!, $first: Int!, $after: String) {
  reportSuite(rsid: $rsid) {
    visitor(visitorId: $visitorId) {
      transactions(first: $first, after: $after) {
        edges { node { transactionId visitor { visitorId } } }
        pageInfo { hasNextPage endCursor }
      }
    }
  }
}"""

NODE = """
query($id: ID!) {
  node(id: $id) {
    id __typename
    ... on Visitor { visitorId visitCount }
    ... on Transaction { transactionId visitor { visitorId } }
    ... on Hit { visitorId visitNumber collectedWith: transactionId }
  }
}"""


# --- ReportSuite.visitor ----------------------------------------------------------------


async def test_a_visitor_reads_back_with_visit_count_first_and_last_seen_and_profile(execute, company, suite):
    await collect(
        execute,
        company.uploader,
        [
            hit("v-1", 0, "10:00", pageName="home", trackingCode="spring-sale", evars=[{"number": 1, "value": "email"}]),
            hit("v-1", 0, "10:05", evars=[{"number": 2, "value": "sofa"}]),
            hit("v-1", 1, "09:00", evars=[{"number": 2, "value": "chair"}]),
        ],
    )

    visitor = (await query(execute, company.reader, VISITOR, rsid=RSID, visitorId="v-1"))["reportSuite"]["visitor"]

    assert visitor["visitorId"] == "v-1"
    assert visitor["visitCount"] == 2
    assert parsed(visitor["firstSeen"]) == moment(0, "10:00")
    assert parsed(visitor["lastSeen"]) == moment(1, "09:00")
    # as of the last hit: visit 2 dropped evar1 and the tracking code of visit 1; pageName never persists
    assert visitor["profile"] == [
        {"dimension": "evar2", "value": "chair", "setAt": visitor["lastSeen"], "visitNumber": 2},
    ]
    assert GlobalID.from_id(visitor["id"]).type_name == "Visitor"


async def test_the_profile_lists_every_persisted_value_with_when_and_in_which_visit_it_was_set(execute, company, suite):
    await collect(
        execute,
        company.uploader,
        [
            hit("v-1", 0, "10:00", trackingCode="spring-sale", evars=[{"number": 1, "value": "email"}]),
            hit("v-1", 0, "10:05", evars=[{"number": 2, "value": "sofa"}]),
        ],
    )

    profile = (await query(execute, company.reader, VISITOR, rsid=RSID, visitorId="v-1"))["reportSuite"]["visitor"]["profile"]

    assert [(p["dimension"], p["value"], parsed(p["setAt"]), p["visitNumber"]) for p in profile] == [
        ("evar1", "email", moment(0, "10:00"), 1),
        ("evar2", "sofa", moment(0, "10:05"), 1),
        ("trackingCode", "spring-sale", moment(0, "10:00"), 1),
    ]


async def test_an_unknown_visitor_is_null(execute, company, suite):
    await collect(execute, company.uploader, [hit("v-1", 0, "10:00")])

    data = await query(execute, company.reader, VISITOR, rsid=RSID, visitorId="v-2")

    assert data["reportSuite"]["visitor"] is None


async def test_visitors_are_per_report_suite(store, execute, company, suite):
    await report_suites.create(store, company.admin, "other", "Other")
    await collect(execute, company.uploader, [hit("v-1", 0, "10:00")])

    data = await query(execute, company.reader, VISITOR, rsid="other", visitorId="v-1")

    assert data["reportSuite"]["visitor"] is None


# --- ReportSuite.visitors -----------------------------------------------------------------


async def test_visitors_are_ordered_by_visitor_id_whatever_the_collection_order(execute, company, suite):
    await collect(execute, company.uploader, [hit(v, 0, "10:00") for v in ["cust-3", "cust-1", "b", "cust-2", "a"]])

    data = await query(execute, company.reader, VISITORS, rsid=RSID, first=10)

    connection = data["reportSuite"]["visitors"]
    assert [e["node"]["visitorId"] for e in connection["edges"]] == ["a", "b", "cust-1", "cust-2", "cust-3"]
    assert connection["pageInfo"]["hasNextPage"] is False


async def test_visitors_page_by_first_and_after_each_exactly_once(execute, company, suite):
    ids = [f"v-{n:02}" for n in range(7)]
    await collect(execute, company.uploader, [hit(v, 0, "10:00") for v in reversed(ids)])

    seen, after, pages = [], None, 0
    while True:
        page = (await query(execute, company.reader, VISITORS, rsid=RSID, first=3, after=after))["reportSuite"]["visitors"]
        pages += 1
        seen += [e["node"]["visitorId"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        assert len(page["edges"]) == 3
        after = page["pageInfo"]["endCursor"]

    assert seen == ids
    assert pages == 3


async def test_first_over_100_is_an_error_and_100_is_fine(execute, company, suite):
    await collect(execute, company.uploader, [hit("v-1", 0, "10:00")])

    too_many = await execute(VISITORS, company.reader, rsid=RSID, first=101)
    assert codes(too_many) == ["INVALID"]
    assert too_many.errors[0].extensions["field"] == "first"

    fine = await query(execute, company.reader, VISITORS, rsid=RSID, first=100)
    assert len(fine["reportSuite"]["visitors"]["edges"]) == 1


async def test_a_cursor_this_api_did_not_return_is_an_error(execute, company, suite):
    result = await execute(VISITORS, company.reader, rsid=RSID, first=5, after="not a cursor!")

    assert codes(result) == ["INVALID"]
    assert result.errors[0].extensions["field"] == "after"


async def test_a_visitors_cursor_is_not_a_hits_cursor(execute, company, suite):
    await collect(execute, company.uploader, [hit("v-1", 0, "10:00"), hit("v-2", 0, "10:00")])
    page = await query(execute, company.reader, VISITORS, rsid=RSID, first=1)
    visitor_cursor = page["reportSuite"]["visitors"]["pageInfo"]["endCursor"]

    result = await execute(HITS, company.reader, rsid=RSID, visitorId="v-1", first=5, after=visitor_cursor)

    assert codes(result) == ["INVALID"]
    assert result.errors[0].extensions["field"] == "after"


@pytest.mark.parametrize("first", [-1, 101])
async def test_hits_first_outside_0_to_100_is_an_error(execute, company, suite, first):
    await collect(execute, company.uploader, [hit("v-1", 0, "10:00")])

    result = await execute(HITS, company.reader, rsid=RSID, visitorId="v-1", first=first)

    assert codes(result) == ["INVALID"]
    assert result.errors[0].extensions["field"] == "first"


# --- Visitor.hits ---------------------------------------------------------------------------


async def test_a_visitors_hits_are_newest_first_with_the_values_in_force_and_events(execute, company, suite):
    await collect(
        execute,
        company.uploader,
        [
            hit("v-1", 0, "10:00", pageName="home", trackingCode="spring-sale", evars=[{"number": 1, "value": "email"}]),
            hit(
                "v-1",
                0,
                "10:05",
                pageName="lead-form",
                evars=[{"number": 2, "value": "sofa"}],
                events=[{"number": 1, "value": 1}],
                revenue=12.5,
                transactionId="lead_100",
            ),
            hit("v-1", 0, "11:00"),
            hit("v-2", 0, "10:01"),
        ],
    )

    edges = (await query(execute, company.reader, HITS, rsid=RSID, visitorId="v-1", first=10))["reportSuite"]["visitor"]["hits"]["edges"]

    nodes = [e["node"] for e in edges]
    assert [parsed(n["timestamp"]) for n in nodes] == [moment(0, "11:00"), moment(0, "10:05"), moment(0, "10:00")]
    assert {n["visitorId"] for n in nodes} == {"v-1"}
    assert [n["visitNumber"] for n in nodes] == [2, 1, 1]
    lead = nodes[1]
    assert values(lead["values"]) == {"evar1": "email", "evar2": "sofa", "trackingCode": "spring-sale", "pageName": "lead-form"}
    assert {e["event"]: e["value"] for e in lead["events"]} == {"event1": 1.0, "revenue": 12.5}
    assert lead["transactionId"] == "lead_100"
    assert nodes[0]["values"] == [] and nodes[0]["events"] == [] and nodes[0]["transactionId"] is None


async def test_hits_page_by_cursor_newest_first(execute, company, suite):
    await collect(execute, company.uploader, [hit("v-1", 0, f"10:{m:02}", pageName=f"p{m}") for m in range(5)])

    first = (await query(execute, company.reader, HITS, rsid=RSID, visitorId="v-1", first=2))["reportSuite"]["visitor"]["hits"]
    assert [values(e["node"]["values"])["pageName"] for e in first["edges"]] == ["p4", "p3"]
    assert first["pageInfo"]["hasNextPage"] is True

    second = await query(execute, company.reader, HITS, rsid=RSID, visitorId="v-1", first=2, after=first["pageInfo"]["endCursor"])
    second = second["reportSuite"]["visitor"]["hits"]
    assert [values(e["node"]["values"])["pageName"] for e in second["edges"]] == ["p2", "p1"]
    assert second["pageInfo"]["hasNextPage"] is True

    last = await query(execute, company.reader, HITS, rsid=RSID, visitorId="v-1", first=2, after=second["pageInfo"]["endCursor"])
    last = last["reportSuite"]["visitor"]["hits"]
    assert [values(e["node"]["values"])["pageName"] for e in last["edges"]] == ["p0"]
    assert last["pageInfo"]["hasNextPage"] is False


async def test_hits_of_later_calls_come_first(execute, company, suite):
    await collect(execute, company.uploader, [hit("v-1", 0, "10:00", pageName="first-call")])
    await collect(execute, company.uploader, [hit("v-1", 0, "10:10", pageName="second-call")])

    edges = (await query(execute, company.reader, HITS, rsid=RSID, visitorId="v-1", first=10))["reportSuite"]["visitor"]["hits"]["edges"]

    assert [values(e["node"]["values"])["pageName"] for e in edges] == ["second-call", "first-call"]


# --- transactions --------------------------------------------------------------------------


async def test_a_transaction_reads_back_with_its_snapshot_visitor_and_window(execute, company, suite):
    await collect(
        execute,
        company.uploader,
        [
            hit("v-1", 0, "10:00", pageName="home", trackingCode="spring-sale", evars=[{"number": 1, "value": "email"}]),
            hit(
                "v-1",
                0,
                "10:05",
                pageName="lead-form",
                evars=[{"number": 2, "value": "sofa"}],
                events=[{"number": 1}],
                transactionId="lead_100",
            ),
        ],
    )

    tx = (await query(execute, company.reader, TRANSACTION, rsid=RSID, id="lead_100"))["reportSuite"]["transaction"]

    assert tx["transactionId"] == "lead_100"
    assert tx["visitor"] == {"visitorId": "v-1"}
    assert values(tx["snapshot"]) == {"evar1": "email", "evar2": "sofa", "trackingCode": "spring-sale"}
    assert tx["visitNumber"] == 1
    assert parsed(tx["recordedAt"]) == moment(0, "10:05")
    assert parsed(tx["expiresAt"]) == moment(0, "10:05") + timedelta(days=90)
    assert tx["status"] == "UNLINKED"
    assert tx["linkedRowCount"] == 0


async def test_an_unknown_transaction_is_null(execute, company, suite):
    await collect(execute, company.uploader, [hit("v-1", 0, "10:00", transactionId="t-1")])

    data = await query(execute, company.reader, TRANSACTION, rsid=RSID, id="t-2")

    assert data["reportSuite"]["transaction"] is None


async def test_a_visitor_lists_only_its_own_transactions_by_id(execute, company, suite):
    await collect(
        execute,
        company.uploader,
        [
            hit("v-1", 0, "10:00", transactionId="lead_2"),
            hit("v-2", 0, "10:01", transactionId="lead_1"),
            hit("v-1", 0, "10:02", transactionId="call_9,lead_0"),
        ],
    )

    data = await query(execute, company.reader, VISITOR_TRANSACTIONS, rsid=RSID, visitorId="v-1", first=10)
    connection = data["reportSuite"]["visitor"]["transactions"]
    assert [e["node"]["transactionId"] for e in connection["edges"]] == ["call_9", "lead_0", "lead_2"]
    assert {e["node"]["visitor"]["visitorId"] for e in connection["edges"]} == {"v-1"}

    page = await query(execute, company.reader, VISITOR_TRANSACTIONS, rsid=RSID, visitorId="v-1", first=2)
    page = page["reportSuite"]["visitor"]["transactions"]
    assert [e["node"]["transactionId"] for e in page["edges"]] == ["call_9", "lead_0"]
    assert page["pageInfo"]["hasNextPage"] is True
    rest = await query(
        execute, company.reader, VISITOR_TRANSACTIONS, rsid=RSID, visitorId="v-1", first=2, after=page["pageInfo"]["endCursor"]
    )
    assert [e["node"]["transactionId"] for e in rest["reportSuite"]["visitor"]["transactions"]["edges"]] == ["lead_2"]


async def collect_three_transactions(store, execute, company):
    """t-old expires first; t-linked has offline rows linked to it; t-new is unlinked."""
    await collect(
        execute,
        company.uploader,
        [
            hit("v-1", 0, "10:00", transactionId="t-old"),
            hit("v-2", 5, "10:00", transactionId="t-linked"),
            hit("v-3", 5, "11:00", transactionId="t-new"),
        ],
    )
    # Offline linking is another feature; here only its count on the snapshot matters.
    await store.increment(collections.SNAPSHOTS, {"rsid": RSID, "transactionId": "t-linked"}, {"linkedRowCount": 2})


async def transactions(execute, caller, status=None, first=10) -> list[tuple[str, str]]:
    data = await query(execute, caller, TRANSACTIONS, rsid=RSID, first=first, status=status)
    return [(e["node"]["transactionId"], e["node"]["status"]) for e in data["reportSuite"]["transactions"]["edges"]]


async def test_transactions_filter_by_status(store, execute, company, suite):
    await collect_three_transactions(store, execute, company)

    assert await transactions(execute, company.reader) == [("t-linked", "LINKED"), ("t-new", "UNLINKED"), ("t-old", "UNLINKED")]
    assert await transactions(execute, company.reader, "LINKED") == [("t-linked", "LINKED")]
    assert await transactions(execute, company.reader, "UNLINKED") == [("t-new", "UNLINKED"), ("t-old", "UNLINKED")]
    assert await transactions(execute, company.reader, "EXPIRED") == []


async def test_transaction_status_is_judged_at_query_time(store, execute, company, suite, today):
    await collect_three_transactions(store, execute, company)

    # 90 days after t-old: it has expired, the two of day 5 have not
    today.now = moment(90, "10:00")
    assert await transactions(execute, company.reader, "EXPIRED") == [("t-old", "EXPIRED")]
    assert await transactions(execute, company.reader, "UNLINKED") == [("t-new", "UNLINKED")]
    assert await transactions(execute, company.reader, "LINKED") == [("t-linked", "LINKED")]
    assert await transactions(execute, company.reader) == [("t-linked", "LINKED"), ("t-new", "UNLINKED"), ("t-old", "EXPIRED")]
    one = await query(execute, company.reader, TRANSACTION, rsid=RSID, id="t-old")
    assert one["reportSuite"]["transaction"]["status"] == "EXPIRED"

    # a minute before: not yet
    today.now = moment(90, "09:59")
    assert await transactions(execute, company.reader, "EXPIRED") == []

    # past all three windows: a linked snapshot expires too
    today.now = moment(96, "00:00")
    assert await transactions(execute, company.reader, "EXPIRED") == [("t-linked", "EXPIRED"), ("t-new", "EXPIRED"), ("t-old", "EXPIRED")]
    assert await transactions(execute, company.reader, "LINKED") == []
    assert await transactions(execute, company.reader, "UNLINKED") == []


async def test_transactions_page_by_cursor_with_a_status_filter(store, execute, company, suite):
    await collect(execute, company.uploader, [hit(f"v-{n}", 0, f"10:0{n}", transactionId=f"t-{n}") for n in range(5)])

    data = await query(execute, company.reader, TRANSACTIONS, rsid=RSID, first=2, status="UNLINKED")
    page = data["reportSuite"]["transactions"]
    assert [e["node"]["transactionId"] for e in page["edges"]] == ["t-0", "t-1"]
    assert page["pageInfo"]["hasNextPage"] is True
    data = await query(execute, company.reader, TRANSACTIONS, rsid=RSID, first=10, status="UNLINKED", after=page["pageInfo"]["endCursor"])
    assert [e["node"]["transactionId"] for e in data["reportSuite"]["transactions"]["edges"]] == ["t-2", "t-3", "t-4"]


async def test_transactions_first_over_100_is_an_error(execute, company, suite):
    result = await execute(TRANSACTIONS, company.reader, rsid=RSID, first=101)

    assert codes(result) == ["INVALID"]


# --- node(id:) ----------------------------------------------------------------------------


async def ids_of_one_of_each(execute, company) -> dict[str, str]:
    payload = await collect(execute, company.uploader, [hit("v-1", 0, "10:00", transactionId="lead_100")])
    visitor = await query(execute, company.reader, VISITOR, rsid=RSID, visitorId="v-1")
    hits = await query(execute, company.reader, HITS, rsid=RSID, visitorId="v-1", first=1)
    return {
        "Visitor": visitor["reportSuite"]["visitor"]["id"],
        "Hit": hits["reportSuite"]["visitor"]["hits"]["edges"][0]["node"]["id"],
        "Transaction": payload["snapshots"][0]["id"],
    }


async def test_node_resolves_visitors_hits_and_transactions_of_the_callers_company(execute, company, suite):
    ids = await ids_of_one_of_each(execute, company)

    visitor = (await query(execute, company.reader, NODE, id=ids["Visitor"]))["node"]
    assert visitor == {"id": ids["Visitor"], "__typename": "Visitor", "visitorId": "v-1", "visitCount": 1}

    found_hit = (await query(execute, company.reader, NODE, id=ids["Hit"]))["node"]
    assert found_hit == {"id": ids["Hit"], "__typename": "Hit", "visitorId": "v-1", "visitNumber": 1, "collectedWith": "lead_100"}

    tx = (await query(execute, company.reader, NODE, id=ids["Transaction"]))["node"]
    assert tx == {"id": ids["Transaction"], "__typename": "Transaction", "transactionId": "lead_100", "visitor": {"visitorId": "v-1"}}


async def test_node_is_null_for_another_companys_visitors_hits_and_transactions(execute, company, other_company, suite):
    ids = await ids_of_one_of_each(execute, company)

    for type_name, node_id in ids.items():
        for caller in (other_company.reader, other_company.admin):
            result = await execute(NODE, caller, id=node_id)
            assert result.errors is None, (type_name, result.errors)
            assert result.data["node"] is None, type_name


async def test_node_is_null_for_ids_that_do_not_exist(execute, company, suite):
    await collect(execute, company.uploader, [hit("v-1", 0, "10:00")])

    for node_id in (
        GlobalID("Visitor", visitor_key(company.id, RSID, "v-9")),
        GlobalID("Hit", hit_key(company.id, RSID, "v-1", 2)),
        GlobalID("Transaction", "nope"),
    ):
        data = await query(execute, company.reader, NODE, id=str(node_id))
        assert data["node"] is None


@pytest.mark.parametrize("node_id", ["garbage", str(GlobalID("Foo", "1")), str(GlobalID("Viewer", "1")), str(GlobalID("UserError", "1"))])
async def test_node_is_null_for_malformed_ids_and_types_that_are_no_node(execute, company, suite, node_id):
    data = await query(execute, company.reader, NODE, id=node_id)

    assert data["node"] is None


async def test_a_hits_cursor_past_int64_is_invalid_not_a_crash(execute, company, suite):
    await collect(execute, company.uploader, [hit("v-1", 0, "10:00")])
    too_big = base64.urlsafe_b64encode(str(2**63).encode()).decode()
    text = 'query($after: String) { reportSuite(rsid: "furniture") { visitor(visitorId: "v-1") { hits(after: $after) { edges { cursor } } } } }'

    result = await execute(text, company.reader, after=too_big)

    assert [(e.extensions["code"], e.extensions["field"]) for e in result.errors] == [("INVALID", "after")]


# --- tenancy ------------------------------------------------------------------------------


async def test_another_company_cannot_read_the_visitors_or_transactions(execute, company, other_company, suite):
    await collect(execute, company.uploader, [hit("v-1", 0, "10:00", transactionId="lead_100")])

    for text, variables in [
        (VISITOR, {"visitorId": "v-1"}),
        (VISITORS, {"first": 10}),
        (HITS, {"visitorId": "v-1", "first": 10}),
        (TRANSACTION, {"id": "lead_100"}),
        (TRANSACTIONS, {"first": 10}),
    ]:
        result = await execute(text, other_company.reader, rsid=RSID, **variables)
        assert codes(result) == ["NOT_FOUND"], text
        assert result.data is None or result.data["reportSuite"] is None
