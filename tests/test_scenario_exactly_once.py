"""Scenario tests: exactly once, through the HTTP API (graph, resolvers, the worker and the
store): an upload sent from three clients at once, a retry after a dropped connection, the
same content sent again, and rows calls sent again with their idempotency keys."""

import asyncio
from datetime import timedelta

import httpx
import pytest

from models import store as collections
from tests.helpers import Api, lead_source, moment, process_all
from tests.queries import JOB_DETAILS, TRANSACTION

HEADER = "Date\tEvar 3\tEvent 5\tPrice\ttransactionID\n"
SEND_ROWS = """
mutation($input: UploadDataSourceRowsInput!) {
  uploadDataSourceRows(input: $input) { job { id status rowCount } userErrors { field code message } }
}"""
COLUMNS = ["Date", "Evar 3", "Event 5", "Price", "transactionID"]


def line(day: int, stage: str, price: str, transaction_id: str = "") -> str:
    return f"{moment(day, '12:00'):%m/%d/%Y}\t{stage}\t1\t{price}\t{transaction_id}\n"


LEADS = (HEADER + line(3, "closed-won", "1200", "lead_100") + line(4, "closed-lost", "0", "lead_999")).encode()


@pytest.fixture
async def source(store, execute, company, suite, today):
    return await lead_source(store, execute, company, suite)


async def stored(store, collection: str) -> list[dict]:
    return await store.find_many(collection, {})


async def test_one_upload_sent_from_three_clients_at_once_makes_one_job(store, api, source):
    payloads = await asyncio.gather(*(api.upload_payload(source, "leads.txt", LEADS, idempotencyKey="upload-7f3a") for _ in range(3)))

    assert [p["userErrors"] for p in payloads] == [[], [], []]
    assert len({p["job"]["id"] for p in payloads}) == 1  # each client is told of the same job
    assert len(await stored(store, collections.JOBS)) == 1
    await process_all(store)
    assert sorted(r["line"] for r in await stored(store, collections.ROWS)) == [2, 3]
    transaction = (await api.query(TRANSACTION, rsid="furniture", id="lead_100"))["reportSuite"]["transaction"]
    assert transaction["linkedRowCount"] == 1


async def test_the_same_file_from_three_clients_without_a_key_is_stored_once_and_the_others_are_told_which_job_has_it(store, api, source):
    payloads = await asyncio.gather(*(api.upload_payload(source, f"leads-{n}.txt", LEADS) for n in range(3)))

    (kept,) = await stored(store, collections.JOBS)
    refused = [p for p in payloads if p["userErrors"]]
    assert len(refused) == 2
    for payload in refused:
        (error,) = payload["userErrors"]
        assert (error["field"], error["code"]) == ("file", "DUPLICATE_UPLOAD")
        assert kept["name"] in error["message"] and "allowDuplicate" in error["message"]
        assert payload["job"]["name"] == kept["name"]  # the earlier job, to look up
    await process_all(store)
    assert len(await stored(store, collections.ROWS)) == 2


async def test_the_same_content_sent_again_later_is_refused_unless_duplicates_are_allowed(store, api, source):
    first = await api.upload_job(source, "leads.txt", LEADS)
    await process_all(store)

    again = await api.upload_payload(source, "leads-again.txt", LEADS)
    assert again["userErrors"][0]["code"] == "DUPLICATE_UPLOAD" and again["job"]["id"] == first["id"]
    allowed = await api.upload_job(source, "leads-again.txt", LEADS, allowDuplicate=True)
    await process_all(store)

    assert allowed["id"] != first["id"]
    assert (await api.job(allowed["id"]))["status"] == "SUCCESS"
    assert len(await stored(store, collections.ROWS)) == 4  # asked for twice, stored twice


async def test_a_file_that_fails_as_a_whole_holds_no_content(store, api, source):
    broken = b"Date\teVar3\tEvent 5\n" + line(3, "x", "1").encode()
    assert (await api.upload_job(source, "broken.txt", broken))["status"] == "FAILED"

    assert (await api.upload_job(source, "broken.txt", broken))["status"] == "FAILED"  # refused for what it is, not as a duplicate


async def send_and_drop(app, request: httpx.Request, keep_bytes: int) -> None:
    """Send `request` to the app as a client whose connection drops after `keep_bytes` of its body."""
    body = request.read()
    assert keep_bytes < len(body)
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in request.headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("t", 80),
    }
    messages = [{"type": "http.request", "body": body[:keep_bytes], "more_body": True}]

    async def receive():
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message):
        pass  # nobody is listening any more

    await app(scope, receive, send)


