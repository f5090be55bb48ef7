"""graph/data_sources.py: create from the catalogue, columns checked against the header catalogue,
configure, deactivate, the built-in Web beacon, the template file, and node(id:)."""

import pytest
from strawberry.relay import GlobalID

from models import store as collections
from resolvers import report_suites
from tests.helpers import RSID
from tests.queries import CONFIGURE_SOURCE, CREATE_SOURCE, DEACTIVATE_SOURCE, SOURCE_FIELDS

LIST = (
    """
query($rsid: String!, $first: Int! = 20, $after: String) {
  reportSuite(rsid: $rsid) {
    dataSources(first: $first, after: $after) {
      edges { cursor node { ...Source } }
      pageInfo { hasNextPage endCursor }
    }
  }
}"""
    + SOURCE_FIELDS
)
NODE = "query($id: ID!) { node(id: $id) { id ... on DataSource { ...Source } } }" + SOURCE_FIELDS


@pytest.fixture
async def suite(store, company):
    """This file's own: the suite RSID with Transaction ID recording off (conftest's is on)."""
    await report_suites.create(store, company.admin, RSID, "Furniture", time_zone="America/New_York")
    return RSID


def columns(*pairs) -> list[dict]:
    return [{"header": h} if f is None else {"header": h, "friendlyName": f} for h, f in pairs]


def lead_source(**changes) -> dict:
    """A Generic transaction ID source shaped like EXAMPLES.md example 1."""
    return {
        "rsid": RSID,
        "name": "Leads to sales",
        "category": "GENERIC",
        "type": "GENERIC_TRANSACTION_ID",
        "dimensions": columns(("transactionID", "Transaction"), ("Evar 3", "Deal stage")),
        "metrics": columns(("Event 5", "Deal closed"), ("Price", "Revenue")),
        **changes,
    }


def summary_source(**changes) -> dict:
    return {
        "rsid": RSID,
        "name": "Store sales",
        "category": "GENERIC",
        "type": "GENERIC_SUMMARY",
        "dimensions": columns(("Evar 1", None)),
        "metrics": columns(("Event 1", None)),
        **changes,
    }


async def create(execute, caller, input: dict) -> dict:
    result = await execute(CREATE_SOURCE, caller, input=input)
    assert result.errors is None, result.errors
    return result.data["createDataSource"]


async def configure(execute, caller, **input) -> dict:
    result = await execute(CONFIGURE_SOURCE, caller, input=input)
    assert result.errors is None, result.errors
    return result.data["configureDataSource"]


async def deactivate(execute, caller, id: str) -> dict:
    result = await execute(DEACTIVATE_SOURCE, caller, input={"id": id})
    assert result.errors is None, result.errors
    return result.data["deactivateDataSource"]


async def listed(execute, caller, rsid=RSID, **variables) -> list[dict]:
    result = await execute(LIST, caller, rsid=rsid, **variables)
    assert result.errors is None, result.errors
    return [edge["node"] for edge in result.data["reportSuite"]["dataSources"]["edges"]]


async def stored_sources(store) -> list[dict]:
    return await store.find_many(collections.DATA_SOURCES, {})


def errors(payload) -> list[tuple[str, str]]:
    return [(e["field"], e["code"]) for e in payload["userErrors"]]


# --- the Web beacon ---------------------------------------------------------------


async def test_every_suite_lists_the_web_beacon_first(execute, company, suite):
    (beacon,) = await listed(execute, company.reader)

    assert beacon["name"] == "Web beacon"
    assert beacon["builtIn"] is True
    assert (beacon["category"], beacon["type"], beacon["integration"], beacon["status"]) == ("WEB_BEACON", "WEB_BEACON", "ONLINE", "ACTIVE")
    assert beacon["templateFile"] is None
    assert beacon["rsid"] == RSID


async def test_the_web_beacon_stays_first_before_the_offline_sources_in_creation_order(execute, company, suite):
    for name in ["Zebra feed", "Alpha feed", "Middle feed"]:
        await create(execute, company.admin, summary_source(name=name))

    names = [source["name"] for source in await listed(execute, company.reader)]

    assert names == ["Web beacon", "Zebra feed", "Alpha feed", "Middle feed"]


@pytest.mark.parametrize("operation", ["configure", "deactivate"])
async def test_the_web_beacon_is_read_only(store, execute, company, suite, operation):
    (beacon,) = await listed(execute, company.reader)

    if operation == "configure":
        payload = await configure(execute, company.admin, id=beacon["id"], name="My beacon", stopOnErrors=True)
    else:
        payload = await deactivate(execute, company.admin, beacon["id"])

    assert payload["dataSource"] is None
    assert errors(payload) == [("id", "READ_ONLY")]
    (after,) = await listed(execute, company.reader)
    assert after == beacon
    assert await stored_sources(store) == []


