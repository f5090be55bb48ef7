"""Online hit collection in the graph: the hit input, per-hit outcomes, the mutation."""

import strawberry

from graph.context import Info
from graph.errors import UserError, attempt
from graph.visitors import Transaction
from models.hits import HitIn
from resolvers import collection

TransactionIdResult = strawberry.enum(collection.TransactionIdResult, name="TransactionIdResult")


@strawberry.input
class EvarValueInput:
    number: int = strawberry.field(description="1 to 250.")
    value: str


@strawberry.input
class EventValueInput:
    number: int = strawberry.field(description="1 to 1000.")
    value: float = 1


@strawberry.input(description="One online hit. An empty value sets nothing; a hit sent again is recognised by its visitor, time and content.")
class HitInput:
    visitor_id: str = strawberry.field(description="At most 100 bytes; placeholders such as '0' or 'NULL' are refused.")
    timestamp: str = strawberry.field(description="ISO-8601 with a UTC offset, e.g. 2026-03-02T10:05:00-05:00.")
    page_name: str | None = None
    evars: list[EvarValueInput] = strawberry.field(default_factory=list)
    events: list[EventValueInput] = strawberry.field(default_factory=list)
    orders: float | None = None
    revenue: float | None = None
    units: float | None = None
    cart_adds: float | None = None
    cart_removes: float | None = None
    cart_views: float | None = None
    cart_opens: float | None = None
    checkouts: float | None = None
    products: str | None = None
    tracking_code: str | None = None
    marketing_channel: str | None = None
    marketing_channel_detail: str | None = None
    category: str | None = None
    zip: str | None = None
    referrer: str | None = None
    transaction_id: str | None = strawberry.field(
        default=None, description="One to ten ids, comma separated, at most 100 bytes in all."
    )

    def to_model(self) -> HitIn:
        built_in = {
            "orders": self.orders,
            "revenue": self.revenue,
            "units": self.units,
            "cartAdds": self.cart_adds,
            "cartRemoves": self.cart_removes,
            "cartViews": self.cart_views,
            "cartOpens": self.cart_opens,
            "checkouts": self.checkouts,
        }
        dimensions = {
            "pageName": self.page_name,
            "products": self.products,
            "trackingCode": self.tracking_code,
            "marketingChannel": self.marketing_channel,
            "marketingChannelDetail": self.marketing_channel_detail,
            "category": self.category,
            "zip": self.zip,
            "referrer": self.referrer,
        }
        events = [(f"event{e.number}", e.value) for e in self.events] + [(k, v) for k, v in built_in.items() if v is not None]
        return HitIn(
            visitor_id=self.visitor_id,
            timestamp=self.timestamp,
            evars=tuple((e.number, e.value) for e in self.evars),
            events=tuple(events),
            dimensions={k: v for k, v in dimensions.items() if v is not None},
            transaction_id=self.transaction_id,
        )


@strawberry.input
class CollectHitsInput:
    rsid: str
    hits: list[HitInput] = strawberry.field(description="At most 1,000.")


@strawberry.type
class TransactionIdOutcome:
    transaction_id: str
    result: TransactionIdResult


@strawberry.type
class HitOutcome:
    index: int = strawberry.field(description="The hit's position in the input.")
    collected: bool
    already_collected: bool = strawberry.field(description="Sent before and counted then; not counted again.")
    visit_number: int | None
    errors: list[UserError] = strawberry.field(description="Why the hit was refused; empty when collected.")
    transaction_ids: list[TransactionIdOutcome]

    @classmethod
    def from_model(cls, outcome: collection.HitOutcome) -> "HitOutcome":
        return cls(
            index=outcome.index,
            collected=outcome.collected,
            already_collected=outcome.already_collected,
            visit_number=outcome.visit_number,
            errors=[UserError(field=p.field, code=p.code, message=p.message) for p in outcome.problems],
            transaction_ids=[TransactionIdOutcome(transaction_id=t, result=r) for t, r in outcome.transaction_ids],
        )


@strawberry.type
class CollectHitsPayload:
    collected_count: int
    refused_count: int
    outcomes: list[HitOutcome]
    snapshots: list[Transaction] = strawberry.field(description="The transaction snapshots these hits made.")
    user_errors: list[UserError]


@strawberry.type
class CollectionMutations:
    @strawberry.mutation(description="Collect online hits. UPLOADER or ADMIN.")
    async def collect_hits(self, info: Info, input: CollectHitsInput) -> CollectHitsPayload:
        ctx = info.context
        hits = [hit.to_model() for hit in input.hits]
        result, errors = await attempt(collection.collect_hits(ctx.store, ctx.caller, input.rsid, hits))
        outcomes = [HitOutcome.from_model(o) for o in result.outcomes] if result else []
        return CollectHitsPayload(
            collected_count=sum(o.collected for o in outcomes),
            refused_count=sum(not o.collected for o in outcomes),
            outcomes=outcomes,
            snapshots=[Transaction.from_model(s) for s in result.snapshots] if result else [],
            user_errors=errors,
        )
