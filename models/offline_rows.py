"""Offline rows as stored, and how a row is tied to the online data (DOMAIN.md's three kinds).

A row keeps its own values, what linking added (a transaction snapshot's values, or the
visitor's state as of the row's time), and how it was linked. Its own values win over
what linking adds. Linking only fills rows: it never changes a snapshot or a hit. A
row's `_id` is its job and line, so processing a job again never stores a row twice.

A transaction row whose id was not collected yet is stored as a summary row that waits
for it (`awaits_transaction_until`, the Transaction ID window from when it was stored):
collected within that time, the transaction links it late (resolvers/late_linking.py).
"""

from dataclasses import dataclass, replace
from datetime import datetime
from enum import Enum
from typing import Any

from models.data_sources import Integration
from models.keys import job_key
from models.snapshots import Snapshot
from models.upload_rows import ParsedRow


class Link(str, Enum):
    TRANSACTION = "TRANSACTION"  # tied to a transaction snapshot, and so to its visitor
    VISITOR = "VISITOR"  # tied to a visitor by its id, with the visitor's state at the row's time
    SUMMARY = "SUMMARY"  # its own values only


# Not frozen: one is made for every row processed, and a frozen dataclass's __init__ costs
# about fifteen times a plain one's (3.9 against 0.26 us for its fields). Treat it as a value.
@dataclass(slots=True)
class OfflineRow:
    id: str
    company_id: str
    rsid: str
    data_source_id: str
    job_id: str
    line: int
    at: datetime
    local_day: str  # the report suite's day, fixed when written (aggregation has no time zones)
    own: dict[str, str]
    added: dict[str, str]  # what linking added: dimensions the row did not set itself
    metrics: dict[str, float]
    link: Link
    transaction_id: str | None
    visitor_id: str | None  # the visitor it belongs to: its own id, or its snapshot's visitor
    awaits_transaction_until: datetime | None = None  # a summary row its transaction may still link
    late_linked: bool = False  # stored as a summary row, linked when its transaction was collected

    @property
    def values(self) -> dict[str, str]:
        """Every dimension value the row's metrics are credited to; the row's own win."""
        return self.added | self.own

    def to_doc(self) -> dict[str, Any]:
        return {
            "_id": self.id,
            "companyId": self.company_id,
            "rsid": self.rsid,
            "dataSourceId": self.data_source_id,
            "jobId": self.job_id,
            "line": self.line,
            "timestamp": self.at,
            "localDay": self.local_day,
            "values": self.values,
            "added": sorted(self.added),
            "metrics": self.metrics,
            "link": self.link.value,
            "transactionId": self.transaction_id,
            "visitorId": self.visitor_id,
            "awaitsTransactionUntil": self.awaits_transaction_until,
            "lateLinked": self.late_linked,
        }

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> "OfflineRow":
        values, added = doc["values"], set(doc["added"])
        return cls(
            id=doc["_id"],
            company_id=doc["companyId"],
            rsid=doc["rsid"],
            data_source_id=doc["dataSourceId"],
            job_id=doc["jobId"],
            line=doc["line"],
            at=doc["timestamp"],
            local_day=doc["localDay"],
            own={k: v for k, v in values.items() if k not in added},
            added={k: v for k, v in values.items() if k in added},
            metrics=doc["metrics"],
            link=Link(doc["link"]),
            transaction_id=doc["transactionId"],
            visitor_id=doc["visitorId"],
            awaits_transaction_until=doc.get("awaitsTransactionUntil"),
            late_linked=doc.get("lateLinked", False),
        )


@dataclass(frozen=True)
class Target:
    """Where rows of one job go."""

    company_id: str
    rsid: str
    data_source_id: str
    job_id: str
    integration: Integration
    visitor_column: int | None = None  # where rows carry the visitor id, for the unknown-visitor warning
    late_link_until: datetime | None = None  # how long a row with an unknown transaction id waits for it


def link(target: Target, row: ParsedRow, snapshot: Snapshot | None, visitor_values: dict[str, str] | None) -> OfflineRow:
    """The row as stored. `snapshot` is the linkable snapshot of its transaction id (None:
    unknown or expired); `visitor_values` its visitor's state as of its time (None: a
    visitor never collected). Anything that does not link makes a summary row."""
    added: dict[str, str] = {}
    kind, visitor_id, awaits = Link.SUMMARY, None, None
    if target.integration is Integration.TRANSACTION_ID and snapshot is not None:
        kind, visitor_id, added = Link.TRANSACTION, snapshot.visitor_id, snapshot.values
    elif target.integration is Integration.TRANSACTION_ID and row.transaction_id:
        awaits = target.late_link_until
    elif target.integration is Integration.VISITOR_ID and visitor_values is not None:
        kind, visitor_id, added = Link.VISITOR, row.visitor_id, visitor_values
    return OfflineRow(
        id=job_key(target.job_id, row.line),
        company_id=target.company_id,
        rsid=target.rsid,
        data_source_id=target.data_source_id,
        job_id=target.job_id,
        line=row.line,
        at=row.at,
        local_day=row.day,
        own=row.dimensions,
        added={k: v for k, v in added.items() if k not in row.dimensions},
        metrics=row.metrics,
        link=kind,
        transaction_id=row.transaction_id,
        visitor_id=visitor_id,
        awaits_transaction_until=awaits,
    )


def linked_late(row: OfflineRow, snapshot: Snapshot) -> OfflineRow:
    """A waiting summary row once its transaction is collected: the snapshot's values it
    does not set itself, and the snapshot's visitor, as if it had linked when stored."""
    added = {k: v for k, v in snapshot.values.items() if k not in row.own}
    return replace(
        row,
        added=added,
        link=Link.TRANSACTION,
        visitor_id=snapshot.visitor_id,
        awaits_transaction_until=None,
        late_linked=True,
    )
