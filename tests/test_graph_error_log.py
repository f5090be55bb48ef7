"""graph/error_log.py, with graph/extensions/mask_errors.py and graph/app.py: an unexpected
error reaches the client masked, with code INTERNAL_SERVER_ERROR and a correlation id; the
log has the same id and the traceback, but no exception message, API key or uploaded value."""

import logging

import httpx
import pytest

from graph.app import GraphQLView, create_app
from graph.error_log import scrubbed_traceback
from resolvers import uploads

SEND_ROWS = """
mutation($input: UploadDataSourceRowsInput!) {
  uploadDataSourceRows(input: $input) { job { id } userErrors { code } }
}"""
UPLOADED_VALUE = "closed-won-7f3a9c"  # a value only the request carries


@pytest.fixture
async def client(store):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(store)), base_url="http://t") as client:
        yield client


def unexpected_records(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.get_records("call") if r.name == "offline_graph" and r.levelno >= logging.ERROR]


async def broken_upload(db, caller, data_source_id, job_name, columns, rows, finished, *more):
    """A bug deep in a use-case whose message and locals hold what the request sent."""
    value = rows[0][1]

    def deeper() -> None:
        try:
            raise KeyError(value)
        except KeyError as inner:
            raise RuntimeError(f"could not store {value} for {caller}") from inner

    deeper()


async def test_an_unexpected_error_is_masked_with_a_code_and_the_log_has_its_id_and_traceback_only(client, company, monkeypatch, caplog):
    monkeypatch.setattr(uploads, "upload_rows", broken_upload)
    rows = {"dataSourceId": "any", "jobName": "deals", "columns": ["Date", "Evar 3"], "rows": [["03/01/2026", UPLOADED_VALUE]]}

    with caplog.at_level(logging.INFO):
        response = await client.post(
            "/graphql", json={"query": SEND_ROWS, "variables": {"input": rows}}, headers={"Authorization": f"Bearer {company.admin_key}"}
        )

    (error,) = response.json()["errors"]
    assert error["message"] == "Unexpected error."
    assert set(error["extensions"]) == {"code", "correlationId"}
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    correlation_id = error["extensions"]["correlationId"]
    assert UPLOADED_VALUE not in response.text and "Traceback" not in response.text
    (record,) = unexpected_records(caplog)
    logged = record.getMessage()
    assert f"correlationId={correlation_id}" in logged
    assert "uploadDataSourceRows" in logged  # where
    assert "Traceback (most recent call last)" in logged and "in broken_upload" in logged and "in deeper" in logged
    assert "builtins.KeyError" in logged and "builtins.RuntimeError" in logged  # the cause and the error, by type
    assert record.exc_info is None  # no traceback a handler would format with its message
    for secret in (UPLOADED_VALUE, company.admin_key, company.admin_key.removeprefix("odg_"), "could not store"):
        assert secret not in caplog.text


async def test_each_unexpected_error_gets_its_own_correlation_id(execute, company, monkeypatch):
    monkeypatch.setattr(uploads, "upload_rows", broken_upload)
    variables = {"input": {"dataSourceId": "a", "jobName": "j", "columns": ["Date"], "rows": [["x", "y"]]}}

    first = await execute(SEND_ROWS, company.admin, **variables)
    second = await execute(SEND_ROWS, company.admin, **variables)

    ids = {result.errors[0].extensions["correlationId"] for result in (first, second)}
    assert len(ids) == 2 and all(len(i) == 16 for i in ids)


async def test_a_failure_in_the_view_itself_is_masked_with_a_correlation_id_and_logged_scrubbed(client, monkeypatch, caplog):
    async def broken(*args, **kwargs):
        raise RuntimeError("mongodb://admin:hunter2@db.internal")

    monkeypatch.setattr(GraphQLView, "get_context", broken)

    response = await client.post("/graphql", json={"query": "{ __typename }"}, headers={"Authorization": "Bearer odg_secret-key-1"})

    assert response.status_code == 500
    (error,) = response.json()["errors"]
    assert error["message"] == "Unexpected error." and error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    (record,) = unexpected_records(caplog)
    assert f"correlationId={error['extensions']['correlationId']}" in record.getMessage()
    assert "in broken" in record.getMessage()
    for secret in ("hunter2", "db.internal", "odg_secret-key-1"):
        assert secret not in response.text and secret not in caplog.text


def test_a_scrubbed_traceback_has_frames_and_types_but_no_message_code_or_locals():
    def fail(token: str) -> None:
        raise ValueError(f"bad token {token}")

    try:
        fail("odg_abc123")
    except ValueError as error:
        text = scrubbed_traceback(error)

    assert text.startswith("Traceback (most recent call last):")
    assert ", in fail\n" in text and "builtins.ValueError" in text
    assert "odg_abc123" not in text and "bad token" not in text and "raise" not in text
