"""Scenario tests: offline uploads through the HTTP API, from collection to the job's
counts and the linked transaction (graph, resolvers, the file format, the worker and the
store). EXAMPLES.md 1, 2 and 4 come out exactly as written there; their dates are moved
to the last days of the real calendar (the embedded store's TTL uses the real clock)."""

import json

import httpx
import pytest

from graph.app import create_app
from models import clock
from models.companies import Role
from resolvers import report_suites
from tests.helpers import (
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

TRANSACTION = """
query($rsid: String!, $id: String!) {
  reportSuite(rsid: $rsid) { transaction(transactionId: $id) { status linkedRowCount } }
}"""


@pytest.fixture(autouse=True)
def today(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: local(19, "12:00"))


@pytest.fixture
async def client(store):
    app = create_app(store)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        yield client


def problems(job: dict) -> list[tuple[int, int | None, str, str]]:
    return [(p["line"], p["column"], p["code"], p["severity"]) for p in (e["node"] for e in job["problems"]["edges"])]


async def test_examples_1_a_lead_handed_to_sales_links_by_transaction_id(store, client, company):
    await report_suites.create(store, company.admin, "furniture", "Furniture", time_zone="America/New_York")
    await report_suites.set_recording(store, company.admin, "furniture", True)
    api = Api(client, company.admin_key)
    hits = examples_1_hits()
    collected = await api.query(COLLECT, input={"rsid": "furniture", "hits": hits})
    assert collected["collectHits"]["collectedCount"] == 2
    source = await make_source(store, company, "furniture", "GENERIC_TRANSACTION_ID", ["Evar 3", "transactionID"], ["Event 5", "Price"])
    content = examples_1_deals()

    job = await api.upload_job(source, "leads.txt", content)
    assert job["status"] == "QUEUED" and job["name"] == "leads.txt"
    await process_all(store)

    done = await api.job(job["id"])
    # Row 1 links to lead_100; row 2's lead_999 was never collected online: a summary row.
    assert (done["status"], done["rowCount"], done["linkedByTransaction"], done["summaryRows"], done["skippedRows"]) == (
        "SUCCESS",
        2,
        1,
        1,
        0,
    )
    assert done["progress"] == 1.0
    transaction = (await api.query(TRANSACTION, rsid="furniture", id="lead_100"))["reportSuite"]["transaction"]
    assert transaction == {"status": "LINKED", "linkedRowCount": 1}
    rows = sorted(await store.find_many("rows", {}), key=lambda r: r["line"])
    assert rows[0]["values"] == {"evar3": "closed-won", "evar1": "email", "evar2": "sofa", "trackingCode": "spring-sale"}
    assert rows[0]["link"] == "TRANSACTION" and rows[0]["visitorId"] == "v-1" and rows[0]["metrics"] == {"event5": 1.0, "revenue": 1200.0}
    assert rows[1]["values"] == {"evar3": "closed-won"} and rows[1]["link"] == "SUMMARY"
    assert rows[1]["timestamp"] == local(8, "12:00").astimezone(rows[1]["timestamp"].tzinfo)  # no time given: noon


async def test_examples_2_a_call_centre_record_links_by_visitor_id(store, client, company):
    api = Api(client, company.admin_key)
    source = await examples_2_source(store, company, api)

    job = await api.upload_job(source, "calls.txt", examples_2_calls(f"{file_date(0, '09:05')}\tretention-call\t1\tcust-42"))
    await process_all(store)

    done = await api.job(job["id"])
    assert (done["rowCount"], done["linkedByVisitor"], done["summaryRows"], done["warningCount"]) == (3, 2, 1, 1)
    # cust-77 was never collected: a summary row, with a warning naming its line and the visitorID column.
    assert problems(done) == [(3, 4, "UNKNOWN_VISITOR", "WARNING")]
    rows = {r["line"]: r for r in await store.find_many("rows", {})}
    # The state right after cust-42's last hit at or before the call (09:10): later expirations not applied.
    assert rows[2]["values"] == {"evar4": "retention-call", "evar1": "search", "evar2": "fibre-1000"} and rows[2]["link"] == "VISITOR"
    assert rows[3]["values"] == {"evar4": "retention-call"} and rows[3]["link"] == "SUMMARY"
    # Had the call been at 09:05, the state would be the one after the 09:00 hit.
    assert rows[4]["values"]["evar2"] == "fibre-500"


EXAMPLE_4_FAILS = "Date\teVar1\tEvent 1\n{d}\tred\t1\n"
EXAMPLE_4_HALF = "Date\tEvar 1\tEvent 1\n{d7}\tred\t1\n{d7}\tblue;green\t2\n09/31/2026\tred\t1\n{d8}\tred\tx\n{d8}\tred\n"


async def _summary_source(store, company, stop_on_errors: bool = False) -> str:
    await report_suites.create(store, company.admin, "shop", "Shop", time_zone="America/New_York")
    return await make_source(store, company, "shop", "GENERIC_SUMMARY", ["Evar 1"], ["Event 1"], stop_on_errors)


async def test_examples_4_a_file_with_an_unknown_header_fails_as_a_whole_before_any_row(store, client, company):
    source = await _summary_source(store, company)
    api = Api(client, company.admin_key)

    job = await api.upload_job(source, "bad.txt", EXAMPLE_4_FAILS.format(d=file_date(7)).encode())

    done = await api.job(job["id"])
    assert done["status"] == "FAILED"
    (problem,) = [e["node"] for e in done["problems"]["edges"]]
    assert (problem["line"], problem["column"], problem["code"]) == (1, 2, "UNKNOWN_HEADER")
    assert "eVar1" in problem["message"] and "Evar 1" in problem["message"]
    assert await store.find_many("rows", {}) == []


async def test_examples_4_a_file_that_half_fails_ingests_its_good_rows_and_reports_the_rest(store, client, company):
    source = await _summary_source(store, company)
    api = Api(client, company.admin_key)

    job = await api.upload_job(source, "half.txt", EXAMPLE_4_HALF.format(d7=file_date(7), d8=file_date(8)).encode())
    await process_all(store)

    done = await api.job(job["id"])
    assert (done["status"], done["rowCount"], done["skippedRows"], done["errorCount"], done["warningCount"]) == ("SUCCESS", 5, 4, 3, 1)
    assert [(line, column, severity) for line, column, _, severity in problems(done)] == [
        (3, 2, "WARNING"),  # a semicolon in a dimension value
        (4, 1, "ERROR"),  # no such date
        (5, 3, "ERROR"),  # not a number
        (6, None, "ERROR"),  # 2 fields where the header has 3
    ]
    assert [r["line"] for r in await store.find_many("rows", {})] == [2]


async def test_examples_4_with_stop_on_errors_the_job_fails_stores_nothing_and_locks_the_source(store, client, company):
    source = await _summary_source(store, company, stop_on_errors=True)
    api = Api(client, company.admin_key)

    job = await api.upload_job(source, "half.txt", EXAMPLE_4_HALF.format(d7=file_date(7), d8=file_date(8)).encode())
    await process_all(store)

    done = await api.job(job["id"])
    assert (done["status"], done["errorCount"], done["warningCount"]) == ("FAILED", 3, 1)
    assert done["dataSource"]["locked"] is True
    assert await store.find_many("rows", {}) == []
    again = (await api.upload(source, "fixed.txt", b"Date\tEvar 1\tEvent 1\n" + f"{file_date(7)}\tred\t1\n".encode())).json()
    assert again["data"]["uploadDataSourceFile"]["userErrors"][0]["code"] == "DATA_SOURCE_LOCKED"


async def test_a_multipart_post_without_a_preflight_header_is_refused(store, client, company):
    source = await _summary_source(store, company)
    api = Api(client, company.uploader_key if hasattr(company, "uploader_key") else company.admin_key)

    response = await api.upload(source, "x.txt", b"Date\tEvar 1\tEvent 1\n", preflight=False)

    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "CSRF_PREFLIGHT_REQUIRED"
    assert await store.find_many("jobs", {}) == []


@pytest.mark.parametrize("role", [Role.READER])
async def test_a_reader_cannot_upload(store, client, company, role):
    source = await _summary_source(store, company)
    from resolvers import api_keys

    key = await api_keys.create_api_key(store, company.id, role)
    body = (await Api(client, key).upload(source, "x.txt", b"Date\tEvar 1\tEvent 1\n")).json()

    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await store.find_many("jobs", {}) == []


async def test_a_keyless_upload_is_refused_and_its_spooled_file_closed(store, client, company):
    source = await _summary_source(store, company)

    body = (await Api(client, "none").upload(source, "x.txt", b"Date\tEvar 1\tEvent 1\n" * 100_000)).json()

    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"  # and no ResourceWarning: warnings are errors


async def test_a_job_takes_the_name_given_or_else_the_files(store, client, company):
    source = await _summary_source(store, company)
    api = Api(client, company.admin_key)
    named = """
mutation($input: UploadDataSourceFileInput!) { uploadDataSourceFile(input: $input) { job { name } userErrors { field code } } }"""

    async def send(name):
        content = f"Date\tEvar 1\tEvent 1\n{file_date(7)}\t{name}\t1\n".encode()  # not the same content twice
        operations = {"query": named, "variables": {"input": {"dataSourceId": source, "file": None, "name": name}}}
        form = {"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.input.file"]})}
        headers = api.headers | {"apollo-require-preflight": "true"}
        response = await client.post("/graphql", data=form, files={"0": ("0", content, "text/plain")}, headers=headers)
        return response.json()["data"]["uploadDataSourceFile"]

    assert (await send("crm-2026-11.txt"))["job"]["name"] == "crm-2026-11.txt"
    assert (await send(None))["job"]["name"] == "0"  # what a client sent as the file's name
    assert (await send("bad\tname"))["userErrors"] == [{"field": "name", "code": "INVALID"}]