# --- create -------------------------------------------------------------------------


async def test_create_stores_the_source_with_its_catalogue_type(store, execute, company, suite):
    payload = await create(execute, company.admin, lead_source())

    assert payload["userErrors"] == []
    source = payload["dataSource"]
    assert (source["name"], source["rsid"], source["category"], source["type"]) == (
        "Leads to sales",
        RSID,
        "GENERIC",
        "GENERIC_TRANSACTION_ID",
    )
    assert source["integration"] == "TRANSACTION_ID"
    assert (source["status"], source["builtIn"], source["stopOnErrors"]) == ("ACTIVE", False, False)
    assert source["dimensions"] == [
        {"header": "transactionID", "friendlyName": "Transaction"},
        {"header": "Evar 3", "friendlyName": "Deal stage"},
    ]
    assert source["metrics"] == [{"header": "Event 5", "friendlyName": "Deal closed"}, {"header": "Price", "friendlyName": "Revenue"}]
    beacon, listed_source = await listed(execute, company.reader)
    assert beacon["builtIn"] is True and listed_source == source
    (doc,) = await stored_sources(store)
    assert doc["companyId"] == company.id


async def test_the_template_file_has_type_and_id_then_friendly_names_then_headers(execute, company, suite):
    source = (await create(execute, company.admin, lead_source()))["dataSource"]
    ds_id = GlobalID.from_id(source["id"]).node_id

    lines = source["templateFile"].splitlines()

    assert lines == [
        f"# Generic Data Source (Transaction ID) template file (ds_id: {ds_id})",
        "#\tDeal stage\tDeal closed\tRevenue\tTransaction",
        "Date\tEvar 3\tEvent 5\tPrice\ttransactionID",
    ]


async def test_friendly_names_are_kept_without_surrounding_spaces(execute, company, suite):
    source = (await create(execute, company.admin, summary_source(dimensions=columns(("Evar 1", "  Campaign  ")))))["dataSource"]

    assert source["dimensions"] == [{"header": "Evar 1", "friendlyName": "Campaign"}]
    assert source["templateFile"].splitlines()[1] == "#\tCampaign\tEvent 1"


@pytest.mark.parametrize(
    ("category", "type", "label", "id_column"),
    [
        ("GENERIC", "GENERIC_SUMMARY", "Generic Summary Data Source (Summary Data Only)", None),
        ("CALL_CENTER", "CALL_CENTER_VISITOR_ID", "Call Center Data Source (Visitor ID)", "visitorID"),
        ("AD_SERVER", "AD_SERVER", "Ad Server Data Source (Summary Data Only)", None),
        ("EMAIL", "EMAIL", "Email Campaign Data Source (Summary Data Only)", None),
    ],
)
async def test_each_catalogue_type_gets_its_own_template(execute, company, suite, category, type, label, id_column):
    dimensions = [("Evar 4", None)] + ([(id_column, "Customer")] if id_column else [])
    input = summary_source(category=category, type=type, dimensions=columns(*dimensions), metrics=columns(("Event 2", "Calls")))

    source = (await create(execute, company.admin, input))["dataSource"]

    ds_id = GlobalID.from_id(source["id"]).node_id
    friendly = ["Evar 4", "Calls"] + (["Customer"] if id_column else [])
    headers = ["Evar 4", "Event 2"] + ([id_column] if id_column else [])
    assert source["templateFile"].splitlines() == [
        f"# {label} template file (ds_id: {ds_id})",
        "\t".join(["#", *friendly]),
        "\t".join(["Date", *headers]),
    ]


async def test_headers_are_case_insensitive_and_stored_as_the_catalogue_spells_them(execute, company, suite):
    input = summary_source(
        dimensions=columns(("evar 12", None), ("TRACKING CODE", None)), metrics=columns(("price", None), ("cart adds", None))
    )

    source = (await create(execute, company.admin, input))["dataSource"]

    assert [c["header"] for c in source["dimensions"]] == ["Evar 12", "Tracking Code"]
    assert [c["header"] for c in source["metrics"]] == ["Price", "Cart Adds"]
    assert source["templateFile"].splitlines()[2] == "Date\tEvar 12\tTracking Code\tPrice\tCart Adds"


