"""Visitor state: visits, and dimension values that persist across hits.

Each hit is applied to the state left by the one before it. The values in force at a
hit (the ones its events are credited to) are returned with it and stored on the hit,
so reports and offline rows never replay history.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeGuard

from models import fields
from models.fields import Persistence
from models.hits import DIGEST_LENGTH, AppliedHit, CheckedHit, StoredHit
from models.keys import hit_key, visitor_key
from models.report_suites import Allocation, EvarSetting, Expiration, ReportSuite
from models.store import pack, unpack

# How the named dimensions persist, as the field catalogue says: tracking and channel
# values last the visit, most recent wins; the referrer is the one the visit came from.
_PERSISTENCE_SETTINGS = {
    Persistence.VISIT: EvarSetting(0),
    Persistence.VISIT_ORIGINAL: EvarSetting(0, allocation=Allocation.ORIGINAL),
}


RECENT_HITS = 1000  # digests kept to recognise a resent hit: a whole call's worth
# A read of states for anything but collection leaves out the hit documents they carry.
WITHOUT_HITS = {"unwritten": 0}


@dataclass(frozen=True)
class Persisted:
    value: str
    set_at: datetime
    visit: int


@dataclass(frozen=True)
class VisitorState:
    rsid: str
    company_id: str
    visitor_id: str
    seq: int = 0  # hits collected so far
    visit_count: int = 0
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    values: dict[str, Persisted] = field(default_factory=dict)
    recent: dict[str, int] = field(default_factory=dict)  # digest -> seq of the latest hits applied, oldest first
    # The documents of the hits the round that wrote this state applied: they may not be
    # stored yet (resolvers/collection.py). `carried` says how many the stored state holds,
    # its latest seqs, also when a read left the documents out.
    unwritten: tuple[dict[str, Any], ...] = ()
    carried: int = 0
    version: int = 0  # 0: not stored yet

    @property
    def id(self) -> str:
        return visitor_key(self.company_id, self.rsid, self.visitor_id)

    @property
    def carried_ids(self) -> list[str]:
        """The `_id`s of the hit documents the stored state carries."""
        return [hit_key(self.company_id, self.rsid, self.visitor_id, seq) for seq in range(self.seq - self.carried + 1, self.seq + 1)]

    def seq_of(self, digest: str) -> int | None:
        """The seq of a recent hit with this digest: the hit was applied already."""
        return self.recent.get(digest)

    def to_doc(self) -> dict[str, Any]:
        return {
            "_id": self.id,
            "rsid": self.rsid,
            "companyId": self.company_id,
            "visitorId": self.visitor_id,
            "seq": self.seq,
            "visitCount": self.visit_count,
            "firstSeen": self.first_seen,
            "lastSeen": self.last_seen,
            "values": {k: {"value": p.value, "setAt": p.set_at, "visit": p.visit} for k, p in self.values.items()},
            # One string of the digests, oldest first: their seqs are the latest ones, up to `seq`.
            "recent": "".join(self.recent),
            "unwritten": pack(list(self.unwritten)),
            "unwrittenCount": len(self.unwritten),
            "version": self.version,
        }

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> "VisitorState":
        return cls(
            rsid=doc["rsid"],
            company_id=doc["companyId"],
            visitor_id=doc["visitorId"],
            seq=doc["seq"],
            visit_count=doc["visitCount"],
            first_seen=doc["firstSeen"],
            last_seen=doc["lastSeen"],
            values={k: Persisted(p["value"], p["setAt"], p["visit"]) for k, p in doc["values"].items()},
            recent=_recent(doc["recent"], doc["seq"]),
            unwritten=tuple(carried_docs(doc)),
            carried=doc.get("unwrittenCount", len(doc.get("unwritten", ()))),
            version=doc["version"],
        )


def carried_docs(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The hit documents a stored state carries; none when a read left them out. (States
    written before the documents were packed hold them as a list.)"""
    carried = doc.get("unwritten", ())
    return unpack(carried) if isinstance(carried, str) else list(carried)


