"""graph/schema.py, the schema as a whole: the exported SDL matches the code, unexpected errors are masked,
and the limits on depth, tokens, aliases and page size hold."""

import logging
from pathlib import Path

from graph.extensions.max_aliases import MAX_ALIASES
from graph.extensions.max_query_depth import MAX_DEPTH
from graph.schema import MAX_TOKENS, schema
from resolvers import report_suites
from tests.queries import LIST_SUITES

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "schema.graphql"
SECRET = "password=hunter2 at db.internal:27017"


def test_schema_graphql_is_the_sdl_the_code_exports():
    assert SCHEMA_FILE.exists(), "schema.graphql is missing: run `offline-graph export-schema --output schema.graphql`"
    exported = schema.as_str() + "\n"

    assert SCHEMA_FILE.read_text(encoding="utf-8") == exported, (
        "schema.graphql differs from the code: run `offline-graph export-schema --output schema.graphql`"
    )


def test_the_sdl_has_the_relay_and_payload_shapes_clients_rely_on():
    sdl = schema.as_str()

    assert "interface Node" in sdl
    assert "node(" in sdl
    for payload in ("ReportSuitePayload", "DataSourcePayload"):
        assert f"type {payload} {{" in sdl
    assert "userErrors: [UserError!]!" in sdl
    assert "reportSuites(first: Int! = 20, after: String = null): ReportSuiteConnection!" in sdl


async def _broken(*args, **kwargs):
    raise RuntimeError(SECRET)


async def test_an_unexpected_error_is_masked(execute, company, monkeypatch):
    monkeypatch.setattr(report_suites, "page", _broken)

    result = await execute(LIST_SUITES, company.reader)

    assert [e.message for e in result.errors] == ["Unexpected error."]
    assert result.errors[0].extensions["code"] == "INTERNAL_SERVER_ERROR"
    assert SECRET not in str(result.errors[0].formatted)
    assert "RuntimeError" not in str(result.errors[0].formatted)


async def test_an_unexpected_error_is_logged_once_with_its_id_and_traceback_but_not_its_message(execute, company, monkeypatch, caplog):
    monkeypatch.setattr(report_suites, "page", _broken)

    with caplog.at_level(logging.ERROR, logger="offline_graph"):
        result = await execute(LIST_SUITES, company.reader)

    records = [r for r in caplog.records if r.name == "offline_graph"]
    assert len(records) == 1
    logged = records[0].getMessage()
    assert "RuntimeError" in logged and "reportSuites" in logged and "in _broken" in logged
    assert f"correlationId={result.errors[0].extensions['correlationId']}" in logged
    assert SECRET not in caplog.text
    assert records[0].exc_info is None


async def test_errors_the_client_caused_are_not_logged_as_unexpected(execute, company, caplog):
    with caplog.at_level(logging.ERROR, logger="offline_graph"):
        await execute('query { reportSuite(rsid: "nope") { name } }', company.reader)
        await execute("query($n: Int!) { reportSuites(first: $n) { edges { cursor } } }", company.reader, n="ten")
        await execute('query { node(id: "xyz") { id } }', company.reader)

    assert [r for r in caplog.records if r.name == "offline_graph"] == []


async def test_coded_errors_are_not_masked(execute, company):
    result = await execute('query { reportSuite(rsid: "nope") { name } }', company.reader)

    assert result.errors[0].extensions["code"] == "NOT_FOUND"
    assert "nope" in result.errors[0].message


async def test_syntax_and_validation_errors_say_what_is_wrong(execute, company):
    syntax = await execute("query { reportSuites { ", company.reader)
    unknown = await execute("query { reportSuites { colour } }", company.reader)

    assert syntax.errors[0].message != "Unexpected error."
    assert "colour" in unknown.errors[0].message


def _nested(depth: int) -> str:
    # Depth is checked on the document, whatever the fields are.
    return "query { " + "viewer { " * depth + "role" + " }" * depth + " }"


async def test_a_query_deeper_than_the_limit_is_refused(execute, company):
    too_deep = await execute(_nested(MAX_DEPTH + 1), company.reader)

    assert any("depth" in e.message for e in too_deep.errors)
    assert too_deep.data is None


async def test_the_deepest_real_query_is_within_the_depth_limit(execute, company):
    query = "query { reportSuites { edges { node { dataSources { edges { node { dimensions { header } } } } } } } }"

    result = await execute(query, company.reader)

    assert result.errors is None


async def test_more_aliases_than_the_limit_are_refused(execute, company):
    def aliased(n: int) -> str:
        return "query { " + " ".join(f"a{i}: viewer {{ role }}" for i in range(n)) + " }"

    allowed = await execute(aliased(MAX_ALIASES), company.reader)
    refused = await execute(aliased(MAX_ALIASES + 1), company.reader)

    assert allowed.errors is None
    assert refused.data is None
    assert any("alias" in e.message.lower() for e in refused.errors)


async def test_a_document_with_more_tokens_than_the_limit_is_refused(execute, company):
    query = "query { viewer { " + "role " * MAX_TOKENS + "} }"

    result = await execute(query, company.reader)

    assert result.data is None
    assert any(str(MAX_TOKENS) in e.message for e in result.errors)


async def test_the_page_size_limit_is_a_coded_error(execute, company):
    result = await execute("query { reportSuites(first: 101) { edges { cursor } } }", company.reader)

    assert [(e.extensions["code"], e.extensions["field"]) for e in result.errors] == [("INVALID", "first")]
