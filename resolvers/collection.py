"""Online hit collection: the use-case and its commit protocol.

A call is processed in batches, not hit by hit. Per round: one read of all its visitors'
states, one read checking that the hits those states carry are stored, one optimistic
write of the new states (the commit point), one write of the hits, then the transaction
snapshots (resolvers/snapshots.py). A visitor whose state another call moved meanwhile
is read and applied again. Each state is written once per round.

Why no hit is lost or counted twice, whatever fails where:

- A state counts its hits (`seq`) and carries the documents of the hits its round
  applied (`unwritten`). A hit document follows from the committed state alone, so the
  one stored under its `_id` is that very document: storing it again is a no-op.
- Invariant: every hit a stored state counts is stored, or carried by that state.
- A round writes version v+1 of a state only after it has made sure that the hits
  version v carries are stored (by `_id`, in one read; the missing ones, only there
  after a failure, are read from the state and inserted). The write names version v,
  so it lands only on the state that was checked: the hits v counts are all stored
  then, and v+1 carries its own. The invariant holds after every write.
- A failure before the commit changed nothing but storing hits already counted. A
  failure after it leaves them carried: the visitor's next round stores them before it
  writes, and a call sent again recognises its hits by digest in the state's recent list
  (fetching them from the store, which the check just completed).
- Hits are written only for a committed state, so no hit is stored that no state
  counts; a round that lost the race for a state writes nothing for it.
- Readers count hits by the state (`seq` at most the state's): a hit carried but not
  stored yet is not listed until its visitor's next round, or the end of this one.

The carried documents stay in the state until its next write replaces them. That costs
their bytes in the state, which a second write per round would save, at the price of
writing every state twice; reads of a state for anything but collection leave them out.
"""

import asyncio
import random
import time
from collections import defaultdict
from dataclasses import dataclass, field, replace

from models import clock, store
from models.companies import Caller, Role
from models.hits import AppliedHit, CheckedHit, HitIn, StoredHit, check_hit
from models.keys import hit_key, visitor_of
from models.problems import Problem, Rejected, invalid
from models.profiles import VisitorState, apply_hit
from models.report_suites import ReportSuite
from models.snapshots import Snapshot, TransactionIdResult
from models.store import CompanyStore, Doc, Store
from resolvers import late_linking, profiles, report_suites, snapshots
from resolvers.api_keys import tenant

MAX_HITS_PER_CALL = 1000
STATE_ATTEMPTS = 6  # rounds lost to other calls before a visitor's hits are refused CONFLICT
UNWRITTEN_BYTES = 4 * 1024 * 1024
HIT_OVERHEAD_BYTES = 512
BACKOFF_SECONDS = 0.005


@dataclass
class HitOutcome:
    index: int
    problems: list[Problem] = field(default_factory=list)
    visit_number: int | None = None
    transaction_ids: list[tuple[str, TransactionIdResult]] = field(default_factory=list)
    already_collected: bool = False  # sent before: counted then, not again

    @property
    def collected(self) -> bool:
        return not self.problems


@dataclass
class Collection:
    outcomes: list[HitOutcome]
    snapshots: list[Snapshot]


async def collect_hits(db: Store, caller: Caller | None, rsid: str, hits: list[HitIn]) -> Collection:
    """Collect up to 1,000 hits; each hit's outcome is given by its index, one bad hit stops no other.
    A call sent again after a failure or a lost answer collects nothing twice."""
    scope = tenant(db, caller, Role.UPLOADER)
    if len(hits) > MAX_HITS_PER_CALL:
        raise Rejected(invalid("hits", f"send at most {MAX_HITS_PER_CALL} hits a call, not {len(hits)}."))
    suite = await report_suites.get(db, caller, rsid)
    now = clock.now()
    outcomes = {index: HitOutcome(index) for index in range(len(hits))}
    checked = []
    turns = Turns()
    for index, hit in enumerate(hits):
        await turns.take()
        good, problems = check_hit(index, hit, now)
        outcomes[index].problems = problems
        if good:
            checked.append(good)
    written = await _write_visitors(scope, suite, checked, outcomes, turns)
    for applied, _ in written:
        outcomes[applied.hit.index].visit_number = applied.visit_number
    recorded, results = await snapshots.record(scope, suite, written, now)
    await late_linking.link_waiting(scope, suite, recorded, now)  # offline rows that came before their transaction
    for index, transaction_ids in results.items():
        outcomes[index].transaction_ids = transaction_ids
    return Collection([outcomes[i] for i in range(len(hits))], recorded)


