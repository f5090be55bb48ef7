"""resolvers/processing.py: workers claim jobs once, in name order per data source, resume a
job a dead worker left with exact counts, and stop on errors when a data source says so."""

import asyncio
from datetime import timedelta

import pytest

from models import clock
from models import store as collections
from models.data_sources import CATALOGUE, SourceType
from models.jobs import LEASE, RECEIVE_TIMEOUT, JobStatus
from models.store import CompanyStore
from resolvers import collection, data_sources, jobs, processing, report_suites, uploads
from tests.helpers import ServerKilled, moment

HEADER = "Date\tEvar 1\tEvent 1\tPrice\ttransactionID\n"


def row(day: int, campaign: str, transaction_id: str = "", price: str = "10") -> str:
    return f"{moment(day, '12:00'):%m/%d/%Y}\t{campaign}\t1\t{price}\t{transaction_id}\n"


async def pieces(text: str):
    yield text.encode()


@pytest.fixture
async def source(store, company, today):
    await report_suites.create(store, company.admin, "shop", "Shop")
    await report_suites.set_recording(store, company.admin, "shop", True)
    entry = CATALOGUE[SourceType.GENERIC_TRANSACTION_ID]
    return await data_sources.create(
        store, company.admin, "shop", "Leads", entry.category, SourceType.GENERIC_TRANSACTION_ID,
        [("Evar 1", None), ("transactionID", None)], [("Event 1", None), ("Price", None)],
    )  # fmt: skip


async def upload(store, company, source, name: str, text: str):
    return await uploads.upload_file(store, company.uploader, source.id, name, pieces(text))


async def drain(store, batch_rows: int = 2) -> None:
    worker = processing.Worker(store, batch_rows)
    while await worker.run_once():
        pass


async def collect_transactions(store, company, *transaction_ids: str) -> None:
    hits = [
        collection.HitIn(f"v-{n}", moment(0, f"10:{n:02}").isoformat(), evars=((2, "online"),), transaction_id=t)
        for n, t in enumerate(transaction_ids)
    ]
    result = await collection.collect_hits(store, company.uploader, "shop", hits)
    assert all(o.collected for o in result.outcomes)


async def test_a_job_a_worker_left_between_two_batches_is_resumed_with_exact_counts(store, company, source, monkeypatch):
    await collect_transactions(store, company, "t-1", "t-2")
    text = HEADER + row(1, "a", "t-1") + row(1, "b", "t-2") + row(1, "c;d") + row(1, "e", "t-9") + row(1, "f", "t-1") + row(2, "g")
    job = await upload(store, company, source, "leads.txt", text)
    writes = 0
    real_write = processing._write_batch

    async def dies_after_the_first_batch(*args):
        nonlocal writes
        writes += 1
        if writes == 2:
            raise ConnectionError("the worker's machine went away")
        return await real_write(*args)

    monkeypatch.setattr(processing, "_write_batch", dies_after_the_first_batch)
    with pytest.raises(ConnectionError):
        await processing.Worker(store, batch_rows=2).run_once()
    left = await store.find_one(collections.JOBS, {"_id": job.id})
    assert left["status"] == "PROCESSING" and left["linesDone"] == 3  # the header and one batch of two rows

    monkeypatch.setattr(processing, "_write_batch", real_write)
    assert await processing.claim(store, "impatient") is None  # the lease still holds
    later = clock.now() + LEASE + timedelta(seconds=1)
    monkeypatch.setattr(clock, "now", lambda: later)
    await drain(store)

    done = await store.find_one(collections.JOBS, {"_id": job.id})
    # Six rows: t-1 twice and t-2 linked; t-9 unknown and g without an id are summary rows; c;d skipped.
    assert done["status"] == "SUCCESS"
    assert done["counts"] == {
        "rows": 6, "linkedByTransaction": 3, "linkedByVisitor": 0, "summaryRows": 2,
        "skippedRows": 1, "errorCount": 0, "warningCount": 1,
    }  # fmt: skip
    stored = await store.find_many(collections.ROWS, {})
    assert sorted(r["line"] for r in stored) == [2, 3, 5, 6, 7]
    snapshots = {s["transactionId"]: s["linkedRowCount"] for s in await store.find_many(collections.SNAPSHOTS, {})}
    assert snapshots == {"t-1": 2, "t-2": 1}


