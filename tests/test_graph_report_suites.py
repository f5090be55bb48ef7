"""graph/report_suites.py: create, settings, eVar settings, the connection, node(id:), and
the Transaction ID recording switch."""

from datetime import UTC, datetime

import pytest
from strawberry.relay import GlobalID

from models import clock
from models import store as collections
from models.data_sources import Category, SourceType
from resolvers import data_sources
from tests.queries import CREATE_SUITE, SET_RECORDING, SUITE_FIELDS, UPDATE_SUITE

GET = "query($rsid: String!) { reportSuite(rsid: $rsid) { ...Suite } }" + SUITE_FIELDS
EVAR = "query($rsid: String!, $n: Int!) { reportSuite(rsid: $rsid) { evarSetting(number: $n) { number expiration days allocation } } }"
NODE = "query($id: ID!) { node(id: $id) { id ... on ReportSuite { rsid name } } }"
LIST = """
query($first: Int!, $after: String) {
  reportSuites(first: $first, after: $after) {
    edges { cursor node { rsid } }
    pageInfo { hasNextPage endCursor }
  }
}"""
SOURCES = "query($rsid: String!) { reportSuite(rsid: $rsid) { dataSources { edges { node { name transactionIdRecording } } } } }"


async def create(execute, caller, **input):
    result = await execute(CREATE_SUITE, caller, input=input)
    assert result.errors is None, result.errors
    return result.data["createReportSuite"]


async def update(execute, caller, **input):
    result = await execute(UPDATE_SUITE, caller, input=input)
    assert result.errors is None, result.errors
    return result.data["updateReportSuite"]


async def stored_suites(store) -> list[dict]:
    return await store.find_many(collections.REPORT_SUITES, {})


def fields(payload) -> list[str]:
    return [e["field"] for e in payload["userErrors"]]


# --- create -----------------------------------------------------------------------


async def test_create_applies_the_defaults(execute, company):
    payload = await create(execute, company.admin, rsid="examplersid", name="Example")

    assert payload["userErrors"] == []
    suite = payload["reportSuite"]
    assert suite["rsid"] == "examplersid"
    assert suite["name"] == "Example"
    assert suite["timeZone"] == "UTC"
    assert suite["currency"] == "USD"
    assert suite["visitTimeoutMinutes"] == 30
    assert suite["transactionIdWindowDays"] == 90
    assert suite["transactionIdRecording"] == {"enabled": False, "changedAt": None, "changedBy": None}
    assert suite["evarSettings"] == []
    assert GlobalID.from_id(suite["id"]).node_id == "examplersid"


async def test_create_keeps_the_settings_given(execute, company):
    payload = await create(
        execute, company.admin, rsid="furniture", name="Furniture", timeZone="America/New_York", currency="EUR",
        visitTimeoutMinutes=45, transactionIdWindowDays=30,
    )  # fmt: skip

    suite = payload["reportSuite"]
    assert (suite["timeZone"], suite["currency"], suite["visitTimeoutMinutes"], suite["transactionIdWindowDays"]) == (
        "America/New_York", "EUR", 45, 30,
    )  # fmt: skip
    got = await execute(GET, company.reader, rsid="furniture")
    assert got.data["reportSuite"] == suite


@pytest.mark.parametrize("rsid", ["a", "examplersid", "my.site-2", "0", "a" * 40])
async def test_a_valid_rsid_is_accepted(execute, company, rsid):
    payload = await create(execute, company.admin, rsid=rsid, name="Site")

    assert payload["userErrors"] == []
    assert payload["reportSuite"]["rsid"] == rsid


@pytest.mark.parametrize("rsid", ["", "Example", "has space", "under_score", "a" * 41, "caf\u00e9", "slash/y"])
async def test_an_invalid_rsid_is_a_user_error_and_nothing_is_stored(store, execute, company, rsid):
    payload = await create(execute, company.admin, rsid=rsid, name="Site")

    assert payload["reportSuite"] is None
    assert payload["userErrors"][0]["field"] == "rsid"
    assert payload["userErrors"][0]["code"] == "INVALID"
    assert "40" in payload["userErrors"][0]["message"]
    assert await stored_suites(store) == []


