"""resolvers/exactly_once.py through resolvers/uploads.py, on both stores (on the wire server
the sendings really interleave): one key, one content, one rows call, whoever races."""

import asyncio
from datetime import timedelta

import pytest

from models import clock
from models import store as collections
from models.data_sources import CATALOGUE, SourceType
from models.jobs import RECEIVE_TIMEOUT
from models.keys import receiving_key
from models.problems import Rejected
from resolvers import data_sources, job_deletion, uploads
from tests.helpers import RSID, ServerKilled, moment

pytestmark = [pytest.mark.wire, pytest.mark.usefixtures("today")]

HEADER = "Date\tEvar 1\tEvent 1\n"
COLUMNS = ["Date", "Evar 1", "Event 1"]


def line(day: int, campaign: str) -> str:
    return f"{moment(day, '12:00'):%m/%d/%Y}\t{campaign}\t1\n"


async def pieces(text: str, size: int = 7):
    """The file in small pieces, so that uploads racing take turns while they stream."""
    data = text.encode()
    for start in range(0, len(data), size):
        await asyncio.sleep(0)
        yield data[start : start + size]


@pytest.fixture
async def source(any_store, any_company):
    entry = CATALOGUE[SourceType.GENERIC_SUMMARY]
    return await data_sources.create(
        any_store, any_company.admin, RSID, "Summary", entry.category, SourceType.GENERIC_SUMMARY, [("Evar 1", None)], [("Event 1", None)]
    )


async def upload(store, company, source, text: str, key: str | None = None, name: str = "a.txt"):
    return await uploads.upload_file(store, company.uploader, source.id, name, pieces(text), idempotency_key=key)


async def test_three_uploads_racing_with_one_key_make_one_job(any_store, any_company, source):
    text = HEADER + line(1, "a") + line(2, "b")

    jobs = await asyncio.gather(*(upload(any_store, any_company, source, text, key="k") for _ in range(3)))

    assert len({job.id for job in jobs}) == 1
    assert len(await any_store.find_many(collections.JOBS, {})) == 1
    (stored,) = await any_store.find_many(collections.JOBS, {})
    assert stored["status"] == "QUEUED"


async def test_three_uploads_racing_with_one_content_keep_one_job_and_refuse_the_others(any_store, any_company, source):
    text = HEADER + line(1, "a")

    results = await asyncio.gather(
        *(upload(any_store, any_company, source, text, name=f"{n}.txt") for n in range(3)), return_exceptions=True
    )

    (kept,) = await any_store.find_many(collections.JOBS, {})
    refused = [r for r in results if isinstance(r, uploads.DuplicateUpload)]
    assert len(refused) == 2 and {r.earlier.id for r in refused} == {kept["_id"]}
    assert {c["jobId"] for c in await any_store.find_many(collections.JOB_CHUNKS, {})} == {kept["_id"]}  # none of the others'


async def test_a_content_whose_job_stored_no_rows_may_be_sent_again(any_store, any_company, source):
    text = HEADER + line(1, "a")
    first = await upload(any_store, any_company, source, text)
    failed = first.finished(uploads.JobStatus.FAILED, clock.now())  # as stop-on-errors leaves it: no row stored
    assert await any_store.company(any_company.id).replace_versioned(collections.JOBS, failed.to_doc())

    again = await upload(any_store, any_company, source, text)

    assert again.id != first.id and again.status.value == "QUEUED"


async def test_a_key_whose_upload_died_mid_file_is_taken_over_and_the_dead_job_removed(any_store, any_company, source, today):
    text = HEADER + line(1, "a")

    async def dies_half_way():
        yield text.encode()[:10]
        raise ServerKilled  # no code of the server runs after this: its process is gone

    with pytest.raises(ServerKilled):
        await uploads.upload_file(any_store, any_company.uploader, source.id, "a.txt", dies_half_way(), idempotency_key="k")
    (dead,) = await any_store.find_many(collections.JOBS, {})
    assert dead["status"] == "RECEIVING"

    assert (await upload(any_store, any_company, source, text, key="k")).id == dead["_id"]  # it may still be streaming
    today.now += RECEIVE_TIMEOUT + timedelta(seconds=1)
    retried = await upload(any_store, any_company, source, text, key="k")

    (job,) = await any_store.find_many(collections.JOBS, {})
    assert job["_id"] == retried.id != dead["_id"] and job["status"] == "QUEUED"
    assert {c["jobId"] for c in await any_store.find_many(collections.JOB_CHUNKS, {})} == {retried.id}


async def test_two_sendings_of_one_rows_call_racing_count_it_once(any_store, any_company, source):
    rows = [line(1, "a").rstrip("\n").split("\t"), line(1, "b").rstrip("\n").split("\t")]

    async def send():
        return await uploads.upload_rows(any_store, any_company.uploader, source.id, "crm", COLUMNS, rows, False, idempotency_key="c1")

    jobs = await asyncio.gather(send(), send(), send())

    assert len({job.id for job in jobs}) == 1
    (job,) = await any_store.find_many(collections.JOBS, {})
    assert (job["chunks"], job["linesTotal"], len(job["callKeys"])) == (1, 2, 1)
    assert len(await any_store.find_many(collections.JOB_CHUNKS, {})) == 1


