"""Scenario tests: late linking through the HTTP API (collection, uploads, the worker, the
report-suite setting and the store): rows that arrived before their online transaction are
linked when it is collected, the job's counts and the transaction say so; switched off,
they stay summary rows; a row waits no longer than the Transaction ID window."""

from datetime import timedelta

import pytest

from models import store as collections
from resolvers import processing
from tests.helpers import Api, make_source, moment, process_all
from tests.queries import COLLECT, DELETE_JOB_DATA, TRANSACTION, UPDATE_SUITE

HEADER = "Date\tEvar 3\tEvent 5\tPrice\ttransactionID\n"
LEADS = (
    HEADER
    + f"{moment(3, '12:00'):%m/%d/%Y}\tclosed-won\t1\t1200\tlead_100\n"
    + f"{moment(4, '12:00'):%m/%d/%Y}\tclosed-won\t1\t300\tlead_999\n"
).encode()


def lead_form(transaction_id: str = "lead_100", day: int = 5) -> list[dict]:
    """The online visit that leaves the lead: an e-mail campaign, then the form."""
    return [
        {"visitorId": "v-1", "timestamp": moment(day, "10:00").isoformat(), "trackingCode": "spring", "evars": [{"number": 1, "value": "email"}]},
        {"visitorId": "v-1", "timestamp": moment(day, "10:05").isoformat(), "evars": [{"number": 2, "value": "sofa"}], "transactionId": transaction_id},
    ]  # fmt: skip


@pytest.fixture
async def source(store, company, suite, today):
    return await make_source(store, company, suite, "GENERIC_TRANSACTION_ID", ["Evar 3", "transactionID"], ["Event 5", "Price"])


async def counts(api: Api, job_id: str) -> tuple[int, int, int]:
    job = await api.job(job_id)
    return job["linkedByTransaction"], job["summaryRows"], job["lateLinkedRows"]


async def transaction(api: Api, transaction_id: str = "lead_100") -> dict | None:
    return (await api.query(TRANSACTION, rsid="furniture", id=transaction_id))["reportSuite"]["transaction"]


async def test_rows_that_came_before_their_transaction_are_linked_when_it_is_collected(store, api, source):
    job = await api.upload_job(source, "leads.txt", LEADS)
    await process_all(store)
    assert await counts(api, job["id"]) == (0, 2, 0)  # lead_100 was not collected yet

    await api.query(COLLECT, input={"rsid": "furniture", "hits": lead_form()})

    assert await counts(api, job["id"]) == (1, 1, 1)
    assert (await transaction(api))["linkedRowCount"] == 1 and (await transaction(api))["status"] == "LINKED"
    rows = {r["line"]: r for r in await store.find_many(collections.ROWS, {})}
    assert rows[2]["link"] == "TRANSACTION" and rows[2]["visitorId"] == "v-1"
    assert rows[2]["values"] == {"evar3": "closed-won", "evar1": "email", "evar2": "sofa", "trackingCode": "spring"}
    assert rows[3]["link"] == "SUMMARY"  # lead_999 is still to come


async def test_the_file_logs_count_rows_linked_late_as_the_job_does(store, api, source):
    job = await api.upload_job(source, "leads.txt", LEADS)
    await process_all(store)
    await api.query(COLLECT, input={"rsid": "furniture", "hits": lead_form()})
    fields = "jobs(first: 5) { edges { node { linkedByTransaction summaryRows lateLinkedRows } } }"

    logs = await api.query(
        f'{{ reportSuite(rsid: "furniture") {{ {fields} dataSources(first: 5) {{ edges {{ node {{ {fields} }} }} }} }} }}'
    )

    suite = logs["reportSuite"]
    (uploaded,) = [e for e in suite["dataSources"]["edges"] if e["node"]["jobs"]["edges"]]
    in_suite_log, in_source_log = suite["jobs"]["edges"][0]["node"], uploaded["node"]["jobs"]["edges"][0]["node"]
    expected = dict(zip(["linkedByTransaction", "summaryRows", "lateLinkedRows"], await counts(api, job["id"]), strict=True))
    assert expected == {"linkedByTransaction": 1, "summaryRows": 1, "lateLinkedRows": 1}
    assert in_suite_log == in_source_log == expected


async def test_switched_off_the_rows_stay_summary_rows(store, api, source):
    updated = await api.query(UPDATE_SUITE, input={"rsid": "furniture", "lateTransactionLinking": False})
    assert updated["updateReportSuite"]["userErrors"] == []
    job = await api.upload_job(source, "leads.txt", LEADS)
    await process_all(store)

    await api.query(COLLECT, input={"rsid": "furniture", "hits": lead_form()})

    assert await counts(api, job["id"]) == (0, 2, 0)
    assert (await transaction(api))["linkedRowCount"] == 0
    assert {r["link"] for r in await store.find_many(collections.ROWS, {})} == {"SUMMARY"}


async def test_the_setting_is_on_by_default_and_reads_back(api, source):
    answer = await api.query('{ reportSuite(rsid: "furniture") { lateTransactionLinking } }')

    assert answer["reportSuite"]["lateTransactionLinking"] is True


async def test_a_row_waits_for_its_transaction_no_longer_than_the_window(store, api, source, today):
    await api.query(UPDATE_SUITE, input={"rsid": "furniture", "transactionIdWindowDays": 2})
    job = await api.upload_job(source, "leads.txt", LEADS)
    await process_all(store)

    today.now += timedelta(days=3)  # the row has waited three days; the hit comes within its own window
    await api.query(COLLECT, input={"rsid": "furniture", "hits": lead_form(day=11)})

    assert await counts(api, job["id"]) == (0, 2, 0)
    assert (await transaction(api))["linkedRowCount"] == 0


async def test_a_transaction_collected_while_a_worker_stores_its_rows_links_them_all_the_same(store, api, source, monkeypatch):
    job = await api.upload_job(source, "leads.txt", LEADS)
    real_link = processing.link_rows
    calls = 0

    async def collected_meanwhile(*args):
        nonlocal calls
        calls += 1
        batch = await real_link(*args)  # read before the transaction exists: a summary row to store
        if calls == 1:
            await api.query(COLLECT, input={"rsid": "furniture", "hits": lead_form()})  # and it finds no stored row yet
        return batch

    monkeypatch.setattr(processing, "link_rows", collected_meanwhile)
    await process_all(store)

    assert await counts(api, job["id"]) == (1, 1, 1)
    assert (await transaction(api))["linkedRowCount"] == 1


async def test_deleting_a_job_whose_rows_linked_late_unlinks_the_transaction(store, api, source):
    job = await api.upload_job(source, "leads.txt", LEADS)
    await process_all(store)
    await api.query(COLLECT, input={"rsid": "furniture", "hits": lead_form()})
    assert (await transaction(api))["linkedRowCount"] == 1

    await api.query(DELETE_JOB_DATA, input={"jobId": job["id"]})

    assert (await transaction(api))["linkedRowCount"] == 0
    assert await store.find_many(collections.ROWS, {}) == []