async def test_a_taken_rsid_is_refused_and_the_first_suite_is_kept(store, execute, company):
    await create(execute, company.admin, rsid="site", name="First")

    payload = await create(execute, company.admin, rsid="site", name="Second", currency="EUR")

    assert payload["reportSuite"] is None
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [("rsid", "TAKEN")]
    assert "site" in payload["userErrors"][0]["message"]
    (doc,) = await stored_suites(store)
    assert (doc["name"], doc["currency"]) == ("First", "USD")


async def test_rsids_are_unique_per_company_so_another_companys_rsid_reveals_nothing(store, execute, company, other_company):
    await create(execute, other_company.admin, rsid="site", name="Globex secret site")

    payload = await create(execute, company.admin, rsid="site", name="Mine")

    assert payload["userErrors"] == []
    assert payload["reportSuite"]["name"] == "Mine"
    assert "Globex" not in str(payload)
    assert sorted((d["companyId"], d["name"]) for d in await stored_suites(store)) == sorted(
        [(other_company.id, "Globex secret site"), (company.id, "Mine")]
    )
    for caller, name in ((company.reader, "Mine"), (other_company.reader, "Globex secret site")):
        assert (await execute(GET, caller, rsid="site")).data["reportSuite"]["name"] == name


@pytest.mark.parametrize(
    ("setting", "value", "mentions"),
    [
        ("name", "   ", "blank"),
        ("name", "x" * 101, "100"),
        ("timeZone", "Mars/Olympus_Mons", "Mars/Olympus_Mons"),
        ("timeZone", "america/new_york", "america/new_york"),
        ("currency", "XYZ", "XYZ"),
        ("currency", "dollars", "dollars"),
        ("visitTimeoutMinutes", 0, "0"),
        ("visitTimeoutMinutes", 721, "721"),
        ("transactionIdWindowDays", 0, "0"),
        ("transactionIdWindowDays", 762, "762"),
    ],
)
async def test_an_invalid_setting_at_create_names_the_field_and_stores_nothing(store, execute, company, setting, value, mentions):
    payload = await create(execute, company.admin, **{"rsid": "site", "name": "Site", setting: value})

    assert payload["reportSuite"] is None
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [(setting, "INVALID")]
    assert mentions in payload["userErrors"][0]["message"]
    assert await stored_suites(store) == []


@pytest.mark.parametrize(
    ("setting", "value"),
    [("visitTimeoutMinutes", 1), ("visitTimeoutMinutes", 720), ("transactionIdWindowDays", 1), ("transactionIdWindowDays", 761)],
)
async def test_the_range_bounds_are_accepted(execute, company, setting, value):
    payload = await create(execute, company.admin, rsid="site", name="Site", **{setting: value})

    assert payload["userErrors"] == []
    assert payload["reportSuite"][setting] == value


async def test_every_invalid_argument_is_reported_at_once(store, execute, company):
    payload = await create(
        execute, company.admin, rsid="Bad Rsid", name="", timeZone="Nowhere", currency="ABC",
        visitTimeoutMinutes=0, transactionIdWindowDays=1000,
    )  # fmt: skip

    assert sorted(fields(payload)) == sorted(["rsid", "name", "timeZone", "currency", "visitTimeoutMinutes", "transactionIdWindowDays"])
    assert await stored_suites(store) == []


# --- update -----------------------------------------------------------------------


async def test_update_changes_what_is_given_and_keeps_the_rest(store, execute, company):
    await create(execute, company.admin, rsid="site", name="Site", currency="EUR")

    payload = await update(execute, company.admin, rsid="site", name="  Renamed  ", timeZone="Europe/Paris", visitTimeoutMinutes=60)

    assert payload["userErrors"] == []
    suite = payload["reportSuite"]
    assert (suite["name"], suite["timeZone"], suite["visitTimeoutMinutes"]) == ("Renamed", "Europe/Paris", 60)
    assert (suite["currency"], suite["transactionIdWindowDays"]) == ("EUR", 90)
    assert (await execute(GET, company.reader, rsid="site")).data["reportSuite"] == suite


async def test_a_rejected_update_changes_nothing(store, execute, company):
    await create(execute, company.admin, rsid="site", name="Site")
    before = await stored_suites(store)

    payload = await update(
        execute, company.admin, rsid="site", name="Renamed", currency="GBP", transactionIdWindowDays=800,
        evars=[{"number": 3, "expiration": "NEVER"}],
    )  # fmt: skip

    assert payload["reportSuite"] is None
    assert fields(payload) == ["transactionIdWindowDays"]
    assert "800" in payload["userErrors"][0]["message"]
    assert await stored_suites(store) == before


