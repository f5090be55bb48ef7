"""Late linking: offline rows that arrived before their online transaction are linked
when it is collected (the report-suite setting `late_transaction_linking`, on by default).

A transaction-ID row whose id is not collected yet is stored as a summary row that waits
for it for the suite's Transaction ID window (models/offline_rows.py). When a hit records
the snapshot of that id, the waiting rows get the snapshot's values and visitor, as if
they had linked when stored; the transaction's linked-row count and each job's late links
are counted again from the rows. With the setting off when the transaction is collected,
the rows stay summary rows.

Both sides look after their own write, so that neither misses the other: collection
records the snapshot, then looks for waiting rows (`link_waiting`); a worker stores its
rows, notes the ids they wait for, then looks for their snapshots (`link_stored`).

The ids rows wait for are noted under the snapshot's own key (store.WAITING), until the
last of those rows stops waiting: collection looks them up by `_id`, and reads rows only
for an id some row waits for. Most collected ids have none, and a look-up by `_id` costs
the same however many rows are stored (the embedded store scans a collection for any
other query, and pays for `$in` per document and id).
"""

from collections.abc import Iterable
from datetime import datetime

from models import store
from models.keys import snapshot_key
from models.offline_rows import OfflineRow, linked_late
from models.report_suites import ReportSuite
from models.snapshots import Snapshot
from models.store import CompanyStore
from resolvers import snapshots

NOTE_ATTEMPTS = 3  # rounds lost to other workers noting the same ids at once


async def link_waiting(scope: CompanyStore, suite: ReportSuite, recorded: list[Snapshot], now: datetime) -> None:
    """Link the rows waiting for these snapshots, just recorded by collected hits."""
    if not suite.late_transaction_linking:
        return
    by_id = {s.transaction_id: s for s in recorded if s.linkable(now)}
    if not by_id:
        return
    noted = await scope.find_many(store.WAITING, {"_id": {"$in": [snapshot_key(scope.company_id, suite.rsid, t) for t in by_id]}})
    awaited = [doc["transactionId"] for doc in noted if doc["expiresAt"] > now]
    if awaited:
        query = {"rsid": suite.rsid, "transactionId": {"$in": awaited}, "awaitsTransactionUntil": {"$gt": now}}
        waiting = [OfflineRow.from_doc(doc) for doc in await scope.find_many(store.ROWS, query)]
        await _link(scope, suite, waiting, by_id)
    if noted:  # no row waits for these any more: the rows stored from now on find the snapshot
        await scope.delete_many(store.WAITING, {"_id": {"$in": [doc["_id"] for doc in noted]}})


async def link_stored(scope: CompanyStore, suite: ReportSuite, rows: Iterable[OfflineRow], now: datetime) -> None:
    """Note the ids rows a worker just stored wait for; then link those whose transaction
    was collected meanwhile."""
    waiting = [r for r in rows if r.awaits_transaction_until is not None and r.awaits_transaction_until > now and r.transaction_id]
    if not waiting:
        return
    await _note_waiting(scope, suite.rsid, waiting)
    if not suite.late_transaction_linking:
        return
    found = await snapshots.linkable(scope, suite.rsid, [r.transaction_id for r in waiting if r.transaction_id], now)
    await _link(scope, suite, [r for r in waiting if r.transaction_id in found], found)


async def _note_waiting(scope: CompanyStore, rsid: str, rows: list[OfflineRow]) -> None:
    """Note each id these rows wait for, until the last of them stops waiting."""
    until: dict[str, datetime] = {}
    for row in rows:
        if row.transaction_id and row.awaits_transaction_until:
            until[row.transaction_id] = max(row.awaits_transaction_until, until.get(row.transaction_id, row.awaits_transaction_until))
    docs = [_waiting_doc(scope.company_id, rsid, t, at) for t, at in until.items()]
    refused = await scope.insert_many(store.WAITING, docs)
    for _ in range(NOTE_ATTEMPTS):
        if not refused:
            return
        # Noted before, by rows that stop waiting sooner: the note now lasts as long as these.
        held = await scope.find_many(store.WAITING, {"_id": {"$in": [docs[i]["_id"] for i in refused]}})
        later = [
            _waiting_doc(scope.company_id, rsid, doc["transactionId"], until[doc["transactionId"]], doc["version"] + 1)
            for doc in held
            if doc["expiresAt"] < until[doc["transactionId"]]
        ]
        moved = await scope.replace_many_versioned(store.WAITING, later)
        docs = [doc for doc in later if doc["_id"] in moved]
        refused = set(range(len(docs)))


def _waiting_doc(company_id: str, rsid: str, transaction_id: str, until: datetime, version: int = 1) -> dict[str, object]:
    return {
        "_id": snapshot_key(company_id, rsid, transaction_id),
        "companyId": company_id,
        "rsid": rsid,
        "transactionId": transaction_id,
        "expiresAt": until,
        "version": version,
    }


async def late_links(scope: CompanyStore, job_ids: list[str]) -> dict[str, int]:
    """How many rows of each of these jobs were linked late."""
    if not job_ids:
        return {}
    docs = await scope.find_many(store.LATE_LINKS, {"_id": {"$in": job_ids}})
    return {doc["_id"]: doc["rows"] for doc in docs}


async def _link(scope: CompanyStore, suite: ReportSuite, waiting: list[OfflineRow], by_id: dict[str, Snapshot]) -> None:
    if not waiting:
        return
    linked = [linked_late(row, by_id[row.transaction_id]) for row in waiting if row.transaction_id]
    await scope.set_fields(store.ROWS, {row.id: _linked_fields(row) for row in linked})
    await snapshots.count_linked_rows(scope, suite.rsid, [r.transaction_id for r in linked if r.transaction_id])
    await _count_late_links(scope, list({row.job_id for row in linked}))


def _linked_fields(row: OfflineRow) -> dict[str, object]:
    """What linking changes on a stored row; its time stays as stored (no `$set` of a datetime)."""
    return {
        "values": row.values,
        "added": sorted(row.added),
        "link": row.link.value,
        "visitorId": row.visitor_id,
        "awaitsTransactionUntil": None,
        "lateLinked": True,
    }


async def _count_late_links(scope: CompanyStore, job_ids: list[str]) -> None:
    """Count each job's late-linked rows again from the rows: exact whoever linked them."""
    counts = await scope.count_by(store.ROWS, {"jobId": {"$in": job_ids}, "lateLinked": True}, "jobId")
    await scope.set_fields(store.LATE_LINKS, {job_id: {"rows": counts.get(job_id, 0)} for job_id in job_ids}, upsert=True)
