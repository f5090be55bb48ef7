"""Online hit collection in the graph: the hit input, per-hit outcomes, the mutation."""

from collections.abc import Mapping
from typing import Any

import strawberry
from strawberry.types.arguments import InputContext

from graph.context import Info
from graph.errors import UserError, attempt
from graph.visitors import Transaction
from models import fields, snapshots
from models.hits import MAX_IDS_PER_HIT, HitIn
from resolvers import collection

TransactionIdResult = strawberry.enum(snapshots.TransactionIdResult, name="TransactionIdResult")


@strawberry.input
class EvarValueInput:
    number: int = strawberry.field(description=f"1 to {fields.EVARS}.")
    value: str


@strawberry.input
class EventValueInput:
    number: int = strawberry.field(description=f"1 to {fields.EVENTS}.")
    value: float = 1


def _hit_from_input(cls: type, value: Mapping[str, Any], context: InputContext) -> HitIn:
    """A HitInput value as the models take it, read straight from graphql-core's coerced
    input (every type and default already applied): the field catalogue's keys are the
    GraphQL field names. Strawberry's own conversion would build an input object and a
    list of eVar and event objects per hit first, which costs more than collecting it."""
    metrics = tuple((f.key, value[f.key]) for f in fields.HIT_METRICS if value.get(f.key) is not None)
    return HitIn(
        visitor_id=value["visitorId"],
        timestamp=value["timestamp"],
        evars=tuple((e["number"], e["value"]) for e in value["evars"]),
        events=tuple((f"event{e['number']}", e["value"]) for e in value["events"]) + metrics,
        dimensions={f.key: value[f.key] for f in fields.HIT_DIMENSIONS if value.get(f.key) is not None},
        transaction_id=value.get("transactionId"),
    )


def _hit_input() -> type:
    """HitInput: one optional field per named dimension and metric of the field catalogue."""
    annotations: dict[str, object] = {"visitorId": str, "timestamp": str}
    namespace: dict[str, object] = {
        "visitorId": strawberry.field(description=f"At most {fields.MAX_ID_BYTES} bytes; placeholders such as '0' or 'NULL' are refused."),
        "timestamp": strawberry.field(description="ISO-8601 with a UTC offset, e.g. 2026-03-02T10:05:00-05:00."),
    }
    for f in fields.HIT_FIELDS:
        annotations[f.key] = (str if f.kind is fields.Kind.DIMENSION else float) | None
        namespace[f.key] = None
        if f.key == "pageName":  # where the schema has always listed the numbered lists
            annotations |= {"evars": list[EvarValueInput], "events": list[EventValueInput]}
            namespace |= {"evars": strawberry.field(default_factory=list), "events": strawberry.field(default_factory=list)}
    annotations["transactionId"] = str | None
    namespace["transactionId"] = strawberry.field(
        default=None, description=f"One to {MAX_IDS_PER_HIT} ids, comma separated, at most {fields.MAX_ID_BYTES} bytes in all."
    )
    namespace["__annotations__"] = annotations
    description = "One online hit. An empty value sets nothing; a hit sent again is recognised by its visitor, time and content."
    hit_input = strawberry.input(type("HitInput", (), namespace), description=description)
    # Strawberry's hook for input types that build their own value (strawberry.pydantic's use it).
    hit_input.__strawberry_definition__.from_input = _hit_from_input  # type: ignore[attr-defined]
    return hit_input


HitInput = _hit_input()


@strawberry.input
class CollectHitsInput:
    rsid: str
    hits: list[HitInput] = strawberry.field(description=f"At most {collection.MAX_HITS_PER_CALL:,}.")


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
        hits: list[HitIn] = list(input.hits)  # HitInput's values are HitIns (`_hit_from_input`)
        result, errors = await attempt(collection.collect_hits(ctx.store, ctx.caller, input.rsid, hits))
        outcomes = [HitOutcome.from_model(o) for o in result.outcomes] if result else []
        return CollectHitsPayload(
            collected_count=sum(o.collected for o in outcomes),
            refused_count=sum(not o.collected for o in outcomes),
            outcomes=outcomes,
            snapshots=[Transaction.from_model(s) for s in result.snapshots] if result else [],
            user_errors=errors,
        )
