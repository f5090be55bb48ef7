"""graph/uploads.py and graph/jobs.py through the schema: rows sent as JSON in calls of one
job, validation that stores nothing, the file log, roles and tenancy."""

import pytest
from strawberry.relay import GlobalID

from models import store as collections
from models.data_sources import CATALOGUE, SourceType
from resolvers import data_sources, processing, report_suites, uploads
from tests.helpers import codes, moment, query

COLUMNS = ["Date", "Evar 1", "Event 1", "visitorID"]
SEND_ROWS = """
mutation($input: UploadDataSourceRowsInput!) {
  uploadDataSourceRows(input: $input) { job { id name status rowCount } userErrors { field code message } }
}"""
VALIDATE_ROWS = """
mutation($input: ValidateDataSourceRowsInput!) {
  validateDataSourceRows(input: $input) {
    rowCount linkedByVisitor summaryRows skippedRows errorCount warningCount fileFailed
    problems { line column code severity } userErrors { field code }
  }
}"""
JOBS = """
query($rsid: String!, $status: JobStatus, $name: String) {
  reportSuite(rsid: $rsid) {
    jobs(status: $status, name: $name) { edges { node { id name status dataSource { name } } } }
    dataSources { edges { node { name jobs { edges { node { name } } } } } }
  }
}"""
NODE = "query($id: ID!) { node(id: $id) { ... on Job { name status } } }"
RESTART = "mutation($id: ID!) { restartDataSourceProcessing(input: {dataSourceId: $id}) { dataSource { locked } userErrors { code } } }"


def fields(day: int, campaign: str, visitor: str = "cust-1", event: str = "1") -> list[str]:
    return [f"{moment(day, '12:00'):%m/%d/%Y}", campaign, event, visitor]


@pytest.fixture
async def source(store, company, today):
    await report_suites.create(store, company.admin, "telco", "Telco")
    entry = CATALOGUE[SourceType.CALL_CENTER_VISITOR_ID]
    created = await data_sources.create(
        store, company.admin, "telco", "Calls", entry.category, SourceType.CALL_CENTER_VISITOR_ID,
        [("Evar 1", None), ("visitorID", None)], [("Event 1", None)],
    )  # fmt: skip
    return str(GlobalID("DataSource", created.id))


async def send(execute, caller, source, rows, name="crm-1", finished=False, columns=COLUMNS):
    result = await execute(
        SEND_ROWS, caller, input={"dataSourceId": source, "jobName": name, "columns": columns, "rows": rows, "finished": finished}
    )
    return result.data["uploadDataSourceRows"] if result.data else result


async def drain(store) -> None:
    worker = processing.Worker(store)
    while await worker.run_once():
        pass


async def test_calls_with_one_job_name_add_to_one_job_in_the_order_sent(store, execute, company, source):
    first = await send(execute, company.uploader, source, [fields(1, "a"), fields(1, "b")])
    second = await send(execute, company.uploader, source, [fields(2, "c")], finished=True)

    assert first["job"]["id"] == second["job"]["id"]
    assert (first["job"]["status"], second["job"]["status"]) == ("RECEIVING", "QUEUED")
    await drain(store)
    rows = sorted(await store.find_many(collections.ROWS, {}), key=lambda r: r["line"])
    assert [(r["line"], r["values"]["evar1"]) for r in rows] == [(1, "a"), (2, "b"), (3, "c")]


async def test_a_finished_job_name_starts_a_new_job_when_used_again(execute, company, source):
    first = await send(execute, company.uploader, source, [fields(1, "a")], finished=True)
    again = await send(execute, company.uploader, source, [fields(1, "a")], finished=True)

    assert first["job"]["id"] != again["job"]["id"]


async def test_every_call_of_a_job_sends_the_same_columns(execute, company, source):
    await send(execute, company.uploader, source, [fields(1, "a")])

    changed = await send(execute, company.uploader, source, [["x", "1", "cust-1"]], columns=["Date", "Event 1", "visitorID"])

    assert [(e["field"], e["code"]) for e in changed["userErrors"]] == [("columns", "INVALID")]


async def test_columns_are_checked_as_a_files_header_is(execute, company, source):
    payload = await send(execute, company.uploader, source, [fields(1, "a")], columns=["Date", "eVar1", "Event 1", "visitorID"])

    (error,) = payload["userErrors"]
    assert (error["field"], error["code"]) == ("columns.1", "UNKNOWN_HEADER")
    assert "Evar 1" in error["message"]


