"""Transaction snapshots: the visitor's dimension state at the hit that carried an id."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from models import fields
from models.hits import AppliedHit
from models.keys import snapshot_key



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

    def status(self, now: datetime) -> TransactionStatus:
        if self.expires_at <= now:
            return TransactionStatus.EXPIRED
        return TransactionStatus.LINKED if self.linked_row_count else TransactionStatus.UNLINKED

    def to_doc(self) -> dict:
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
    def from_doc(cls, doc: dict) -> "Snapshot":
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


def take_snapshot(applied: AppliedHit, transaction_id: str, hit_id: str, company_id: str, rsid: str, window_days: int) -> Snapshot:
    at = applied.hit.at
    return Snapshot(
        id=snapshot_key(rsid, transaction_id),
        rsid=rsid,
        company_id=company_id,
        transaction_id=transaction_id,
        visitor_id=applied.hit.visitor_id,
        hit_id=hit_id,
        values={k: v for k, v in applied.in_force.items() if fields.in_snapshot(k)},
        visit_number=applied.visit_number,
        recorded_at=at,
        expires_at=at + timedelta(days=window_days),
    )


def status_query(status: TransactionStatus, now: datetime) -> dict:
    """The store filter for snapshots in `status` at `now`."""
    if status is TransactionStatus.EXPIRED:
        return {"expiresAt": {"$lte": now}}
    count = {"$gt": 0} if status is TransactionStatus.LINKED else 0
    return {"expiresAt": {"$gt": now}, "linkedRowCount": count}