async def test_update_of_an_unknown_rsid_is_not_found(execute, company):
    payload = await update(execute, company.admin, rsid="nope", name="X")

    assert payload["reportSuite"] is None
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [("rsid", "NOT_FOUND")]


async def test_update_of_another_companys_suite_is_not_found_and_changes_nothing(store, execute, company, other_company):
    await create(execute, other_company.admin, rsid="globex", name="Globex site")
    before = await stored_suites(store)

    payload = await update(execute, company.admin, rsid="globex", name="Hijacked")

    assert payload["reportSuite"] is None
    assert [e["code"] for e in payload["userErrors"]] == ["NOT_FOUND"]
    assert "Globex site" not in str(payload)
    assert await stored_suites(store) == before


# --- eVar settings ----------------------------------------------------------------


async def test_an_evar_not_set_uses_visit_and_most_recent(execute, company):
    await create(execute, company.admin, rsid="site", name="Site")

    result = await execute(EVAR, company.reader, rsid="site", n=250)

    assert result.data["reportSuite"]["evarSetting"] == {"number": 250, "expiration": "VISIT", "days": None, "allocation": "MOST_RECENT"}


async def test_evar_settings_are_kept_per_evar(execute, company):
    await create(execute, company.admin, rsid="site", name="Site")

    payload = await update(
        execute, company.admin, rsid="site",
        evars=[
            {"number": 7, "expiration": "NEVER"},
            {"number": 5, "expiration": "DAYS", "days": 30, "allocation": "ORIGINAL"},
            {"number": 9, "expiration": "HIT"},
        ],
    )  # fmt: skip

    assert payload["userErrors"] == []
    assert payload["reportSuite"]["evarSettings"] == [
        {"number": 5, "expiration": "DAYS", "days": 30, "allocation": "ORIGINAL"},
        {"number": 7, "expiration": "NEVER", "days": None, "allocation": "MOST_RECENT"},
        {"number": 9, "expiration": "HIT", "days": None, "allocation": "MOST_RECENT"},
    ]
    fifth = await execute(EVAR, company.reader, rsid="site", n=5)
    sixth = await execute(EVAR, company.reader, rsid="site", n=6)
    assert fifth.data["reportSuite"]["evarSetting"]["days"] == 30
    assert sixth.data["reportSuite"]["evarSetting"]["expiration"] == "VISIT"


async def test_a_later_update_changes_only_the_evars_it_names(execute, company):
    await create(execute, company.admin, rsid="site", name="Site")
    await update(execute, company.admin, rsid="site", evars=[{"number": 1, "expiration": "NEVER"}, {"number": 2, "expiration": "HIT"}])

    payload = await update(execute, company.admin, rsid="site", evars=[{"number": 1}], name="Renamed")

    assert payload["reportSuite"]["evarSettings"] == [{"number": 2, "expiration": "HIT", "days": None, "allocation": "MOST_RECENT"}]
    first = await execute(EVAR, company.reader, rsid="site", n=1)
    assert first.data["reportSuite"]["evarSetting"]["expiration"] == "VISIT"


@pytest.mark.parametrize(
    ("evar", "field", "mentions"),
    [
        ({"number": 0}, "evars.0.number", "0"),
        ({"number": 251}, "evars.0.number", "251"),
        ({"number": 4, "expiration": "DAYS"}, "evars.0.days", "days"),
        ({"number": 4, "expiration": "DAYS", "days": 0}, "evars.0.days", "0"),
        ({"number": 4, "expiration": "DAYS", "days": 762}, "evars.0.days", "762"),
        ({"number": 4, "expiration": "VISIT", "days": 10}, "evars.0.days", "DAYS"),
    ],
)
async def test_an_invalid_evar_setting_names_the_field_and_changes_nothing(store, execute, company, evar, field, mentions):
    await create(execute, company.admin, rsid="site", name="Site")
    before = await stored_suites(store)

    payload = await update(execute, company.admin, rsid="site", evars=[evar])

    assert payload["reportSuite"] is None
    assert fields(payload) == [field]
    assert mentions in payload["userErrors"][0]["message"]
    assert await stored_suites(store) == before


