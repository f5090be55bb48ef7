"""Hits as a benchmark sends them over HTTP (HitInput's JSON) and hands them to the use-case."""

from models.hits import HitIn


def as_hit(values: dict) -> HitIn:
    """The HitIn of a HitInput's JSON values (visitorId, timestamp, evars, events, pageName, transactionId)."""
    return HitIn(
        visitor_id=values["visitorId"],
        timestamp=values["timestamp"],
        evars=tuple((e["number"], e["value"]) for e in values["evars"]),
        events=tuple((f"event{e['number']}", e["value"]) for e in values.get("events", ())),
        dimensions={"pageName": values["pageName"]},
        transaction_id=values["transactionId"],
    )
