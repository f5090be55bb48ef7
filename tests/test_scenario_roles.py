"""Scenario tests: what each role may do and that a key sees only its own company, across
the graph's areas (viewer, report suites, data sources, node, every mutation of the
schema) down to the role checks of resolvers/api_keys.py."""

from datetime import timedelta

import pytest
from strawberry.relay import GlobalID

from graph.context import Context
from graph.schema import schema
from models import store as collections
from models.companies import Role
from models.data_sources import Category, SourceType
from resolvers import api_keys, data_sources, report_suites
from tests.conftest import make_company
from tests.helpers import DAY_ZERO, EVERY_COLLECTION, codes
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
from tests.schema_walk import make_data, root_operations

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


# --- every mutation of the schema, against every role --------------------------------

# The weakest role each mutation takes. READER keys only read; UPLOADER keys send online
# and offline data (and check it) but change no setting and no key. A mutation added to
# the schema fails test_every_mutation_has_a_minimum_role until it is listed here.
MINIMUM_ROLE = {
    "createReportSuite": Role.ADMIN,
    "updateReportSuite": Role.ADMIN,
    "setTransactionIdRecording": Role.ADMIN,
    "createDataSource": Role.ADMIN,
    "configureDataSource": Role.ADMIN,
    "deactivateDataSource": Role.ADMIN,
    "restartDataSourceProcessing": Role.ADMIN,
    "deleteJobData": Role.ADMIN,
    "createApiKey": Role.ADMIN,
    "revokeApiKey": Role.ADMIN,
    "rotateApiKey": Role.ADMIN,
    "collectHits": Role.UPLOADER,
    "uploadDataSourceFile": Role.UPLOADER,
    "uploadDataSourceRows": Role.UPLOADER,
    "validateDataSourceFile": Role.UPLOADER,
    "validateDataSourceRows": Role.UPLOADER,
}
SENDING_DATA = {"collectHits", "uploadDataSourceFile", "uploadDataSourceRows", "validateDataSourceFile", "validateDataSourceRows"}


def test_every_mutation_has_a_minimum_role():
    mutations = set(schema._schema.mutation_type.fields)

    unlisted, gone = sorted(mutations - set(MINIMUM_ROLE)), sorted(set(MINIMUM_ROLE) - mutations)

    assert not unlisted, f"add {unlisted} to MINIMUM_ROLE in tests/test_scenario_roles.py, each with the weakest role that may call it"
    assert not gone, f"{gone} are no longer in the schema: take them out of MINIMUM_ROLE"


def test_readers_mutate_nothing_and_uploaders_only_send_data():
    assert Role.READER not in MINIMUM_ROLE.values()
    assert {m for m, role in MINIMUM_ROLE.items() if role is Role.UPLOADER} == SENDING_DATA


async def everything(store) -> dict[str, list]:
    return {name: await store.find_many(name, {}) for name in EVERY_COLLECTION}


@pytest.mark.parametrize("role", list(Role))
async def test_each_mutation_of_the_schema_refuses_a_weaker_role_and_changes_nothing(store, company, today, role):
    today.now = DAY_ZERO + timedelta(days=3)
    data = await make_data(store, company, "acme", DAY_ZERO + timedelta(days=1))
    caller = {Role.READER: company.reader, Role.UPLOADER: company.uploader, Role.ADMIN: company.admin}[role]
    operations = root_operations(schema._schema, data.aim(), "mutation")

    for operation in operations:
        if role.allows(MINIMUM_ROLE[operation.where]):
            continue
        before = await everything(store)
        result = await schema.execute(operation.document, variable_values=operation.variants[0], context_value=Context(store, caller))

        assert codes(result) == ["FORBIDDEN"], operation.where
        assert result.data is None, operation.where
        assert result.errors[0].message.startswith(f"This needs {api_keys.article(MINIMUM_ROLE[operation.where])} key;")
        assert await everything(store) == before, f"{operation.where} changed the store for a {role.value} key"
    allowed = [o for o in operations if role.allows(MINIMUM_ROLE[o.where])]
    for operation in allowed:
        result = await schema.execute(operation.document, variable_values=operation.variants[0], context_value=Context(store, caller))
        assert not {"FORBIDDEN", "UNAUTHENTICATED"} & set(codes(result)), (operation.where, result.errors)
        assert result.errors is None, (operation.where, result.errors)  # a coded refusal would be a userError
