"""API keys and roles: keys stored hashed, the Bearer header, and what each role may do."""

import hashlib

import pytest
from strawberry.relay import GlobalID

from models import store as collections
from models.companies import Role
from models.data_sources import Category, SourceType
from models.problems import Rejected
from resolvers import api_keys, data_sources, report_suites
from tests.conftest import make_company
from tests.helpers import codes
from tests.queries import (
    CONFIGURE_SOURCE,
    CREATE_SOURCE,
    CREATE_SUITE,
    DEACTIVATE_SOURCE,
    LIST_SUITES,
    SET_RECORDING,
    UPDATE_SUITE,
    VIEWER,
)

NODE = "query($id: ID!) { node(id: $id) { id } }"


# --- keys -------------------------------------------------------------------------


async def test_a_new_company_gets_an_admin_key_that_authenticates(store):
    company, key = await api_keys.create_company(store, "  Acme  ")

    caller = await api_keys.authenticate(store, f"Bearer {key}")

    assert company["name"] == "Acme"
    assert caller is not None
    assert caller.company_id == company["_id"]
    assert caller.role is Role.ADMIN


async def test_keys_are_stored_hashed_never_in_clear(store):
    company, admin_key = await api_keys.create_company(store, "Acme")
    reader_key = await api_keys.create_api_key(store, company["_id"], Role.READER)

    docs = await store.find_many(collections.API_KEYS, {"companyId": company["_id"]})

    assert len(docs) == 2
    for doc in docs:
        stored = repr(doc)
        assert admin_key not in stored
        assert reader_key not in stored
        assert admin_key.removeprefix("odg_") not in stored
    hashes = {doc["hash"] for doc in docs}
    assert hashes == {hashlib.sha256(k.encode()).hexdigest() for k in (admin_key, reader_key)}


async def test_each_key_is_new_and_carries_its_role(store):
    company, admin_key = await api_keys.create_company(store, "Acme")
    keys = {role: await api_keys.create_api_key(store, company["_id"], role) for role in Role}

    assert len(set(keys.values()) | {admin_key}) == len(Role) + 1
    for role, key in keys.items():
        caller = await api_keys.authenticate(store, f"Bearer {key}")
        assert (caller.company_id, caller.role) == (company["_id"], role)


async def test_the_bearer_scheme_is_case_insensitive(store, company):
    for scheme in ("bearer", "BEARER", "Bearer"):
        caller = await api_keys.authenticate(store, f"{scheme} {company.admin_key}")
        assert caller is not None and caller.company_id == company.id


@pytest.mark.parametrize(
    "header",
    [None, "", "Bearer", "Bearer ", "Bearer odg_not-a-key", "Bearer not-even-prefixed", "Basic {key}", "{key}", "Token {key}"],
)
async def test_missing_wrong_or_malformed_keys_authenticate_nobody(store, company, header):
    value = None if header is None else header.format(key=company.admin_key)
    assert await api_keys.authenticate(store, value) is None


async def test_a_key_for_an_unknown_company_is_refused_and_nothing_stored(store):
    with pytest.raises(Rejected) as rejected:
        await api_keys.create_api_key(store, "no-such-company", Role.READER)

    assert rejected.value.problems[0].code == "NOT_FOUND"
    assert "no-such-company" in rejected.value.problems[0].message
    assert await store.count(collections.API_KEYS, {}) == 0


async def test_a_company_needs_a_name(store):
    with pytest.raises(Rejected) as rejected:
        await api_keys.create_company(store, "   ")

    assert rejected.value.problems[0].field == "name"
    assert await store.count(collections.COMPANIES, {}) == 0
    assert await store.count(collections.API_KEYS, {}) == 0


# --- through the schema -------------------------------------------------------------


async def test_viewer_names_the_company_role_and_key(execute, company):
    for caller in (company.admin, company.uploader, company.reader):
        result = await execute(VIEWER, caller)
        assert result.errors is None
        assert result.data["viewer"] == {"companyId": company.id, "role": caller.role.value, "keyId": caller.key_id}