def apply_hit(suite: ReportSuite, state: VisitorState, hit: CheckedHit) -> tuple[VisitorState, AppliedHit]:
    """The state after `hit`, and what was in force at it. The hit is not older than the state."""
    new_visit = state.last_seen is None or hit.at - state.last_seen >= timedelta(minutes=suite.visit_timeout_minutes)
    visit = state.visit_count + 1 if new_visit else state.visit_count
    values = {k: p for k, p in state.values.items() if _still_valid(_setting(suite, k), p, hit.at, visit)}
    hit_only = {}
    for key, value in hit.values.items():
        setting = _setting(suite, key)
        if not _persists(setting):
            hit_only[key] = value
            continue
        if setting.allocation is Allocation.MOST_RECENT or key not in values:
            values[key] = Persisted(value, hit.at, visit)
    seq = state.seq + 1
    after = VisitorState(  # not dataclasses.replace: this runs for every hit, and replace costs more than the rest
        rsid=state.rsid,
        company_id=state.company_id,
        visitor_id=state.visitor_id,
        seq=seq,
        visit_count=visit,
        first_seen=state.first_seen or hit.at,
        last_seen=hit.at,
        values=values,
        recent=_remembered(state.recent, hit.digest, seq),
        unwritten=state.unwritten,
        carried=state.carried,
        version=state.version,
    )
    in_force = {k: p.value for k, p in values.items()} | hit_only
    return after, AppliedHit(hit, seq, visit, in_force)


def _remembered(recent: dict[str, int], digest: str, seq: int) -> dict[str, int]:
    """`recent` with one more hit, the oldest left out past RECENT_HITS."""
    after = dict(recent)
    after[digest] = seq
    if len(after) > RECENT_HITS:
        del after[next(iter(after))]
    return after


def _recent(stored: str | dict[str, int], seq: int) -> dict[str, int]:
    """The recent digests a stored state holds, by seq (states written before they were
    kept as one string hold a map)."""
    if isinstance(stored, dict):
        return stored
    count = len(stored) // DIGEST_LENGTH
    return {stored[i * DIGEST_LENGTH : (i + 1) * DIGEST_LENGTH]: seq - count + 1 + i for i in range(count)}


def values_as_of(suite: ReportSuite, state: VisitorState, at: datetime, last_hit: StoredHit | None) -> dict[str, str]:
    """The visitor's values as of `at`: those in force right after its last hit at or
    before `at` (`last_hit`; needed only when `needs_history`), as the visitor-ID
    integration credits them. Expirations that would come after that hit are not applied,
    as for snapshots; values that belong to their hit alone do not carry past it."""
    if state.first_seen is None or state.last_seen is None or at < state.first_seen:
        return {}
    if at >= state.last_seen:
        return {k: p.value for k, p in state.values.items()}
    if last_hit is None:  # counted by the state but not stored yet: nothing to credit
        return {}
    return {k: v for k, v in last_hit.values.items() if _persists(_setting(suite, k))}


def needs_history(state: VisitorState, at: datetime) -> bool:
    """Whether the state as of `at` lies between the visitor's first and last hits, so its
    last hit at or before `at` must be read."""
    return state.first_seen is not None and state.last_seen is not None and state.first_seen <= at < state.last_seen


def _persists(setting: EvarSetting | None) -> TypeGuard[EvarSetting]:
    return setting is not None and setting.expiration is not Expiration.HIT


def _setting(suite: ReportSuite, key: str) -> EvarSetting | None:
    """How a dimension persists; None for those that belong to their hit only."""
    found = fields.field(key)
    if found is None:
        return None
    if found.persistence is Persistence.SETTINGS:
        return suite.evar(int(key[4:]))
    return _PERSISTENCE_SETTINGS.get(found.persistence)


def _still_valid(setting: EvarSetting | None, persisted: Persisted, at: datetime, visit: int) -> bool:
    if not _persists(setting):
        return False
    if setting.expiration is Expiration.VISIT:
        return persisted.visit == visit
    if setting.expiration is Expiration.DAYS and setting.days is not None:
        return at < persisted.set_at + timedelta(days=setting.days)
    return True