async def test_evar_errors_name_the_position_in_the_list(execute, company):
    await create(execute, company.admin, rsid="site", name="Site")

    payload = await update(execute, company.admin, rsid="site", evars=[{"number": 1}, {"number": 2}, {"number": 300}])

    assert fields(payload) == ["evars.2.number"]


async def test_an_evar_set_twice_in_one_change_is_refused(store, execute, company):
    await create(execute, company.admin, rsid="site", name="Site")
    before = await stored_suites(store)

    payload = await update(
        execute, company.admin, rsid="site", evars=[{"number": 5, "expiration": "NEVER"}, {"number": 5, "expiration": "HIT"}]
    )

    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [("evars.1.number", "DUPLICATE")]
    assert await stored_suites(store) == before


# --- reading: by rsid, by node id, as a connection --------------------------------


async def test_a_suite_is_found_by_rsid_and_by_its_global_id(execute, company):
    created = (await create(execute, company.admin, rsid="site", name="Site"))["reportSuite"]

    by_rsid = await execute(GET, company.reader, rsid="site")
    by_node = await execute(NODE, company.reader, id=created["id"])

    assert by_rsid.data["reportSuite"] == created
    assert by_node.errors is None
    assert by_node.data["node"] == {"id": created["id"], "rsid": "site", "name": "Site"}


async def test_an_unknown_rsid_is_null_with_not_found(execute, company):
    result = await execute(GET, company.reader, rsid="nope")

    assert result.data == {"reportSuite": None}
    assert [(e.extensions["code"], e.extensions["field"]) for e in result.errors] == [("NOT_FOUND", "rsid")]


async def test_another_companys_suite_is_not_found_by_rsid_nor_by_node(execute, company, other_company):
    theirs = (await create(execute, other_company.admin, rsid="globex", name="Globex secret"))["reportSuite"]

    by_rsid = await execute(GET, company.admin, rsid="globex")
    by_node = await execute(NODE, company.admin, id=theirs["id"])

    assert by_rsid.data == {"reportSuite": None}
    assert [e.extensions["code"] for e in by_rsid.errors] == ["NOT_FOUND"]
    assert by_node.data == {"node": None}
    assert "Globex secret" not in str(by_rsid.errors) + str(by_node.errors)


async def test_the_list_is_a_connection_ordered_by_rsid(execute, company, other_company):
    for rsid in ["delta", "alpha", "echo", "charlie", "bravo"]:
        await create(execute, company.admin, rsid=rsid, name=rsid.title())
    await create(execute, other_company.admin, rsid="aaa.globex", name="Not ours")

    seen, after, pages = [], None, 0
    while True:
        result = await execute(LIST, company.reader, first=2, after=after)
        assert result.errors is None
        connection = result.data["reportSuites"]
        seen += [edge["node"]["rsid"] for edge in connection["edges"]]
        pages += 1
        assert connection["pageInfo"]["endCursor"] == connection["edges"][-1]["cursor"]
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]

    assert seen == ["alpha", "bravo", "charlie", "delta", "echo"]
    assert pages == 3


async def test_a_page_exactly_the_size_of_the_list_has_no_next_page(execute, company):
    for rsid in ["a", "b"]:
        await create(execute, company.admin, rsid=rsid, name=rsid)

    result = await execute(LIST, company.reader, first=2)

    assert [e["node"]["rsid"] for e in result.data["reportSuites"]["edges"]] == ["a", "b"]
    assert result.data["reportSuites"]["pageInfo"]["hasNextPage"] is False


async def test_the_page_size_is_capped_at_100(execute, company):
    await create(execute, company.admin, rsid="site", name="Site")

    allowed = await execute(LIST, company.reader, first=100)
    too_many = await execute(LIST, company.reader, first=101)
    negative = await execute(LIST, company.reader, first=-1)

    assert allowed.errors is None
    for result in (too_many, negative):
        assert result.data is None
        assert [(e.extensions["code"], e.extensions["field"]) for e in result.errors] == [("INVALID", "first")]
    assert "101" in too_many.errors[0].message