async def test_without_a_key_every_operation_is_unauthenticated(store, execute, company):
    await report_suites.create(store, company.admin, "site", "Site")
    operations = [
        (VIEWER, {}),
        (LIST_SUITES, {}),
        ('query { reportSuite(rsid: "any") { name } }', {}),
        (CREATE_SUITE, {"input": {"rsid": "site", "name": "Site"}}),
        (UPDATE_SUITE, {"input": {"rsid": "site", "name": "Site"}}),
        (SET_RECORDING, {"input": {"rsid": "site", "enabled": True}}),
        (NODE, {"id": str(GlobalID("ReportSuite", "site"))}),
        (NODE, {"id": str(GlobalID("DataSource", "web-beacon:site"))}),
    ]
    for query, variables in operations:
        result = await execute(query, None, **variables)
        assert codes(result) == ["UNAUTHENTICATED"], query
        assert "Bearer" in result.errors[0].message


async def _suite_and_source(store, company) -> tuple[str, str]:
    await report_suites.create(store, company.admin, "site", "Site")
    source = await data_sources.create(
        store, company.admin, "site", "CRM", Category.GENERIC, SourceType.GENERIC_SUMMARY, [("Evar 1", None)], [("Event 1", None)]
    )
    return "site", str(GlobalID("DataSource", source.id))


ADMIN_ONLY = ["create_suite", "update_suite", "set_recording", "create_source", "configure_source", "deactivate_source"]


def _admin_operation(name: str, rsid: str, source_id: str) -> tuple[str, dict]:
    columns = {"dimensions": [{"header": "Evar 2"}], "metrics": [{"header": "Event 2"}]}
    return {
        "create_suite": (CREATE_SUITE, {"input": {"rsid": "newsite", "name": "New"}}),
        "update_suite": (UPDATE_SUITE, {"input": {"rsid": rsid, "name": "Renamed"}}),
        "set_recording": (SET_RECORDING, {"input": {"rsid": rsid, "enabled": True}}),
        "create_source": (
            CREATE_SOURCE,
            {"input": {"rsid": rsid, "name": "Email", "category": "EMAIL", "type": "EMAIL", **columns}},
        ),
        "configure_source": (CONFIGURE_SOURCE, {"input": {"id": source_id, "name": "Renamed"}}),
        "deactivate_source": (DEACTIVATE_SOURCE, {"input": {"id": source_id}}),
    }[name]


@pytest.mark.parametrize("operation", ADMIN_ONLY)
@pytest.mark.parametrize("role", ["reader", "uploader"])
async def test_settings_need_an_admin_key_and_weaker_keys_change_nothing(store, execute, company, operation, role):
    rsid, source_id = await _suite_and_source(store, company)
    suites_before = await store.find_many(collections.REPORT_SUITES, {})
    sources_before = await store.find_many(collections.DATA_SOURCES, {})
    query, variables = _admin_operation(operation, rsid, source_id)

    result = await execute(query, getattr(company, role), **variables)

    assert codes(result) == ["FORBIDDEN"]
    assert "ADMIN" in result.errors[0].message
    assert result.data is None
    assert await store.find_many(collections.REPORT_SUITES, {}) == suites_before
    assert await store.find_many(collections.DATA_SOURCES, {}) == sources_before


@pytest.mark.parametrize("operation", ADMIN_ONLY)
async def test_an_admin_key_may_change_settings(store, execute, company, operation):
    rsid, source_id = await _suite_and_source(store, company)
    query, variables = _admin_operation(operation, rsid, source_id)

    result = await execute(query, company.admin, **variables)

    assert result.errors is None
    (payload,) = result.data.values()
    assert payload["userErrors"] == []


@pytest.mark.parametrize("role", ["reader", "uploader", "admin"])
async def test_every_role_may_read(store, execute, company, role):
    await report_suites.create(store, company.admin, "site", "Site")

    result = await execute(LIST_SUITES, getattr(company, role))

    assert result.errors is None
    assert result.data["reportSuites"]["edges"] == [{"node": {"rsid": "site", "name": "Site"}}]


async def test_a_key_sees_only_its_own_company(store, execute):
    acme = await make_company(store, "Acme")
    globex = await make_company(store, "Globex")
    await report_suites.create(store, acme.admin, "acme.site", "Acme site")

    result = await execute(VIEWER, globex.reader)
    listed = await execute(LIST_SUITES, globex.reader)

    assert result.data["viewer"]["companyId"] == globex.id
    assert listed.data["reportSuites"]["edges"] == []
