"""Transaction snapshots in the store: recording them for hits, finding them for offline rows.

Hit collection and offline linking both come here, so the rules of models/snapshots.py
(first occurrence wins, the window, renewal of an expired id) are applied one way.
"""

from datetime import datetime

from models import store
from models.hits import AppliedHit, StoredHit
from models.keys import snapshot_key
from models.offline_rows import Link
from models.report_suites import ReportSuite
from models.snapshots import Results, Snapshot, first_occurrences, resolve_taken, settle
from models.store import CompanyStore


async def record(
    scope: CompanyStore, suite: ReportSuite, hits: list[tuple[AppliedHit, StoredHit]], now: datetime
) -> tuple[list[Snapshot], Results]:
    """Record the snapshots these stored hits make; returns those recorded and each hit's
    result per transaction id. A recorded snapshot never changes."""
    wanted, results = first_occurrences(suite, hits, now)
    if not wanted:
        return [], results
    recorded = await _insert(scope, wanted, now)
    return recorded, settle(results, {s.transaction_id for s in recorded})


async def _insert(scope: CompanyStore, snapshots: list[Snapshot], now: datetime) -> list[Snapshot]:
    """Insert; return those recorded, leaving out the ids that another hit holds.
    The unique `_id` index decides which hit records an id."""
    refused = await scope.insert_many(store.SNAPSHOTS, [s.to_doc() for s in snapshots])
    recorded = [s for i, s in enumerate(snapshots) if i not in refused]
    if not refused:
        return recorded
    taken = {snapshots[i].id: snapshots[i] for i in refused}
    held = await scope.find_many(store.SNAPSHOTS, {"_id": {"$in": list(taken)}})
    renewals = []
    for doc in held:
        kept, renewal = resolve_taken(taken[doc["_id"]], Snapshot.from_doc(doc), now)
        recorded += [kept] if kept else []
        renewals += [renewal] if renewal else []
    if not renewals:
        return recorded
    conflicts = await scope.replace_many_versioned(store.SNAPSHOTS, [s.to_doc() for s in renewals])
    return recorded + [s for s in renewals if s.id not in conflicts]


async def linkable(scope: CompanyStore, rsid: str, transaction_ids: list[str], now: datetime) -> dict[str, Snapshot]:
    """The snapshots offline rows with these ids link to, by transaction id: recorded and
    within their window. An id missing from the answer makes a summary row."""
    keys = [snapshot_key(scope.company_id, rsid, t) for t in dict.fromkeys(transaction_ids)]
    docs = await scope.find_many(store.SNAPSHOTS, {"_id": {"$in": keys}})
    found = (Snapshot.from_doc(doc) for doc in docs)
    return {s.transaction_id: s for s in found if s.linkable(now)}


async def count_linked_rows(scope: CompanyStore, rsid: str, transaction_ids: list[str]) -> None:
    """Count again the offline rows linked to these transactions and keep the count on
    each snapshot. Counted from the rows, not added to, so that writing a batch again
    (after a worker died) or deleting a job leaves every count exact."""
    wanted = list(dict.fromkeys(transaction_ids))
    if not wanted:
        return
    counts = await scope.count_by(
        store.ROWS, {"rsid": rsid, "transactionId": {"$in": wanted}, "link": Link.TRANSACTION.value}, "transactionId"
    )
    await scope.set_fields(store.SNAPSHOTS, {snapshot_key(scope.company_id, rsid, t): {"linkedRowCount": counts.get(t, 0)} for t in wanted})