async def test_stop_on_errors_is_kept(execute, company, suite):
    source = (await create(execute, company.admin, summary_source(stopOnErrors=True)))["dataSource"]

    assert source["stopOnErrors"] is True


@pytest.mark.parametrize(
    ("change", "field", "code", "mentions"),
    [
        ({"dimensions": columns(("eVar1", None))}, "dimensions.0.header", "UNKNOWN_HEADER", "eVar1"),
        ({"dimensions": columns(("Evar 1", None), ("Evar 251", None))}, "dimensions.1.header", "UNKNOWN_HEADER", "Evar 251"),
        ({"metrics": columns(("Revenue", None))}, "metrics.0.header", "UNKNOWN_HEADER", "Revenue"),
        ({"metrics": columns(("Event 1001", None))}, "metrics.0.header", "UNKNOWN_HEADER", "Event 1001"),
        ({"dimensions": columns(("Event 1", None))}, "dimensions.0.header", "INVALID", "Event 1"),
        ({"metrics": columns(("Evar 2", None))}, "metrics.0.header", "INVALID", "Evar 2"),
        ({"dimensions": columns(("Evar 1", None), ("evar 1", None))}, "dimensions.1.header", "INVALID", "Evar 1"),
        ({"dimensions": columns(("Evar 1", "Bad\tname"))}, "dimensions.0.friendlyName", "INVALID", "tab"),
        ({"dimensions": columns(("Evar 1", "a\rb"))}, "dimensions.0.friendlyName", "INVALID", "line break"),
        ({"dimensions": columns(("Evar 1", "a\u2028b"))}, "dimensions.0.friendlyName", "INVALID", "line break"),
        ({"dimensions": []}, "dimensions", "INVALID", "dimension"),
        ({"metrics": []}, "metrics", "INVALID", "metric"),
        ({"dimensions": columns(("Evar 1", None), ("visitorID", None))}, "dimensions", "INVALID", "visitorID"),
        ({"name": "   "}, "name", "INVALID", "name"),
        ({"name": "two\nlines"}, "name", "INVALID", "name"),
        ({"category": "EMAIL"}, "type", "INVALID", "GENERIC_SUMMARY"),
        ({"category": "WEB_BEACON", "type": "WEB_BEACON"}, "type", "INVALID", "WEB_BEACON"),
        ({"type": "GENERIC_TRANSACTION_ID"}, "dimensions", "INVALID", "transactionID"),
    ],
)
async def test_an_invalid_create_names_the_field_and_stores_nothing(store, execute, company, suite, change, field, code, mentions):
    payload = await create(execute, company.admin, summary_source(**change))

    assert payload["dataSource"] is None
    assert errors(payload) == [(field, code)]
    assert mentions in payload["userErrors"][0]["message"]
    assert await stored_sources(store) == []
    assert [s["name"] for s in await listed(execute, company.reader)] == ["Web beacon"]


async def test_the_unknown_header_message_shows_the_valid_spelling(execute, company, suite):
    payload = await create(execute, company.admin, summary_source(dimensions=columns(("eVar1", None))))

    assert "Evar 1" in payload["userErrors"][0]["message"]


async def test_every_bad_column_is_reported_at_once(execute, company, suite):
    input = summary_source(dimensions=columns(("eVar1", None), ("Evar 2", None), ("Colour", None)), metrics=columns(("Revenue", None)))

    payload = await create(execute, company.admin, input)

    assert [e["field"] for e in payload["userErrors"]] == ["dimensions.0.header", "dimensions.2.header", "metrics.0.header"]


async def test_a_bad_name_and_a_bad_column_are_both_reported(store, execute, company, suite):
    payload = await create(execute, company.admin, summary_source(name=" ", dimensions=columns(("eVar1", None))))

    assert sorted(e["field"] for e in payload["userErrors"]) == ["dimensions.0.header", "name"]
    assert await stored_sources(store) == []


async def test_create_on_an_unknown_or_another_companys_suite_is_not_found(store, execute, company, other_company, suite):
    await report_suites.create(store, other_company.admin, "globex", "Globex")

    for rsid in ["nope", "globex"]:
        payload = await create(execute, company.admin, summary_source(rsid=rsid))
        assert payload["dataSource"] is None
        assert errors(payload) == [("rsid", "NOT_FOUND")]
    assert await stored_sources(store) == []


# --- configure and deactivate -------------------------------------------------------