async def test_a_retry_after_a_dropped_connection_mid_upload_ends_with_one_job_and_no_row_counted_twice(store, app, api, source):
    big = (HEADER + line(3, "closed-won", "1200", "lead_100") + "".join(line(4, f"stage-{n}", "1") for n in range(3000))).encode()
    request = api.upload_request(source, "leads.txt", big, idempotencyKey="nightly-2024-06-01")

    await send_and_drop(app, request, keep_bytes=len(big) // 2)
    assert await stored(store, collections.JOBS) == []  # half a file is no upload: nothing of it is stored

    first = await api.upload_job(source, "leads.txt", big, idempotencyKey="nightly-2024-06-01")
    # The answer to that one is lost too (a timeout on the way back): the script sends it once more.
    again = await api.upload_job(source, "leads.txt", big, idempotencyKey="nightly-2024-06-01")
    await process_all(store)

    assert again["id"] == first["id"]
    assert len(await stored(store, collections.JOBS)) == 1
    done = await api.job(first["id"])
    assert (done["status"], done["rowCount"], done["linkedByTransaction"], done["summaryRows"]) == ("SUCCESS", 3001, 1, 3000)
    assert len(await stored(store, collections.ROWS)) == 3001
    transaction = (await api.query(TRANSACTION, rsid="furniture", id="lead_100"))["reportSuite"]["transaction"]
    assert transaction["linkedRowCount"] == 1


async def test_an_idempotency_key_holds_for_24_hours_on_its_data_source(store, api, source, today):
    first = await api.upload_job(source, "a.txt", LEADS, idempotencyKey="k-1")
    other_file = (HEADER + line(5, "closed-won", "80", "lead_100")).encode()

    today.now += timedelta(hours=23)
    assert (await api.upload_job(source, "b.txt", other_file, idempotencyKey="k-1"))["id"] == first["id"]
    today.now += timedelta(hours=2)
    later = await api.upload_job(source, "b.txt", other_file, idempotencyKey="k-1")

    assert later["id"] != first["id"] and later["name"] == "b.txt"


async def test_a_malformed_idempotency_key_is_refused_before_anything_is_stored(store, api, source):
    payload = await api.upload_payload(source, "a.txt", LEADS, idempotencyKey="two words")

    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [("idempotencyKey", "INVALID")]
    assert await stored(store, collections.JOBS) == []


async def send_rows(api: Api, source: str, rows: list[str], key: str | None, finished: bool = False, name: str = "crm") -> dict:
    fields = [r.rstrip("\n").split("\t") for r in rows]
    data = await api.query(
        SEND_ROWS,
        input={"dataSourceId": source, "jobName": name, "columns": COLUMNS, "rows": fields, "finished": finished, "idempotencyKey": key},
    )
    return data["uploadDataSourceRows"]


async def test_a_rows_call_sent_again_with_its_key_adds_nothing_even_after_its_job_was_queued(store, api, source):
    one = [line(3, "a", "1", "lead_100"), line(3, "b", "2")]
    two = [line(4, "c", "3")]

    first = await send_rows(api, source, one, key="crm-call-1")
    resent = await send_rows(api, source, one, key="crm-call-1")
    last = await send_rows(api, source, two, key="crm-call-2", finished=True)
    resent_last = await send_rows(api, source, two, key="crm-call-2", finished=True)  # its answer was lost
    await process_all(store)

    assert first["job"]["id"] == resent["job"]["id"] == last["job"]["id"] == resent_last["job"]["id"]
    assert resent_last["job"]["status"] in ("QUEUED", "SUCCESS") and resent_last["userErrors"] == []
    assert len(await stored(store, collections.JOBS)) == 1
    done = await api.job(first["job"]["id"])
    assert (done["status"], done["rowCount"], done["linkedByTransaction"]) == ("SUCCESS", 3, 1)
    assert sorted(r["line"] for r in await stored(store, collections.ROWS)) == [1, 2, 3]


async def test_a_rows_key_sent_again_with_other_rows_is_refused(store, api, source):
    await send_rows(api, source, [line(3, "a", "1")], key="crm-call-1")

    refused = await send_rows(api, source, [line(3, "z", "9")], key="crm-call-1")

    assert [(e["field"], e["code"]) for e in refused["userErrors"]] == [("idempotencyKey", "IDEMPOTENCY_KEY_REUSED")]
    (job,) = await stored(store, collections.JOBS)
    assert job["linesTotal"] == 1


async def test_two_sendings_of_one_rows_call_racing_count_it_once(store, api, source):
    rows = [line(3, "a", "1"), line(3, "b", "2")]

    answers = await asyncio.gather(send_rows(api, source, rows, key="crm-call-1"), send_rows(api, source, rows, key="crm-call-1"))
    await send_rows(api, source, [line(4, "c", "3")], key="crm-call-2", finished=True)
    await process_all(store)

    assert answers[0]["job"]["id"] == answers[1]["job"]["id"]
    (job,) = await stored(store, collections.JOBS)
    assert (job["status"], job["counts"]["rows"], job["chunks"]) == ("SUCCESS", 3, 2)
    done = await api.query(JOB_DETAILS, id=answers[0]["job"]["id"])
    assert done["node"]["rowCount"] == 3
