"""Transaction snapshots: the visitor's dimension state at the hit that carried an id, and
the rules that decide which hit records one.

The graph calls a snapshot a `Transaction`: what a client sees of one transaction id is
the snapshot recorded under it (its values, visitor, window and the offline rows linked
to it). Here it is a `Snapshot`, for what it holds. It is the same thing.
"""

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from models import fields
from models.hits import AppliedHit, StoredHit
from models.keys import snapshot_key
from models.report_suites import ReportSuite


class TransactionIdResult(str, Enum):
    """What became of one transaction id a hit carried."""

    SNAPSHOT_MADE = "SNAPSHOT_MADE"
    ALREADY_RECORDED = "ALREADY_RECORDED"  # an earlier hit made it: this hit is processed as if it had none
    RECORDING_OFF = "RECORDING_OFF"
    EXPIRED = "EXPIRED"  # the hit is older than the window: a snapshot would link nothing


class TransactionStatus(str, Enum):
    LINKED = "LINKED"  # offline rows have linked to it
    UNLINKED = "UNLINKED"
    EXPIRED = "EXPIRED"  # past its window: links nothing, even before the TTL monitor removes it


@dataclass(frozen=True)
class Snapshot:
    id: str
    rsid: str
    company_id: str
    transaction_id: str
    visitor_id: str
    hit_id: str
    values: dict[str, str]
    visit_number: int
    recorded_at: datetime
    expires_at: datetime
    linked_row_count: int = 0
    version: int = 1

    def linkable(self, now: datetime) -> bool:
        """Offline rows link to a snapshot only within its window."""
        return self.expires_at > now

    def status(self, now: datetime) -> TransactionStatus:
        if not self.linkable(now):
            return TransactionStatus.EXPIRED
        return TransactionStatus.LINKED if self.linked_row_count else TransactionStatus.UNLINKED

    def to_doc(self) -> dict[str, Any]:
        return {
            "_id": self.id,
            "rsid": self.rsid,
            "companyId": self.company_id,
            "transactionId": self.transaction_id,
            "visitorId": self.visitor_id,
            "hitId": self.hit_id,
            "values": self.values,
            "visitNumber": self.visit_number,
            "recordedAt": self.recorded_at,
            "expiresAt": self.expires_at,
            "linkedRowCount": self.linked_row_count,
            "version": self.version,
        }

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> "Snapshot":
        return cls(
            id=doc["_id"],
            rsid=doc["rsid"],
            company_id=doc["companyId"],
            transaction_id=doc["transactionId"],
            visitor_id=doc["visitorId"],
            hit_id=doc["hitId"],
            values=doc["values"],
            visit_number=doc["visitNumber"],
            recorded_at=doc["recordedAt"],
            expires_at=doc["expiresAt"],
            linked_row_count=doc["linkedRowCount"],
            version=doc["version"],
        )


def take_snapshot(suite: ReportSuite, applied: AppliedHit, transaction_id: str, hit_id: str) -> Snapshot:
    """The state at `applied` under `transaction_id`: every snapshot dimension in force, no metrics."""
    at = applied.hit.at
    return Snapshot(
        id=snapshot_key(suite.company_id, suite.rsid, transaction_id),
        rsid=suite.rsid,
        company_id=suite.company_id,
        transaction_id=transaction_id,
        visitor_id=applied.hit.visitor_id,
        hit_id=hit_id,
        values={k: v for k, v in applied.in_force.items() if fields.in_snapshot(k)},
        visit_number=applied.visit_number,
        recorded_at=at,
        expires_at=at + timedelta(days=suite.transaction_id_window_days),
    )


Results = dict[int, list[tuple[str, TransactionIdResult]]]  # by hit index, in the order the hit gave its ids


def first_occurrences(suite: ReportSuite, hits: list[tuple[AppliedHit, StoredHit]], now: datetime) -> tuple[list[Snapshot], Results]:
    """The snapshots these hits would record and each id's result. Within a call the
    earliest hit (then the first sent) wins; across calls, whichever snapshot the store
    took first, which `settle` applies once the store has answered."""
    made: dict[str, Snapshot] = {}
    results: Results = defaultdict(list)
    for applied, stored in sorted(hits, key=lambda pair: (pair[0].hit.at, pair[0].hit.index)):
        for transaction_id in applied.hit.transaction_ids:
            snapshot = take_snapshot(suite, applied, transaction_id, stored.id)
            result = _result(suite, snapshot, made, now)
            if result is TransactionIdResult.SNAPSHOT_MADE:
                made[transaction_id] = snapshot
            results[applied.hit.index].append((transaction_id, result))
    return list(made.values()), results


def _result(suite: ReportSuite, snapshot: Snapshot, made: dict[str, Snapshot], now: datetime) -> TransactionIdResult:
    if not suite.recording.enabled:
        return TransactionIdResult.RECORDING_OFF
    if snapshot.expires_at <= now:
        return TransactionIdResult.EXPIRED
    if snapshot.transaction_id in made:
        return TransactionIdResult.ALREADY_RECORDED
    return TransactionIdResult.SNAPSHOT_MADE


def settle(results: Results, recorded: set[str]) -> Results:
    """Results once the store has answered: an id another hit holds was already recorded."""
    return {
        index: [
            (tid, TransactionIdResult.ALREADY_RECORDED if result is TransactionIdResult.SNAPSHOT_MADE and tid not in recorded else result)
            for tid, result in pairs
        ]
        for index, pairs in results.items()
    }


def resolve_taken(wanted: Snapshot, held: Snapshot, now: datetime) -> tuple[Snapshot | None, Snapshot | None]:
    """What to make of a snapshot the store already holds under a wanted id: (recorded, to renew).

    The same hit sent again finds the snapshot it made the first time. An expired one that
    the TTL monitor has not removed yet gives way to the new one (written over the version
    read). Any other is held by an earlier hit: first occurrence wins, nothing changes."""
    if held.hit_id == wanted.hit_id:
        return held, None
    if not held.linkable(now):
        return None, replace(wanted, version=held.version + 1)
    return None, None


def status_query(status: TransactionStatus, now: datetime) -> dict[str, Any]:
    """The store filter for snapshots in `status` at `now`."""
    if status is TransactionStatus.EXPIRED:
        return {"expiresAt": {"$lte": now}}
    count = {"$gt": 0} if status is TransactionStatus.LINKED else 0
    return {"expiresAt": {"$gt": now}, "linkedRowCount": count}