async def test_two_workers_racing_for_one_job_process_it_once(store, company, source):
    await upload(store, company, source, "one.txt", HEADER + row(1, "a"))

    claims = await asyncio.gather(processing.claim(store, "w1"), processing.claim(store, "w2"))

    assert sum(c is not None for c in claims) == 1


async def test_jobs_waiting_on_one_data_source_are_processed_in_alphanumeric_order_of_their_names(store, company, source):
    for name in ["b-2.txt", "a-10.txt", "a-2.txt"]:
        await upload(store, company, source, name, HEADER + row(1, name))
    order = []
    worker = processing.Worker(store)
    while job := await worker.run_once():
        order.append(job.name)

    assert order == ["a-10.txt", "a-2.txt", "b-2.txt"]


async def test_a_data_source_being_processed_takes_no_second_job_until_the_first_is_done(store, company, source):
    await upload(store, company, source, "a.txt", HEADER + row(1, "a"))
    await upload(store, company, source, "b.txt", HEADER + row(1, "b"))

    first = await processing.claim(store, "w1")
    second = await processing.claim(store, "w2")

    assert first is not None and first.name == "a.txt"
    assert second is None


async def test_nothing_is_processed_before_a_rows_job_is_finished(store, company, source):
    columns = ["Date", "Evar 1", "Event 1", "Price", "transactionID"]
    fields = row(1, "a").rstrip("\n").split("\t")
    await uploads.upload_rows(store, company.uploader, source.id, "crm", columns, [fields], finished=False)

    await drain(store)
    assert await store.find_many(collections.ROWS, {}) == []

    job = await uploads.upload_rows(store, company.uploader, source.id, "crm", columns, [fields], finished=True)
    await drain(store)
    done = await store.find_one(collections.JOBS, {"_id": job.id})
    assert done["status"] == "SUCCESS" and done["counts"]["rows"] == 2
    assert sorted(r["line"] for r in await store.find_many(collections.ROWS, {})) == [1, 2]


async def test_stop_on_errors_fails_the_job_without_a_row_and_locks_until_restarted(store, company, source):
    await data_sources.configure(store, company.admin, source.id, stop_on_errors=True)
    job = await upload(store, company, source, "bad.txt", HEADER + row(1, "a") + row(1, "b", price="x"))
    waiting = await upload(store, company, source, "next.txt", HEADER + row(1, "c"))  # queued before the lock

    await drain(store)

    failed = await store.find_one(collections.JOBS, {"_id": job.id})
    assert failed["status"] == "FAILED" and failed["counts"]["errorCount"] == 1
    assert await store.find_many(collections.ROWS, {}) == []
    assert (await data_sources.get(store, company.reader, source.id)).locked_by == job.id
    assert (await store.find_one(collections.JOBS, {"_id": waiting.id}))["status"] == "QUEUED"  # waits for the restart

    await uploads.restart_processing(store, company.admin, source.id)
    await drain(store)
    assert (await store.find_one(collections.JOBS, {"_id": waiting.id}))["status"] == "SUCCESS"


async def test_a_worker_told_to_stop_gives_its_job_up_at_a_checkpoint_for_another_to_finish(store, company, source):
    job = await upload(store, company, source, "long.txt", HEADER + "".join(row(1, f"c{n}") for n in range(6)))
    stop = asyncio.Event()
    stop.set()  # as if Ctrl-C came during the first batch

    left = await processing.Worker(store, batch_rows=2).run_once(stop)

    assert left.status is JobStatus.PROCESSING and left.lines_done == 3
    await drain(store)  # no waiting for a lease: it was given up
    done = await store.find_one(collections.JOBS, {"_id": job.id})
    assert done["status"] == "SUCCESS" and done["counts"]["summaryRows"] == 6
    assert len(await store.find_many(collections.ROWS, {})) == 6


async def test_a_worker_reads_and_writes_only_through_the_jobs_company(store, company, other_company, source):
    await upload(store, company, source, "a.txt", HEADER + row(1, "a"))
    await drain(store)

    rows = await store.find_many(collections.ROWS, {})
    problems_of_other = await store.company(other_company.id).find_many(collections.ROWS, {})
    assert {r["companyId"] for r in rows} == {company.id}
    assert problems_of_other == []