async def test_configure_renames_changes_columns_and_the_switch(store, execute, company, suite):
    created = (await create(execute, company.admin, lead_source()))["dataSource"]

    payload = await configure(
        execute, company.admin, id=created["id"], name="Closed deals",
        dimensions=columns(("Evar 7", "Region"), ("transactionID", "Lead")), metrics=columns(("Orders", None)), stopOnErrors=True,
    )  # fmt: skip

    assert payload["userErrors"] == []
    source = payload["dataSource"]
    assert (source["id"], source["name"], source["stopOnErrors"]) == (created["id"], "Closed deals", True)
    assert source["templateFile"].splitlines()[1:] == ["#\tRegion\tOrders\tLead", "Date\tEvar 7\tOrders\ttransactionID"]
    assert (await listed(execute, company.reader))[1] == source
    (doc,) = await stored_sources(store)
    assert doc["name"] == "Closed deals" and doc["stopOnErrors"] is True


async def test_configure_keeps_what_it_is_not_given(execute, company, suite):
    created = (await create(execute, company.admin, lead_source(stopOnErrors=True)))["dataSource"]

    payload = await configure(execute, company.admin, id=created["id"], name="Renamed")

    source = payload["dataSource"]
    assert source["name"] == "Renamed"
    assert (source["dimensions"], source["metrics"], source["stopOnErrors"]) == (created["dimensions"], created["metrics"], True)


@pytest.mark.parametrize(
    ("change", "field", "mentions"),
    [
        ({"dimensions": columns(("eVar1", None), ("transactionID", None))}, "dimensions.0.header", "eVar1"),
        ({"dimensions": columns(("Evar 3", None))}, "dimensions", "transactionID"),
        ({"metrics": []}, "metrics", "metric"),
        ({"name": ""}, "name", "name"),
    ],
)
async def test_a_rejected_configure_changes_nothing(store, execute, company, suite, change, field, mentions):
    created = (await create(execute, company.admin, lead_source()))["dataSource"]
    before = await stored_sources(store)

    payload = await configure(execute, company.admin, id=created["id"], stopOnErrors=True, **{"name": "Renamed", **change})

    assert payload["dataSource"] is None
    assert field in [e["field"] for e in payload["userErrors"]]
    assert any(mentions in e["message"] for e in payload["userErrors"])
    assert await stored_sources(store) == before


async def test_deactivate_keeps_the_source_listed_as_deactivated(store, execute, company, suite):
    created = (await create(execute, company.admin, summary_source()))["dataSource"]

    payload = await deactivate(execute, company.admin, created["id"])

    assert payload["userErrors"] == []
    assert payload["dataSource"]["status"] == "DEACTIVATED"
    assert [(s["name"], s["status"]) for s in await listed(execute, company.reader)] == [
        ("Web beacon", "ACTIVE"),
        ("Store sales", "DEACTIVATED"),
    ]
    (doc,) = await stored_sources(store)
    assert doc["status"] == "DEACTIVATED"


@pytest.mark.parametrize("operation", ["configure", "deactivate"])
async def test_another_companys_source_is_not_found_and_unchanged(store, execute, company, other_company, operation):
    await report_suites.create(store, other_company.admin, "globex", "Globex")
    theirs = (await create(execute, other_company.admin, summary_source(rsid="globex", name="Globex secret feed")))["dataSource"]
    before = await stored_sources(store)

    if operation == "configure":
        payload = await configure(execute, company.admin, id=theirs["id"], name="Mine now")
    else:
        payload = await deactivate(execute, company.admin, theirs["id"])

    assert payload["dataSource"] is None
    assert errors(payload) == [("id", "NOT_FOUND")]
    assert "Globex" not in str(payload)
    assert await stored_sources(store) == before


async def test_an_id_of_another_type_is_not_found(execute, company, suite):
    suite_id = str(GlobalID("ReportSuite", RSID))

    payload = await configure(execute, company.admin, id=suite_id, name="X")

    assert errors(payload) == [("id", "NOT_FOUND")]


@pytest.mark.parametrize(
    ("mutation", "name"),
    [(CONFIGURE_SOURCE, "configureDataSource"), (DEACTIVATE_SOURCE, "deactivateDataSource")],
    ids=["configure", "deactivate"],
)
async def test_a_malformed_id_is_a_user_error_on_id(execute, company, suite, mutation, name):
    result = await execute(mutation, company.admin, input={"id": "not-a-global-id"})

    assert result.errors is None, [e.message for e in result.errors]
    payload = result.data[name]
    assert payload["dataSource"] is None
    assert [e["field"] for e in payload["userErrors"]] == ["id"]


# --- reading ------------------------------------------------------------------------


