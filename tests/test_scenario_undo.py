"""Scenario tests: real undo through the HTTP API (graph, resolvers, the worker and the
store): deleting a job's data removes its rows and problems, the transactions' linked-row
counts follow at once, asking twice changes nothing, and a job being processed is stopped."""

import pytest

from models import store as collections
from resolvers import api_keys, processing
from tests.helpers import Api, lead_source, moment, process_all
from tests.queries import DELETE_JOB_DATA, TRANSACTION, VIEWER

HEADER = "Date\tEvar 3\tEvent 5\tPrice\ttransactionID\n"


def line(day: int, stage: str, price: str, transaction_id: str = "") -> str:
    return f"{moment(day, '12:00'):%m/%d/%Y}\t{stage}\t1\t{price}\t{transaction_id}\n"


# lead_100 twice and one summary row, and a row with a semicolon (skipped, with a warning)
LEADS = (
    HEADER + line(3, "won", "1200", "lead_100") + line(4, "a;b", "1") + line(4, "won", "300", "lead_100") + line(5, "lost", "0")
).encode()


@pytest.fixture
async def source(store, execute, company, suite, today):
    return await lead_source(store, execute, company, suite)


async def transaction(api: Api) -> dict:
    return (await api.query(TRANSACTION, rsid="furniture", id="lead_100"))["reportSuite"]["transaction"]


async def delete(api: Api, job_id: str) -> dict:
    return (await api.query(DELETE_JOB_DATA, input={"jobId": job_id}))["deleteJobData"]


async def test_deleting_a_jobs_data_removes_its_rows_and_problems_and_the_transaction_count_follows_at_once(store, api, source):
    job = await api.upload_job(source, "leads.txt", LEADS)
    await process_all(store)
    assert (await transaction(api))["linkedRowCount"] == 2
    admin_key_id = (await api.query(VIEWER))["viewer"]["keyId"]

    deleted = await delete(api, job["id"])

    assert deleted["userErrors"] == [] and deleted["alreadyDeleted"] is False
    assert deleted["deletedRowCount"] == 3
    assert deleted["job"]["status"] == "DELETED" and deleted["job"]["deletedBy"] == admin_key_id and deleted["job"]["deletedAt"]
    assert await store.find_many(collections.ROWS, {}) == []
    assert await store.find_many(collections.PROBLEMS, {}) == []
    assert await store.find_many(collections.JOB_CHUNKS, {}) == []
    assert await transaction(api) == {**await transaction(api), "linkedRowCount": 0, "status": "UNLINKED"}
    # The file log keeps the job as the record of what was there.
    kept = await api.job(job["id"])
    assert (kept["status"], kept["rowCount"], kept["linkedByTransaction"]) == ("DELETED", 4, 2)
    assert kept["problems"]["edges"] == []


async def test_deleting_twice_changes_nothing_and_says_so(store, api, source):
    job = await api.upload_job(source, "leads.txt", LEADS)
    await process_all(store)
    first = await delete(api, job["id"])

    second = await delete(api, job["id"])

    assert (second["alreadyDeleted"], second["deletedRowCount"], second["userErrors"]) == (True, 0, [])
    assert second["job"] == first["job"]


async def test_a_deleted_files_content_may_be_sent_again(store, api, source):
    job = await api.upload_job(source, "leads.txt", LEADS)
    await process_all(store)
    await delete(api, job["id"])

    again = await api.upload_job(source, "leads.txt", LEADS)
    await process_all(store)

    assert again["id"] != job["id"]
    assert (await transaction(api))["linkedRowCount"] == 2


async def test_deleting_a_job_being_processed_stops_it_and_keeps_no_row(store, api, source, monkeypatch):
    job = await api.upload_job(source, "leads.txt", LEADS)
    real_write = processing._write_batch
    batches = 0

    async def deleted_during_the_second_batch(scope, suite, target, current, *rest):
        nonlocal batches
        batches += 1
        if batches == 2:  # the first batch is stored and checkpointed; the second is being linked
            answer = await delete(api, job["id"])
            assert answer["userErrors"] == [] and answer["deletedRowCount"] == 1  # line 2 (line 3 was skipped)
        return await real_write(scope, suite, target, current, *rest)

    monkeypatch.setattr(processing, "_write_batch", deleted_during_the_second_batch)
    left = await processing.Worker(store, batch_rows=2).run_once()

    assert batches == 2  # it stopped at the checkpoint after the deletion
    assert left.lease is None
    assert await store.find_many(collections.ROWS, {}) == []  # not even the batch stored after the deletion looked
    assert await store.find_many(collections.PROBLEMS, {}) == []
    assert (await api.job(job["id"]))["status"] == "DELETED"
    assert (await transaction(api))["linkedRowCount"] == 0
    assert await processing.claim(store, "another") is None  # no worker takes it up again


async def test_deleting_a_queued_job_means_it_is_never_processed(store, api, source):
    job = await api.upload_job(source, "leads.txt", LEADS)

    await delete(api, job["id"])
    await process_all(store)

    assert (await api.job(job["id"]))["status"] == "DELETED"
    assert await store.find_many(collections.ROWS, {}) == []


async def test_only_an_admin_deletes_and_only_its_own_companys_jobs(store, api, source, company, other_company):
    job = await api.upload_job(source, "leads.txt", LEADS)
    await process_all(store)
    uploader = Api(api.client, await api_keys.create_api_key(store, company.id, api_keys.Role.UPLOADER))
    outsider = Api(api.client, other_company.admin_key)

    refused = await uploader.client.post(
        "/graphql", json={"query": DELETE_JOB_DATA, "variables": {"input": {"jobId": job["id"]}}}, headers=uploader.headers
    )
    not_theirs = await delete(outsider, job["id"])

    assert refused.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert [(e["field"], e["code"]) for e in not_theirs["userErrors"]] == [("jobId", "NOT_FOUND")]
    assert len(await store.find_many(collections.ROWS, {})) == 3
