"""Visitor states in the store: the current ones for collection, and a visitor's state as
of a time for offline rows that carry a visitor id (rules in models/profiles.py)."""

import asyncio
from dataclasses import replace
from datetime import datetime

from models import store
from models.hits import StoredHit
from models.keys import visitor_key
from models.profiles import WITHOUT_HITS, VisitorState, carried_docs, needs_history, values_as_of
from models.report_suites import ReportSuite
from models.store import CompanyStore, Doc


async def load_states(scope: CompanyStore, suite: ReportSuite, visitor_ids: list[str]) -> dict[str, VisitorState]:
    """Each visitor's stored state, or a new one for a visitor not seen yet. The hit
    documents a state carries are left out (`carried` counts them): `carried_hits` reads
    them in the rare case that they are not all stored."""
    docs = await scope.find_many(store.VISITORS, {"_id": {"$in": _keys(scope, suite.rsid, visitor_ids)}}, projection=WITHOUT_HITS)
    known = {doc["visitorId"]: VisitorState.from_doc(doc) for doc in docs}
    # Written before states counted what they carry: read those whole.
    uncounted = [doc["visitorId"] for doc in docs if "unwrittenCount" not in doc]
    if uncounted:
        known |= {v: replace(s, carried=len(s.unwritten)) for v, s in (await _stored_states(scope, suite.rsid, uncounted, None)).items()}
    return {v: known.get(v) or VisitorState(suite.rsid, suite.company_id, v) for v in visitor_ids}


async def carried_hits(scope: CompanyStore, rsid: str, visitor_ids: list[str]) -> list[Doc]:
    """The hit documents these visitors' stored states carry."""
    docs = await scope.find_many(store.VISITORS, {"_id": {"$in": _keys(scope, rsid, visitor_ids)}}, projection={"unwritten": 1})
    return [hit for doc in docs for hit in carried_docs(doc)]


async def states_as_of(
    scope: CompanyStore, suite: ReportSuite, wanted: list[tuple[str, datetime]]
) -> dict[tuple[str, datetime], dict[str, str] | None]:
    """For each (visitor id, time): the visitor's values as of that time, or None for a
    visitor never collected. One read of the visitors; a hit is read only for a time that
    falls between a visitor's first and last hits."""
    states = await _stored_states(scope, suite.rsid, list(dict.fromkeys(v for v, _ in wanted)))
    pairs = list(dict.fromkeys(wanted))
    history = [(v, at) for v, at in pairs if v in states and needs_history(states[v], at)]
    last_hits = dict(zip(history, await asyncio.gather(*(_last_hit(scope, suite.rsid, v, at) for v, at in history)), strict=False))
    return {(v, at): values_as_of(suite, states[v], at, last_hits.get((v, at))) if v in states else None for v, at in pairs}


async def _stored_states(
    scope: CompanyStore, rsid: str, visitor_ids: list[str], projection: Doc | None = WITHOUT_HITS
) -> dict[str, VisitorState]:
    docs = await scope.find_many(store.VISITORS, {"_id": {"$in": _keys(scope, rsid, visitor_ids)}}, projection=projection)
    return {doc["visitorId"]: VisitorState.from_doc(doc) for doc in docs}


def _keys(scope: CompanyStore, rsid: str, visitor_ids: list[str]) -> list[str]:
    return [visitor_key(scope.company_id, rsid, v) for v in visitor_ids]


async def _last_hit(scope: CompanyStore, rsid: str, visitor_id: str, at: datetime) -> StoredHit | None:
    query = {"rsid": rsid, "visitorId": visitor_id, "timestamp": {"$lte": at}}
    docs, _ = await scope.find_page(store.HITS, query, "seq", True, None, 1)
    return StoredHit.from_doc(docs[0]) if docs else None
