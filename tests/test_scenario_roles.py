"""Scenario tests: what each role may do and that a key sees only its own company, across
the graph's areas (viewer, report suites, data sources, node) down to the role checks of
resolvers/api_keys.py."""

import pytest
from strawberry.relay import GlobalID

from models import store as collections
from models.data_sources import Category, SourceType
from resolvers import data_sources, report_suites
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