async def test_rows_linked_late_while_their_worker_was_dead_are_counted_once_when_it_resumes(store, company, source, monkeypatch):
    job = await upload(store, company, source, "leads.txt", HEADER + row(1, "a", "t-1") + row(1, "b", "t-1") + row(1, "c"))
    real_write = processing._write_batch
    real_checkpoint = store.replace_versioned

    async def dies_before_its_first_checkpoint(collection, doc):
        if collection == collections.JOBS and doc.get("linesDone"):
            raise ConnectionError("the worker's machine went away")
        return await real_checkpoint(collection, doc)

    monkeypatch.setattr(store, "replace_versioned", dies_before_its_first_checkpoint)
    with pytest.raises(ConnectionError):
        await processing.Worker(store, batch_rows=2).run_once()
    monkeypatch.setattr(store, "replace_versioned", real_checkpoint)
    assert sorted(r["link"] for r in await store.find_many(collections.ROWS, {})) == ["SUMMARY", "SUMMARY"]

    await collect_transactions(store, company, "t-1")  # links the two stored rows late
    later = clock.now() + LEASE + timedelta(seconds=1)
    monkeypatch.setattr(clock, "now", lambda: later)
    monkeypatch.setattr(processing, "_write_batch", real_write)
    await drain(store)

    (done,) = await jobs.get_many(store, company.reader, [job.id])
    assert done.status is JobStatus.SUCCESS
    assert (done.counts_now.linked_by_transaction, done.counts_now.summary_rows, done.late_linked) == (2, 1, 2)
    snapshots = {s["transactionId"]: s["linkedRowCount"] for s in await store.find_many(collections.SNAPSHOTS, {})}
    assert snapshots == {"t-1": 2}


async def test_a_file_whose_upload_died_with_its_server_leaves_the_file_log_once_abandoned(store, company, source, today):
    async def dies_half_way():
        yield row(1, "a").encode()[:10]
        raise ServerKilled

    with pytest.raises(ServerKilled):
        await uploads.upload_file(store, company.uploader, source.id, "a.txt", dies_half_way())
    await drain(store)
    (receiving,), _ = await jobs.page(store, company.uploader, {"dataSourceId": source.id}, jobs.JobFilter(), None, 10)

    today.now += RECEIVE_TIMEOUT + timedelta(seconds=1)
    await drain(store)

    assert receiving.status is JobStatus.RECEIVING  # before: it may still be streaming in
    assert await store.find_many(collections.JOBS, {}) == []
    assert await store.find_many(collections.JOB_CHUNKS, {}) == []


async def test_a_rows_job_whose_first_call_died_before_its_name_was_claimed_goes_once_abandoned(store, company, source, today, monkeypatch):
    columns, rows = ["Date", "Evar 1", "Event 1", "transactionID"], [[f"{moment(1, '12:00'):%m/%d/%Y}", "a", "1", "t-1"]]
    stored_insert = CompanyStore.insert

    async def dies_at_the_name(self, collection, doc):
        if collection == collections.JOB_NAMES:
            raise ServerKilled
        await stored_insert(self, collection, doc)

    monkeypatch.setattr(CompanyStore, "insert", dies_at_the_name)
    with pytest.raises(ServerKilled):
        await uploads.upload_rows(store, company.uploader, source.id, "crm", columns, rows, False)
    monkeypatch.setattr(CompanyStore, "insert", stored_insert)
    await drain(store)
    (stray,) = await store.find_many(collections.JOBS, {})

    today.now += RECEIVE_TIMEOUT + timedelta(seconds=1)
    await drain(store)
    later = await uploads.upload_rows(store, company.uploader, source.id, "crm", columns, rows, False)

    assert stray["status"] == "RECEIVING" and stray["chunks"] == 0
    (job,) = await store.find_many(collections.JOBS, {})
    assert job["_id"] == later.id != stray["_id"] and job["chunks"] == 1


async def test_a_rows_job_that_stored_a_call_waits_for_its_last_call_however_long(store, company, source, today):
    columns, rows = ["Date", "Evar 1", "Event 1", "transactionID"], [[f"{moment(1, '12:00'):%m/%d/%Y}", "a", "1", "t-1"]]
    waiting = await uploads.upload_rows(store, company.uploader, source.id, "crm", columns, rows, False)

    today.now += timedelta(days=2)
    await drain(store)
    later = await uploads.upload_rows(store, company.uploader, source.id, "crm", columns, rows, True)

    assert later.id == waiting.id and later.status is JobStatus.QUEUED and later.chunks == 2