@pytest.mark.parametrize("cursor", ["not a cursor!", "MQ==", "e30="])
async def test_a_cursor_this_api_did_not_return_is_refused(execute, company, cursor):
    # "MQ==" and "e30=" are well-formed base64 JSON (1 and {}), but no cursor this API returns.
    await create(execute, company.admin, rsid="site", name="Site")

    result = await execute(LIST, company.reader, first=2, after=cursor)

    assert result.errors, f"accepted as a cursor: {result.data}"
    assert [((e.extensions or {}).get("code"), (e.extensions or {}).get("field")) for e in result.errors] == [("INVALID", "after")]


# --- Transaction ID recording -------------------------------------------------------


async def test_recording_is_switched_on_and_off_and_shows_on_every_data_source(store, execute, company, monkeypatch):
    await create(execute, company.admin, rsid="site", name="Site")
    await data_sources.create(
        store, company.admin, "site", "Leads", Category.GENERIC, SourceType.GENERIC_TRANSACTION_ID,
        [("Evar 1", None), ("transactionID", None)], [("Event 1", None)],
    )  # fmt: skip
    switched_on = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    monkeypatch.setattr(clock, "now", lambda: switched_on)

    on = await execute(SET_RECORDING, company.admin, input={"rsid": "site", "enabled": True})

    payload = on.data["setTransactionIdRecording"]
    assert payload["userErrors"] == []
    suite = payload["reportSuite"]
    assert suite["transactionIdRecording"] == {"enabled": True, "changedAt": switched_on.isoformat(), "changedBy": company.admin.key_id}
    assert [e["node"] for e in suite["dataSources"]["edges"]] == [
        {"name": "Web beacon", "transactionIdRecording": True},
        {"name": "Leads", "transactionIdRecording": True},
    ]
    stored = await execute(GET, company.reader, rsid="site")
    assert stored.data["reportSuite"]["transactionIdRecording"]["enabled"] is True

    switched_off = datetime(2026, 3, 2, tzinfo=UTC)
    monkeypatch.setattr(clock, "now", lambda: switched_off)
    off = await execute(SET_RECORDING, company.admin, input={"rsid": "site", "enabled": False})

    assert off.data["setTransactionIdRecording"]["reportSuite"]["transactionIdRecording"]["changedAt"] == switched_off.isoformat()
    sources = await execute(SOURCES, company.reader, rsid="site")
    assert [e["node"]["transactionIdRecording"] for e in sources.data["reportSuite"]["dataSources"]["edges"]] == [False, False]


async def test_switching_to_the_state_it_is_in_keeps_when_it_last_moved(execute, company, monkeypatch):
    await create(execute, company.admin, rsid="site", name="Site")
    monkeypatch.setattr(clock, "now", lambda: datetime(2026, 1, 1, tzinfo=UTC))
    await execute(SET_RECORDING, company.admin, input={"rsid": "site", "enabled": True})
    monkeypatch.setattr(clock, "now", lambda: datetime(2026, 2, 1, tzinfo=UTC))

    again = await execute(SET_RECORDING, company.admin, input={"rsid": "site", "enabled": True})

    recording = again.data["setTransactionIdRecording"]["reportSuite"]["transactionIdRecording"]
    assert recording["changedAt"] == datetime(2026, 1, 1, tzinfo=UTC).isoformat()


async def test_recording_on_another_companys_suite_is_not_found_and_changes_nothing(store, execute, company, other_company):
    await create(execute, other_company.admin, rsid="globex", name="Globex")

    result = await execute(SET_RECORDING, company.admin, input={"rsid": "globex", "enabled": True})

    payload = result.data["setTransactionIdRecording"]
    assert payload["reportSuite"] is None
    assert [e["code"] for e in payload["userErrors"]] == ["NOT_FOUND"]
    (doc,) = await stored_suites(store)
    assert doc["recording"]["enabled"] is False


async def test_recording_needs_an_admin_key(execute, company):
    await create(execute, company.admin, rsid="site", name="Site")

    result = await execute(SET_RECORDING, company.uploader, input={"rsid": "site", "enabled": True})

    assert [e.extensions["code"] for e in result.errors] == ["FORBIDDEN"]
    suite = await execute(GET, company.reader, rsid="site")
    assert suite.data["reportSuite"]["transactionIdRecording"]["enabled"] is False