async def _write_visitors(
    scope: CompanyStore, suite: ReportSuite, hits: list[CheckedHit], outcomes: dict[int, HitOutcome], turns: "Turns"
) -> list[tuple[AppliedHit, StoredHit]]:
    """Apply the hits to their visitors and store both; returns each hit as stored.
    The protocol and why it is safe are in the module docstring."""
    pending: dict[str, list[CheckedHit]] = defaultdict(list)
    for hit in hits:
        pending[hit.visitor_id].append(hit)
    written: list[tuple[AppliedHit, StoredHit]] = []
    races = 0
    while pending and races < STATE_ATTEMPTS:
        if races:  # calls that met once would meet again at once: spread them out
            await asyncio.sleep(random.uniform(0, BACKOFF_SECONDS * 2**races))
        states = await profiles.load_states(scope, suite, list(pending))
        await _store_carried(scope, suite, list(states.values()))
        runs = {}
        for v, visitor_hits in pending.items():
            await turns.take()
            runs[v] = _run(suite, states[v], visitor_hits)
        for v, run in runs.items():
            await turns.take()
            if not run.applied:
                continue
            run.stored = [(a, StoredHit.of(a, suite.company_id, suite.rsid, suite.local_day(a.hit.at))) for a in run.applied]
            carried = tuple(s.to_doc(suite.company_id) for _, s in run.stored)
            run.state = replace(run.state, unwritten=carried, version=states[v].version + 1)
        new_states = [run.state.to_doc() for run in runs.values() if run.applied]
        lost = {visitor_of(key)[1] for key in await scope.replace_many_versioned(store.VISITORS, new_states)}
        races += bool(lost)
        done = [run for visitor, run in runs.items() if visitor not in lost]
        await _store_hits(scope, [doc for run in done for doc in run.state.unwritten])
        written += [pair for run in done for pair in run.stored] + await _resent(scope, suite, done)
        for run in done:
            for index, problem in run.refused:
                outcomes[index].problems.append(problem)
            for hit, _ in run.resent:
                outcomes[hit.index].already_collected = True
            if run.deferred:
                pending[run.state.visitor_id] = run.deferred
            else:
                del pending[run.state.visitor_id]
    for hit in (h for visitor_hits in pending.values() for h in visitor_hits):
        outcomes[hit.index].problems.append(
            Problem(f"hits.{hit.index}", "CONFLICT", "Other calls kept changing this visitor; send the hit again.")
        )
    return written


async def _store_carried(scope: CompanyStore, suite: ReportSuite, states: list[VisitorState]) -> None:
    """Make sure the hits these states carry are stored, before any of them is replaced:
    one read of their `_id`s; the documents are read from the states only for those missing."""
    carried = {key: state.visitor_id for state in states for key in state.carried_ids}
    if not carried:
        return
    stored = {doc["_id"] for doc in await scope.find_many(store.HITS, {"_id": {"$in": list(carried)}}, projection={"_id": 1})}
    missing = {key for key in carried if key not in stored}
    if not missing:
        return
    docs = await profiles.carried_hits(scope, suite.rsid, list(dict.fromkeys(carried[key] for key in missing)))
    await _store_hits(scope, [doc for doc in docs if doc["_id"] in missing])


async def _store_hits(scope: CompanyStore, docs: list[Doc]) -> None:
    # A hit document follows from the committed state alone, so one already stored under
    # its id is this very document: a duplicate key means done.
    await scope.insert_many(store.HITS, docs)


async def _resent(scope: CompanyStore, suite: ReportSuite, runs: list["_Run"]) -> list[tuple[AppliedHit, StoredHit]]:
    """Hits sent again, as they were stored: their outcome is the first one's, and their
    transaction ids are settled again (a failure may have come before the snapshots)."""
    wanted: dict[str, list[CheckedHit]] = defaultdict(list)  # one stored hit may be sent twice in a call
    for run in runs:
        for hit, seq in run.resent:
            wanted[hit_key(suite.company_id, suite.rsid, hit.visitor_id, seq)].append(hit)
    if not wanted:
        return []
    docs = await scope.find_many(store.HITS, {"_id": {"$in": list(wanted)}})
    return [(stored.applied(hit), stored) for stored in map(StoredHit.from_doc, docs) for hit in wanted[stored.id]]


class Turns:
    """Gives the event loop a turn after every few milliseconds of work, so that a call of
    1,000 large hits never holds up the requests that come in meanwhile."""

    SLICE_SECONDS = 0.005

    def __init__(self) -> None:
        self._since = time.perf_counter()

    async def take(self) -> None:
        if time.perf_counter() - self._since >= self.SLICE_SECONDS:
            await asyncio.sleep(0)
            self._since = time.perf_counter()


@dataclass
class _Run:
    """One visitor's hits applied to its state: the state after, and what became of each hit."""

    state: VisitorState
    applied: list[AppliedHit] = field(default_factory=list)
    refused: list[tuple[int, Problem]] = field(default_factory=list)
    resent: list[tuple[CheckedHit, int]] = field(default_factory=list)  # with the seq they were stored at
    stored: list[tuple[AppliedHit, StoredHit]] = field(default_factory=list)
    deferred: list[CheckedHit] = field(default_factory=list)  # left for the next round, for size


def _run(suite: ReportSuite, state: VisitorState, hits: list[CheckedHit]) -> _Run:
    """Apply one visitor's hits in the order sent. One applied already is recognised; one
    older than the visitor's latest is refused."""
    run = _Run(state)
    size = 0
    for position, hit in enumerate(hits):
        if size > UNWRITTEN_BYTES:  # the state carries the hits it counts: keep it far below 16 MB
            run.deferred = hits[position:]
            break
        seq = run.state.seq_of(hit.digest)
        if seq is not None:
            run.resent.append((hit, seq))
            continue
        if run.state.last_seen and hit.at < run.state.last_seen:
            message = f"This hit is older than the latest one collected for visitor '{hit.visitor_id}' ({run.state.last_seen.isoformat()})."
            run.refused.append((hit.index, Problem(f"hits.{hit.index}.timestamp", "OUT_OF_ORDER", message)))
            continue
        run.state, applied = apply_hit(suite, run.state, hit)
        run.applied.append(applied)
        size += HIT_OVERHEAD_BYTES + sum(len(k) + len(v.encode()) for k, v in applied.in_force.items())
    return run