async def test_a_source_is_found_by_its_global_id(execute, company, suite):
    created = (await create(execute, company.admin, lead_source()))["dataSource"]
    (beacon,) = [s for s in await listed(execute, company.reader) if s["builtIn"]]

    by_node = await execute(NODE, company.reader, id=created["id"])
    beacon_by_node = await execute(NODE, company.reader, id=beacon["id"])

    assert by_node.errors is None and by_node.data["node"] == created
    assert beacon_by_node.errors is None and beacon_by_node.data["node"] == beacon


async def test_node_of_another_companys_source_or_beacon_is_null(store, execute, company, other_company, suite):
    await report_suites.create(store, other_company.admin, "globex", "Globex")
    theirs = (await create(execute, other_company.admin, summary_source(rsid="globex", name="Globex secret feed")))["dataSource"]
    (their_beacon,) = [s for s in await listed(execute, other_company.reader, rsid="globex") if s["builtIn"]]

    for id in (theirs["id"], their_beacon["id"]):
        result = await execute(NODE, company.admin, id=id)
        assert result.data == {"node": None}
        assert "Globex" not in str(result.errors)


async def test_data_sources_are_a_connection_with_cursors(execute, company, suite):
    for name in ["One", "Two", "Three"]:
        await create(execute, company.admin, summary_source(name=name))

    first = await execute(LIST, company.reader, rsid=RSID, first=2)
    connection = first.data["reportSuite"]["dataSources"]
    rest = await execute(LIST, company.reader, rsid=RSID, first=2, after=connection["pageInfo"]["endCursor"])
    second = rest.data["reportSuite"]["dataSources"]

    assert [e["node"]["name"] for e in connection["edges"]] == ["Web beacon", "One"]
    assert connection["pageInfo"]["hasNextPage"] is True
    assert [e["node"]["name"] for e in second["edges"]] == ["Two", "Three"]
    assert second["pageInfo"]["hasNextPage"] is False


async def test_a_first_page_of_one_holds_only_the_beacon_and_says_more_follow(execute, company, suite):
    await create(execute, company.admin, summary_source())

    result = await execute(LIST, company.reader, rsid=RSID, first=1)

    connection = result.data["reportSuite"]["dataSources"]
    assert [e["node"]["name"] for e in connection["edges"]] == ["Web beacon"]
    assert connection["pageInfo"]["hasNextPage"] is True
    rest = await listed(execute, company.reader, first=5, after=connection["pageInfo"]["endCursor"])
    assert [s["name"] for s in rest] == ["Store sales"]


async def test_the_data_source_page_size_is_capped_at_100(execute, company, suite):
    result = await execute(LIST, company.reader, rsid=RSID, first=101)

    assert [(e.extensions["code"], e.extensions["field"]) for e in result.errors] == [("INVALID", "first")]


@pytest.mark.parametrize("cursor", ["not a cursor!", "MQ==", "e30="])
async def test_a_data_source_cursor_this_api_did_not_return_is_refused(execute, company, suite, cursor):
    # "MQ==" and "e30=" are well-formed base64 JSON (1 and {}), but no cursor this API returns.
    result = await execute(LIST, company.reader, rsid=RSID, after=cursor)

    assert result.errors, f"accepted as a cursor: {result.data}"
    assert [((e.extensions or {}).get("code"), (e.extensions or {}).get("field")) for e in result.errors] == [("INVALID", "after")]


async def test_listing_more_data_sources_costs_no_more_store_round_trips(store, execute, company, suite):
    """Each source's transactionIdRecording comes from its report suite through a DataLoader."""

    async def trips_to_list() -> int:
        before = store.round_trips
        await listed(execute, company.reader)
        return store.round_trips - before

    await create(execute, company.admin, summary_source(name="first"))
    with_one = await trips_to_list()
    for n in range(8):
        await create(execute, company.admin, summary_source(name=f"more {n}"))

    assert len(await listed(execute, company.reader)) == 10
    assert await trips_to_list() == with_one


async def test_messages_naming_a_type_or_category_take_the_article_it_needs(execute, company, suite):
    wrong_category = await create(execute, company.admin, summary_source(category="AD_SERVER", type="EMAIL"))
    misplaced_id = await create(
        execute,
        company.admin,
        summary_source(category="EMAIL", type="EMAIL", dimensions=columns(("Evar 1", None), ("transactionID", None))),
    )

    assert wrong_category["userErrors"][0]["message"].startswith("'EMAIL' is not an AD_SERVER type;")
    assert (
        misplaced_id["userErrors"][0]["message"] == "'transactionID' does not belong in an Email Campaign Data Source (Summary Data Only)."
    )
