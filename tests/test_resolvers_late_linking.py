"""resolvers/late_linking.py on both stores: the note of the ids rows wait for lasts as long
as the last of them, collection reads no row for an id nothing waits for, and a job's
late links are counted from the rows."""

from datetime import timedelta

import pytest

from models import store as collections
from models.data_sources import CATALOGUE, SourceType
from resolvers import collection, data_sources, jobs, processing, report_suites, uploads
from tests.helpers import RSID, moment

pytestmark = [pytest.mark.wire]

HEADER = "Date\tEvar 1\tEvent 1\ttransactionID\n"


async def pieces(text: str):
    yield text.encode()


@pytest.fixture
async def source(any_store, any_company):
    entry = CATALOGUE[SourceType.GENERIC_TRANSACTION_ID]
    return await data_sources.create(
        any_store, any_company.admin, RSID, "Leads", entry.category, SourceType.GENERIC_TRANSACTION_ID,
        [("Evar 1", None), ("transactionID", None)], [("Event 1", None)],
    )  # fmt: skip


async def upload_and_process(store, company, source, name: str, *transaction_ids: str):
    text = HEADER + "".join(f"{moment(1, '12:00'):%m/%d/%Y}\t{name}\t1\t{t}\n" for t in transaction_ids)  # one content a name
    job = await uploads.upload_file(store, company.uploader, source.id, name, pieces(text))
    worker = processing.Worker(store)
    while await worker.run_once():
        pass
    return job


async def collect(store, company, transaction_id: str, day: int) -> None:
    hit = collection.HitIn("v-1", moment(day, "10:00").isoformat(), evars=((2, "online"),), transaction_id=transaction_id)
    (outcome,) = (await collection.collect_hits(store, company.uploader, RSID, [hit])).outcomes
    assert outcome.collected


async def test_rows_stored_later_keep_their_id_noted_after_the_first_rows_stopped_waiting(any_store, any_company, source, today):
    await report_suites.update(any_store, any_company.admin, RSID, transaction_id_window_days=3)
    first = await upload_and_process(any_store, any_company, source, "monday.txt", "lead_1")
    today.now += timedelta(days=2)
    second = await upload_and_process(any_store, any_company, source, "wednesday.txt", "lead_1")
    (note,) = await any_store.find_many(collections.WAITING, {})
    assert note["expiresAt"] == today.now + timedelta(days=3)  # as long as Wednesday's row waits

    today.now += timedelta(days=2)  # Monday's row has waited four days: too long; Wednesday's two
    await collect(any_store, any_company, "lead_1", day=12)

    done = {job.id: job for job in await jobs.get_many(any_store, any_company.reader, [first.id, second.id])}
    assert (done[first.id].late_linked, done[second.id].late_linked) == (0, 1)
    assert await any_store.find_many(collections.WAITING, {}) == []  # nothing waits for it any more


async def test_collecting_an_id_nothing_waits_for_reads_no_row(any_store, any_company, source, today, monkeypatch):
    await upload_and_process(any_store, any_company, source, "leads.txt", "lead_1")
    read = []
    real_find = any_store.find_many

    async def recorded(collection_name, query, *more, **options):
        read.append(collection_name)
        return await real_find(collection_name, query, *more, **options)

    monkeypatch.setattr(any_store, "find_many", recorded)
    await collect(any_store, any_company, "lead_2", day=2)

    assert collections.ROWS not in read and collections.WAITING in read


async def test_a_row_waiting_with_late_linking_off_stays_a_summary_row_and_its_count_is_exact(any_store, any_company, source, today):
    await report_suites.update(any_store, any_company.admin, RSID, late_transaction_linking=False)
    job = await upload_and_process(any_store, any_company, source, "leads.txt", "lead_1", "lead_1")
    await collect(any_store, any_company, "lead_1", day=2)

    (done,) = await jobs.get_many(any_store, any_company.reader, [job.id])
    assert (done.counts_now.summary_rows, done.counts_now.linked_by_transaction, done.late_linked) == (2, 0, 0)
