"""Offline rows in the graph: a stored row (where it came from, what it is credited to), the
rows linked to a transaction, and a visitor's activity, online and offline in time order."""

from collections.abc import Iterable
from datetime import date, datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import relay

from graph.context import Info
from graph.jobs import Job
from graph.pagination import connection, decode_cursor, encode_cursor, page_info, page_size
from graph.visitors import DimensionValue, EventValue, Hit, dimension_values, event_values
from models import activity as activity_model
from models import offline_rows as row_model
from models.hits import StoredHit
from models.profiles import VisitorState
from models.snapshots import Snapshot
from resolvers import offline_rows

if TYPE_CHECKING:
    from graph.data_sources import DataSource

RowLink = strawberry.enum(
    row_model.Link,
    name="OfflineRowLink",
    description="TRANSACTION: linked to a transaction snapshot; VISITOR: to a visitor by its id; SUMMARY: its own values only.",
)


@strawberry.type(description="An offline row as stored: from which data source and job, and what its metrics are credited to.")
class OfflineRow(relay.Node):
    node_id: relay.NodeID[str]
    timestamp: datetime
    day: date = strawberry.field(description="The report suite's day of the row.")
    line: int = strawberry.field(description="Its line in the job's file (or row of a rows job).")
    link: RowLink
    transaction_id: str | None
    visitor_id: str | None = strawberry.field(description="The visitor it belongs to: its own id, or its transaction's visitor.")
    values: list[DimensionValue] = strawberry.field(description="Every value its metrics are credited to: its own and what linking added.")
    linked_values: list[DimensionValue] = strawberry.field(description="The values linking added (the row's own win over them).")
    metrics: list[EventValue]
    model: strawberry.Private[row_model.OfflineRow]

    @strawberry.field
    async def data_source(self, info: Info) -> Annotated["DataSource", strawberry.lazy("graph.data_sources")] | None:
        from graph.data_sources import DataSource

        source = await info.context.data_sources.load(self.model.data_source_id)
        return DataSource.from_model(source) if source else None

    @strawberry.field
    async def job(self, info: Info) -> Job | None:
        job = await info.context.jobs.load(self.model.job_id)
        return Job.from_model(job) if job else None

    @classmethod
    def from_model(cls, row: row_model.OfflineRow) -> "OfflineRow":
        return cls(
            node_id=row.id,
            timestamp=row.at,
            day=date.fromisoformat(row.local_day),
            line=row.line,
            link=row.link,
            transaction_id=row.transaction_id,
            visitor_id=row.visitor_id,
            values=dimension_values(row.values),
            linked_values=dimension_values(row.added),
            metrics=event_values(row.metrics),
            model=row,
        )

    @classmethod
    async def resolve_nodes(cls, *, info: Info, node_ids: Iterable[str], required: bool = False):
        found = await offline_rows.get_rows(info.context.store, info.context.caller, list(node_ids))
        return [cls.from_model(r) if r else None for r in found]


class ActivitySourceValue(str, Enum):
    ONLINE = "ONLINE"
    OFFLINE = "OFFLINE"


ActivitySource = strawberry.enum(ActivitySourceValue, name="ActivitySource")


@strawberry.type(description="One thing a visitor did: an online hit, or an offline row tied to it.")
class VisitorActivity:
    timestamp: datetime
    source: ActivitySource = strawberry.field(description="ONLINE: `hit` is set; OFFLINE: `offlineRow` is, with its data source and job.")
    hit: Hit | None
    offline_row: OfflineRow | None

    @classmethod
    def of(cls, item: activity_model.Activity) -> "VisitorActivity":
        if isinstance(item, StoredHit):
            return cls(timestamp=item.at, source=ActivitySourceValue.ONLINE, hit=Hit.from_model(item), offline_row=None)
        return cls(timestamp=item.at, source=ActivitySourceValue.OFFLINE, hit=None, offline_row=OfflineRow.from_model(item))


@strawberry.type
class VisitorActivityEdge:
    cursor: str
    node: VisitorActivity


@strawberry.type
class VisitorActivityConnection:
    edges: list[VisitorActivityEdge]
    page_info: relay.PageInfo


async def activity_connection(info: Info, visitor: VisitorState, first: int, after: str | None) -> VisitorActivityConnection:
    """A page of the visitor's activity, through the request's DataLoader (one round trip
    for all the visitors of a page)."""
    position = None if after is None else activity_model.Position.from_cursor(decode_cursor(after, list))
    page = offline_rows.ActivityPage(visitor.rsid, visitor.visitor_id, visitor.seq, position, page_size(first))
    items, more = await info.context.activity.load(page)
    edges = [VisitorActivityEdge(cursor=encode_cursor(activity_model.position(i).to_cursor()), node=VisitorActivity.of(i)) for i in items]
    return VisitorActivityConnection(edges=edges, page_info=page_info(edges, more))


async def linked_rows_connection(info: Info, snapshot: Snapshot, first: int, after: str | None) -> relay.Connection[OfflineRow]:
    """The rows linked to a transaction, in job and line order, through the request's DataLoader."""
    page = offline_rows.LinkedRowsPage(snapshot.rsid, snapshot.transaction_id, decode_cursor(after), page_size(first))
    items, more = await info.context.linked_rows.load(page)
    return connection(items, more, lambda r: r.id, OfflineRow.from_model)
