"""Online data in the graph: visitors, their hits, and transaction snapshots."""

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import relay

from graph.context import Info
from graph.pagination import DEFAULT_PAGE_SIZE, connection, decode_cursor, page_size
from models import clock, keys, profiles
from models import hits as hit_model
from models import snapshots as snapshot_model
from resolvers import visitors

if TYPE_CHECKING:
    from graph.offline_rows import OfflineRow, VisitorActivityConnection

TransactionStatus = strawberry.enum(snapshot_model.TransactionStatus, name="TransactionStatus")


@strawberry.type
class DimensionValue:
    dimension: str = strawberry.field(description="evar1..evar250, pageName, trackingCode, marketingChannel, ...")
    value: str


@strawberry.type
class EventValue:
    event: str = strawberry.field(description="event1..event1000, orders, revenue, units, cartAdds, ...")
    value: float


@strawberry.type
class ProfileValue:
    dimension: str
    value: str
    set_at: datetime
    visit_number: int = strawberry.field(description="The visit in which the value was set.")


def dimension_values(values: dict[str, str]) -> list[DimensionValue]:
    return [DimensionValue(dimension=k, value=v) for k, v in sorted(values.items())]


def event_values(events: dict[str, float]) -> list[EventValue]:
    return [EventValue(event=k, value=v) for k, v in sorted(events.items())]


@strawberry.type
class Hit(relay.Node):
    node_id: relay.NodeID[str]
    visitor_id: str
    timestamp: datetime
    visit_number: int
    # Built when asked for: a page of a hundred visitors' hits need not build thousands of values.
    values: list[DimensionValue] = strawberry.field(
        resolver=lambda root: dimension_values(root.model.values),
        description="The values in force at this hit: its events are credited to them.",
    )
    events: list[EventValue] = strawberry.field(resolver=lambda root: event_values(root.model.events))
    transaction_id: str | None = strawberry.field(description="As collected; only a first occurrence made a snapshot.")
    model: strawberry.Private[hit_model.StoredHit]

    @classmethod
    def from_model(cls, hit: hit_model.StoredHit) -> "Hit":
        return cls(
            node_id=hit.id,
            visitor_id=hit.visitor_id,
            timestamp=hit.at,
            visit_number=hit.visit_number,
            transaction_id=hit.transaction_id,
            model=hit,
        )

    @classmethod
    async def resolve_nodes(cls, *, info: Info, node_ids: Iterable[str], required: bool = False):
        found = await visitors.get_hits(info.context.store, info.context.caller, list(node_ids))
        return [cls.from_model(h) if h else None for h in found]


@strawberry.type
class Transaction(relay.Node):
    node_id: relay.NodeID[str]
    transaction_id: str
    snapshot: list[DimensionValue] = strawberry.field(description="The dimension state at the hit; no metrics.")
    visit_number: int
    recorded_at: datetime
    expires_at: datetime
    status: TransactionStatus
    linked_row_count: int
    model: strawberry.Private[snapshot_model.Snapshot]

    @strawberry.field
    async def visitor(self, info: Info) -> "Visitor | None":
        state = await info.context.visitors.load(keys.visitor_key(self.model.company_id, self.model.rsid, self.model.visitor_id))
        return Visitor.from_model(state) if state else None

    @strawberry.field(description="The offline rows linked to it, in the order they were uploaded.")
    async def linked_rows(
        self, info: Info, first: int = DEFAULT_PAGE_SIZE, after: str | None = None
    ) -> relay.Connection[Annotated["OfflineRow", strawberry.lazy("graph.offline_rows")]]:
        from graph.offline_rows import linked_rows_connection

        return await linked_rows_connection(info, self.model, first, after)

    @classmethod
    def from_model(cls, snapshot: snapshot_model.Snapshot) -> "Transaction":
        return cls(
            node_id=snapshot.id,
            transaction_id=snapshot.transaction_id,
            snapshot=dimension_values(snapshot.values),
            visit_number=snapshot.visit_number,
            recorded_at=snapshot.recorded_at,
            expires_at=snapshot.expires_at,
            status=snapshot.status(clock.now()),
            linked_row_count=snapshot.linked_row_count,
            model=snapshot,
        )

    @classmethod
    async def resolve_nodes(cls, *, info: Info, node_ids: Iterable[str], required: bool = False):
        found = await visitors.get_transactions(info.context.store, info.context.caller, list(node_ids))
        return [cls.from_model(s) if s else None for s in found]


@strawberry.type
class Visitor(relay.Node):
    node_id: relay.NodeID[str]
    visitor_id: str
    visit_count: int
    first_seen: datetime
    last_seen: datetime
    model: strawberry.Private[profiles.VisitorState]

    @strawberry.field(description="Persisted values as of the visitor's last hit; expirations since then apply at the next hit.")
    def profile(self) -> list[ProfileValue]:
        return [
            ProfileValue(dimension=k, value=p.value, set_at=p.set_at, visit_number=p.visit) for k, p in sorted(self.model.values.items())
        ]

    @strawberry.field(description="Newest first.")
    async def hits(self, info: Info, first: int = DEFAULT_PAGE_SIZE, after: str | None = None) -> relay.Connection[Hit]:
        state = self.model
        page = visitors.HitPage(state.rsid, state.visitor_id, state.seq, decode_cursor(after, int), page_size(first))
        items, more = await info.context.hits.load(page)
        return connection(items, more, lambda h: h.seq, Hit.from_model)

    @strawberry.field
    async def transactions(self, info: Info, first: int = DEFAULT_PAGE_SIZE, after: str | None = None) -> relay.Connection[Transaction]:
        state = self.model
        page = visitors.TransactionsPage(state.rsid, state.visitor_id, decode_cursor(after), page_size(first))
        items, more = await info.context.visitor_transactions.load(page)  # the transactions of all the visitors of a page at once
        return connection(items, more, lambda s: s.transaction_id, Transaction.from_model)

    @strawberry.field(description="Its hits and the offline rows tied to it (by transaction or visitor id), oldest first.")
    async def activity(
        self, info: Info, first: int = DEFAULT_PAGE_SIZE, after: str | None = None
    ) -> Annotated["VisitorActivityConnection", strawberry.lazy("graph.offline_rows")]:
        from graph.offline_rows import activity_connection

        return await activity_connection(info, self.model, first, after)

    @classmethod
    def from_model(cls, state: profiles.VisitorState) -> "Visitor":
        assert state.first_seen and state.last_seen, "a stored visitor has hits"
        return cls(
            node_id=state.id,
            visitor_id=state.visitor_id,
            visit_count=state.visit_count,
            first_seen=state.first_seen,
            last_seen=state.last_seen,
            model=state,
        )

    @classmethod
    async def resolve_nodes(cls, *, info: Info, node_ids: Iterable[str], required: bool = False):
        found = await info.context.visitors.load_many(list(node_ids))
        return [cls.from_model(v) if v else None for v in found]