async def test_a_rows_call_resent_after_its_first_sending_stopped_past_its_count_stores_its_piece(
    any_store, any_company, source, monkeypatch
):
    rows = [line(1, "a").rstrip("\n").split("\t")]
    real = uploads._store_call

    async def stops(*args):
        raise ConnectionError("the server went down after counting the call")

    monkeypatch.setattr(uploads, "_store_call", stops)
    with pytest.raises(ConnectionError):
        await uploads.upload_rows(any_store, any_company.uploader, source.id, "crm", COLUMNS, rows, True, idempotency_key="c1")
    assert await any_store.find_many(collections.JOB_CHUNKS, {}) == []

    monkeypatch.setattr(uploads, "_store_call", real)
    job = await uploads.upload_rows(any_store, any_company.uploader, source.id, "crm", COLUMNS, rows, True, idempotency_key="c1")

    assert job.status.value == "QUEUED" and (job.chunks, job.lines_total) == (1, 1)
    (piece,) = await any_store.find_many(collections.JOB_CHUNKS, {})
    assert (piece["jobId"], piece["firstLine"], piece["rows"]) == (job.id, 1, rows)


async def test_an_upload_that_fails_mid_file_leaves_no_job_behind(any_store, any_company, source):
    async def breaks_half_way():
        yield (HEADER + line(1, "a")).encode()[:10]
        raise ConnectionError("the client's file could not be read")

    with pytest.raises(ConnectionError):
        await uploads.upload_file(any_store, any_company.uploader, source.id, "a.txt", breaks_half_way(), idempotency_key="k")

    assert await any_store.find_many(collections.JOBS, {}) == []
    assert await any_store.find_many(collections.JOB_CHUNKS, {}) == []
    assert (await upload(any_store, any_company, source, HEADER + line(1, "a"), key="k")).status.value == "QUEUED"


async def test_a_call_that_finds_its_job_name_still_claimed_by_a_queued_job_starts_a_new_job(any_store, any_company, source):
    rows = [line(1, "a").rstrip("\n").split("\t")]
    queued = await uploads.upload_rows(any_store, any_company.uploader, source.id, "crm", COLUMNS, rows, True)
    # As if the next call came between the queueing and the release of the name.
    claim = {"_id": receiving_key(source.id, "crm"), "companyId": any_company.id, "jobId": queued.id}
    await any_store.insert(collections.JOB_NAMES, claim)

    later = await uploads.upload_rows(any_store, any_company.uploader, source.id, "crm", COLUMNS, rows, False)

    assert later.id != queued.id and later.status.value == "RECEIVING"
    held = {job["_id"]: (job["status"], job["chunks"]) for job in await any_store.find_many(collections.JOBS, {})}
    assert held == {queued.id: ("QUEUED", 1), later.id: ("RECEIVING", 1)}


async def test_queueing_a_rows_job_leaves_the_next_jobs_claim_of_its_name_alone(any_store, any_company, source):
    rows = [line(1, "a").rstrip("\n").split("\t")]
    first = await uploads.upload_rows(any_store, any_company.uploader, source.id, "crm", COLUMNS, rows, False)
    # The next job of that name claimed it between this job's queueing and its release of the name.
    await any_store.delete_many(collections.JOB_NAMES, {})
    claim = {"_id": receiving_key(source.id, "crm"), "companyId": any_company.id, "jobId": "the-next-job"}
    await any_store.insert(collections.JOB_NAMES, claim)

    await uploads._queue(any_store.company(any_company.id), first)  # the step a finishing call ends with

    assert await any_store.find_many(collections.JOB_NAMES, {}) == [claim]


async def test_a_file_still_being_stored_is_not_taken_over_however_long_it_takes(any_store, any_company, source, today):
    taken_over = []

    async def slow_pieces():
        for day in range(1, 9):  # each piece 20 s after the last: 160 s in all
            today.now += timedelta(seconds=20)
            if day == 6:  # the same upload sent again meanwhile, with its key
                taken_over.append(await upload(any_store, any_company, source, HEADER + line(1, "x"), key="k"))
            yield (HEADER if day == 1 else "").encode() + line(day, "slow").encode()

    first = await uploads.upload_file(any_store, any_company.uploader, source.id, "slow.txt", slow_pieces(), idempotency_key="k")

    assert first.status.value == "QUEUED" and first.chunks == 8
    assert [job.id for job in taken_over] == [first.id]  # answered with the upload still coming in
    (job,) = await any_store.find_many(collections.JOBS, {})
    assert job["_id"] == first.id


async def test_a_file_deleted_while_it_comes_in_stops_and_stays_in_the_file_log_as_deleted(any_store, any_company, source, today):
    async def slow_pieces():
        for day in range(1, 5):
            today.now += timedelta(seconds=20)
            if day == 3:
                (receiving,) = await any_store.find_many(collections.JOBS, {})
                await job_deletion.delete_job_data(any_store, any_company.admin, receiving["_id"])
            yield (HEADER if day == 1 else "").encode() + line(day, "slow").encode()

    with pytest.raises(Rejected) as stopped:
        await uploads.upload_file(any_store, any_company.uploader, source.id, "slow.txt", slow_pieces())

    assert [p.code for p in stopped.value.problems] == ["UPLOAD_INTERRUPTED"]
    (job,) = await any_store.find_many(collections.JOBS, {})
    assert job["status"] == "DELETED" and await any_store.find_many(collections.JOB_CHUNKS, {}) == []