async def test_a_job_takes_a_limited_number_of_calls(execute, company, source, monkeypatch):
    monkeypatch.setattr(uploads, "MAX_CALLS_PER_JOB", 2)
    for _ in range(2):
        await send(execute, company.uploader, source, [fields(1, "a")])

    third = await send(execute, company.uploader, source, [fields(1, "a")])

    assert [e["code"] for e in third["userErrors"]] == ["TOO_MANY_CALLS"]


async def test_a_call_that_would_bring_a_job_past_90_days_is_refused_and_stores_nothing(store, execute, company, source, today):
    today.now = moment(200, "12:00")
    await send(execute, company.uploader, source, [fields(day, "a") for day in range(90)])

    refused = await send(execute, company.uploader, source, [fields(95, "late")])

    assert [e["code"] for e in refused["userErrors"]] == ["TOO_MANY_DAYS"]
    assert len(await store.find_many(collections.JOB_CHUNKS, {})) == 1


async def test_validating_rows_reports_every_problem_and_the_counts_and_stores_nothing(store, execute, company, source):
    rows = [fields(1, "a"), fields(1, "b;c"), fields(1, "d", event="x"), fields(1, "e", visitor="NULL"), fields(1, "f", visitor="cust-77")]

    result = await execute(VALIDATE_ROWS, company.uploader, input={"dataSourceId": source, "columns": COLUMNS, "rows": rows})

    payload = result.data["validateDataSourceRows"]
    assert [(p["line"], p["column"], p["code"], p["severity"]) for p in payload["problems"]] == [
        (1, 4, "UNKNOWN_VISITOR", "WARNING"),  # never collected: a summary row
        (2, 2, "SEMICOLON", "WARNING"),
        (3, 3, "INVALID_NUMBER", "ERROR"),
        (4, 4, "PLACEHOLDER_ID", "ERROR"),
        (5, 4, "UNKNOWN_VISITOR", "WARNING"),
    ]
    assert (payload["rowCount"], payload["summaryRows"], payload["skippedRows"], payload["errorCount"], payload["warningCount"]) == (
        5,
        2,
        3,
        2,
        3,
    )
    assert await store.find_many(collections.JOBS, {}) == []
    assert await store.find_many(collections.ROWS, {}) == []


async def test_the_file_log_lists_jobs_newest_first_by_status_and_name(store, execute, company, source):
    await send(execute, company.uploader, source, [fields(1, "a")], name="first", finished=True)
    await send(execute, company.uploader, source, [fields(1, "a")], name="second")

    log = (await query(execute, company.reader, JOBS, rsid="telco"))["reportSuite"]
    queued = (await query(execute, company.reader, JOBS, rsid="telco", status="QUEUED"))["reportSuite"]["jobs"]
    named = (await query(execute, company.reader, JOBS, rsid="telco", name="first"))["reportSuite"]["jobs"]

    assert [e["node"]["name"] for e in log["jobs"]["edges"]] == ["second", "first"]
    assert log["jobs"]["edges"][0]["node"]["dataSource"]["name"] == "Calls"
    by_source = {e["node"]["name"]: [j["node"]["name"] for j in e["node"]["jobs"]["edges"]] for e in log["dataSources"]["edges"]}
    assert by_source == {"Web beacon": [], "Calls": ["second", "first"]}
    assert [e["node"]["name"] for e in queued["edges"]] == ["first"]
    assert [e["node"]["name"] for e in named["edges"]] == ["first"]


async def test_node_finds_a_job_of_the_callers_company_only(execute, company, other_company, source):
    sent = await send(execute, company.uploader, source, [fields(1, "a")])

    mine = await query(execute, company.reader, NODE, id=sent["job"]["id"])
    theirs = await query(execute, other_company.reader, NODE, id=sent["job"]["id"])

    assert mine["node"] == {"name": "crm-1", "status": "RECEIVING"}
    assert theirs["node"] is None


async def test_another_company_cannot_upload_to_the_data_source(store, execute, other_company, source):
    payload = await send(execute, other_company.uploader, source, [fields(1, "a")])

    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [("dataSourceId", "NOT_FOUND")]
    assert await store.find_many(collections.JOBS, {}) == []


async def test_a_reader_may_not_upload_and_an_uploader_may_not_restart_processing(store, execute, company, source):
    as_reader = await send(execute, company.reader, source, [fields(1, "a")])
    restart = await execute(RESTART, company.uploader, id=source)

    assert codes(as_reader) == ["FORBIDDEN"]
    assert codes(restart) == ["FORBIDDEN"]
    assert await store.find_many(collections.JOBS, {}) == []
