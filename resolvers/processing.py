"""Processing jobs in the background: claim, then parse, check, link and write in batches.

A worker (one runs inside the server; `offline-graph worker` runs more against the same
MongoDB) claims a queued job by a versioned replace of the job, so two workers never
both hold it. It streams the job's stored chunks through the file format's reader, links
each batch of rows to the online data (one read of the snapshots and one of the visitor
states a batch, see resolvers/snapshots.py and resolvers/profiles.py), writes the rows
and their problems under ids made of the job and line, and checkpoints the job: the line
reached, the counts so far, and a renewed lease. A worker that dies leaves the lease to
run out; the next one resumes after the checkpoint. Rows written after it are written
again under the same ids (the store keeps the first, and the batch is counted as stored),
and the counts of the batch are counted once, at the checkpoint: so the final counts are
exact whatever stopped. A job whose data is being deleted fails its worker's next
checkpoint; the worker then removes what it stored since (resolvers/job_deletion.py).

The worker serves every company: it finds jobs across companies, then works on each job
only through that job's company view of the store. At each look for work it also removes
jobs whose upload died with its server (Job.abandoned), which would otherwise stay
RECEIVING in the file log for good.
"""

import asyncio
import contextlib
import logging
import secrets
import weakref
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from models import clock, store
from models.data_sources import DataSource, Integration
from models.fields import VISITOR_ID
from models.jobs import GONE, RECEIVE_TIMEOUT, Counts, Job, JobSource, JobStatus, Lease, next_to_process
from models.keys import problem_key, report_suite_key
from models.offline_rows import Link, OfflineRow, Target, link
from models.report_suites import ReportSuite
from models.store import CompanyStore, Doc, Store
from models.upload_files import Encoding, RowReader
from models.upload_rows import LineProblem, ParsedRow, RowChecker, Severity, check_header
from resolvers import exactly_once, job_deletion, jobs, late_linking, profiles, snapshots

log = logging.getLogger("offline_graph")
BATCH_ROWS = 5000
CHUNKS_PER_READ = 8  # stored pieces read at once: 2 MB of a file
POLL_SECONDS = 2.0
SWEEP_EVERY = timedelta(seconds=30)  # how often a worker looks for abandoned uploads
_workers: "weakref.WeakSet[Worker]" = weakref.WeakSet()


def wake() -> None:
    """Tell this process's workers that a job is waiting, so they need not wait for their poll."""
    for worker in _workers:
        worker.woken.set()


@dataclass(frozen=True)
class Batch:
    """What linking made of a batch of rows: the rows to store and the problems it found."""

    rows: list[OfflineRow]
    problems: list[LineProblem]


async def link_rows(scope: CompanyStore, suite: ReportSuite, target: Target, parsed: list[ParsedRow], now: datetime) -> Batch:
    """Link checked rows to the online data, reading only: a transaction row gets its
    snapshot's values, a visitor-ID row its visitor's state as of its time; an unknown or
    expired transaction id, or an unknown visitor, makes a summary row (the visitor with a
    warning). Validation runs this too, and stores nothing."""
    found = {}
    states: dict[tuple[str, datetime], dict[str, str] | None] = {}
    if target.integration is Integration.TRANSACTION_ID:
        found = await snapshots.linkable(scope, suite.rsid, [r.transaction_id for r in parsed if r.transaction_id], now)
    if target.integration is Integration.VISITOR_ID:
        states = await profiles.states_as_of(scope, suite, [(r.visitor_id, r.at) for r in parsed if r.visitor_id])
    rows, problems = [], []
    for row in parsed:
        visitor_values = states.get((row.visitor_id, row.at)) if row.visitor_id else None
        rows.append(link(target, row, found.get(row.transaction_id or ""), visitor_values))
        if target.integration is Integration.VISITOR_ID and row.visitor_id and visitor_values is None:
            problems.append(_unknown_visitor(row.line, target))
    return Batch(rows, problems)


def _unknown_visitor(line: int, target: Target) -> LineProblem:
    message = "no visitor with this visitorID was collected online: the row is stored as a summary row."
    return LineProblem(line, target.visitor_column, "UNKNOWN_VISITOR", message, Severity.WARNING)


def tally(rows: list[OfflineRow], problems: list[LineProblem], skipped_lines: set[int]) -> Counts:
    """The counts of a batch: rows stored by how they linked, rows skipped, problems by severity."""
    links = [row.link for row in rows]
    return Counts(
        rows=len(rows) + len(skipped_lines),
        linked_by_transaction=links.count(Link.TRANSACTION),
        linked_by_visitor=links.count(Link.VISITOR),
        summary_rows=links.count(Link.SUMMARY),
        skipped_rows=len(skipped_lines),
        error_count=sum(p.severity is Severity.ERROR for p in problems),
        warning_count=sum(p.severity is Severity.WARNING for p in problems),
    )


async def claim(db: Store, owner: str) -> Job | None:
    """Take the next job to process, or None when none is waiting. Two workers may pick the
    same job; the versioned write lets one of them have it."""
    now = clock.now()
    waiting = [
        Job.from_doc(doc)
        for doc in await db.find_many(store.JOBS, {"status": {"$in": [JobStatus.QUEUED.value, JobStatus.PROCESSING.value]}})
    ]
    if not waiting:
        return None
    busy = {job.data_source_id for job in waiting if job.status is JobStatus.PROCESSING and not job.claimable(now)}
    locked = await _locked_sources(db, {job.data_source_id for job in waiting})
    job = next_to_process(waiting, busy | locked, now)
    if job is None:
        return None
    claimed = job.claimed(owner, now)
    if not await db.company(job.company_id).replace_versioned(store.JOBS, claimed.to_doc()):
        return None  # another worker was faster; the next call looks again
    return claimed


async def drop_abandoned_uploads(db: Store, now: datetime) -> None:
    """Remove the jobs (and their pieces) whose upload died with its server (Job.abandoned).
    Rows jobs that stored a call are not even read: they wait for their last call, however long."""
    query = {
        "status": JobStatus.RECEIVING.value,
        "receivedAt": {"$lte": now - RECEIVE_TIMEOUT},
        "$or": [{"source": JobSource.FILE.value}, {"chunks": 0}],
    }
    for doc in await db.find_many(store.JOBS, query):
        job = Job.from_doc(doc)
        if job.abandoned(now):
            await exactly_once.drop_abandoned(db.company(job.company_id), job)


async def _locked_sources(db: Store, data_source_ids: set[str]) -> set[str]:
    docs = await db.find_many(store.DATA_SOURCES, {"_id": {"$in": list(data_source_ids)}, "lockedBy": {"$ne": None}})
    return {doc["_id"] for doc in docs}


async def process(db: Store, job: Job, batch_rows: int = BATCH_ROWS, stop: asyncio.Event | None = None) -> Job:
    """Process a claimed job to its end, until its lease is lost to another worker, or until
    `stop` is set: then its lease is given up at the last checkpoint for any worker to resume."""
    scope = db.company(job.company_id)
    source = DataSource.from_doc(await _required(scope, store.DATA_SOURCES, job.data_source_id))
    suite = ReportSuite.from_doc(await _required(scope, store.REPORT_SUITES, report_suite_key(job.company_id, job.rsid)))
    if source.stop_on_errors and job.row_errors:
        return await _fail_and_lock(scope, job, source, suite)
    waits = clock.now() + timedelta(days=suite.transaction_id_window_days)
    rows_target = target(job.company_id, job.id, source, job.columns, late_link_until=waits)
    counts = job.counts
    async for parsed, problems, skipped in batches(_items(scope, job, source, suite, after_line=job.lines_done), batch_rows):
        job, counts = await _write_batch(scope, suite, rows_target, job, counts, parsed, problems, skipped)
        if job.lease is None:
            return job
        if stop is not None and stop.is_set():
            return await _release(scope, job)
        await asyncio.sleep(0)  # let requests in between batches
    return await _finish(scope, replace(job, counts=counts), JobStatus.SUCCESS)


async def batches(
    items: AsyncIterator[ParsedRow | LineProblem], size: int
) -> AsyncIterator[tuple[list[ParsedRow], list[LineProblem], set[int]]]:
    """Rows and problems in batches of about `size` lines: the rows to link, the problems,
    and the lines skipped for them. The last batch may be empty (a file of no rows)."""
    parsed: list[ParsedRow] = []
    problems: list[LineProblem] = []
    skipped: set[int] = set()
    async for item in items:
        if isinstance(item, ParsedRow):
            parsed.append(item)
        else:
            problems.append(item)
            if not item.fails_file:
                skipped.add(item.line)
        if len(parsed) + len(skipped) >= size:
            yield parsed, problems, skipped
            parsed, problems, skipped = [], [], set()
    yield parsed, problems, skipped


def in_order(problems: list[LineProblem]) -> list[LineProblem]:
    return sorted(problems, key=lambda p: (p.line, p.column or 0))


async def _write_batch(
    scope: CompanyStore,
    suite: ReportSuite,
    target: Target,
    job: Job,
    counts: Counts,
    parsed: list[ParsedRow],
    problems: list[LineProblem],
    skipped: set[int],
) -> tuple[Job, Counts]:
    """Link and write one batch, then checkpoint. Returns the job as checkpointed (with no
    lease when another worker holds it now) and the counts so far."""
    now = clock.now()
    batch = await link_rows(scope, suite, target, parsed, now)
    all_problems = in_order(problems + batch.problems)
    refused = await scope.insert_many(store.ROWS, [row.to_doc() for row in batch.rows])
    rows = await _as_stored(scope, batch.rows, refused) if refused else batch.rows
    await late_linking.link_stored(scope, suite, rows, now)
    await scope.insert_many(store.PROBLEMS, problem_docs(job, all_problems))
    linked = [r.transaction_id for r in (*batch.rows, *rows) if r.link is Link.TRANSACTION and r.transaction_id]
    await snapshots.count_linked_rows(scope, suite.rsid, linked)
    counts = counts + tally(rows, all_problems, skipped)
    last_line = max([job.lines_done, *(r.line for r in parsed), *skipped])
    checkpointed = job.checkpoint(last_line, counts, now)
    if not await scope.replace_versioned(store.JOBS, checkpointed.to_doc()):
        await _lost(scope, job)
        return replace(job, lease=None), counts
    return checkpointed, counts


async def _as_stored(scope: CompanyStore, rows: list[OfflineRow], refused: set[int]) -> list[OfflineRow]:
    """The batch's rows as the store holds them. Rows a worker that died stored before its
    checkpoint are kept as first stored, and counted so: one linked late since then counts
    as the summary row it was stored as (the job's late links count it, see late_linking)."""
    held = await scope.find_many(store.ROWS, {"_id": {"$in": [rows[i].id for i in refused]}})
    stored = {doc["_id"]: OfflineRow.from_doc(doc) for doc in held}
    as_stored = [stored.get(row.id, row) for row in rows]
    return [replace(row, link=Link.SUMMARY) if row.late_linked else row for row in as_stored]


async def _lost(scope: CompanyStore, job: Job) -> None:
    """A write of the job was refused: another worker holds it now, or its data is being
    deleted. Then what this worker stored since the deletion began must go as well: the
    deletion removed only what was there when it looked."""
    current = await jobs.read(scope, job.id)
    if current is not None and current.status not in GONE:
        log.warning("job %s: the lease was lost to another worker; stopping", job.id)
        return
    log.info("job %s: its data is being deleted; stopping", job.id)
    await job_deletion.remove_rows(scope, job)


async def _fail_and_lock(scope: CompanyStore, job: Job, source: DataSource, suite: ReportSuite) -> Job:
    """Stop on errors: the job fails without storing a row, reports every problem, and its
    data source is locked until its processing is restarted."""
    counts = Counts()
    async for parsed, problems, skipped in batches(_items(scope, job, source, suite, after_line=0), BATCH_ROWS):
        await scope.insert_many(store.PROBLEMS, problem_docs(job, problems))
        counts = counts + replace(tally([], problems, skipped), rows=len(parsed) + len(skipped))
    failed = await _finish(scope, replace(job, counts=counts), JobStatus.FAILED)
    if failed.status is JobStatus.FAILED:
        await _lock(scope, source, job.id)
    return failed


async def _lock(scope: CompanyStore, source: DataSource, job_id: str) -> None:
    while not await scope.replace_versioned(store.DATA_SOURCES, replace(source, locked_by=job_id, version=source.version + 1).to_doc()):
        source = DataSource.from_doc(await _required(scope, store.DATA_SOURCES, source.id))


async def _release(scope: CompanyStore, job: Job) -> Job:
    """Give the job up at its checkpoint: its lease runs out now, so any worker resumes it."""
    assert job.lease is not None
    released = job.next(lease=Lease(job.lease.owner, clock.now()))
    await scope.replace_versioned(store.JOBS, released.to_doc())
    return released


async def _finish(scope: CompanyStore, job: Job, status: JobStatus) -> Job:
    finished = job.finished(status, clock.now())
    if not await scope.replace_versioned(store.JOBS, finished.to_doc()):
        await _lost(scope, job)
        return replace(job, lease=None)
    return finished


def target(company_id: str, job_id: str, source: DataSource, columns: Sequence[str], late_link_until: datetime | None = None) -> Target:
    """Where a job's rows go and how they link; `columns` is its header. A row whose
    transaction id is not collected yet waits for it until `late_link_until`."""
    names = list(columns)
    visitor_column = names.index(VISITOR_ID.header) + 1 if VISITOR_ID.header and VISITOR_ID.header in names else None
    return Target(company_id, source.rsid, source.id, job_id, source.entry.integration, visitor_column, late_link_until)


def problem_docs(job: Job, problems: list[LineProblem]) -> list[Doc]:
    docs, per_line = [], dict[int, int]()
    for problem in problems:
        n = per_line.get(problem.line, 0)
        per_line[problem.line] = n + 1
        docs.append(
            {
                "_id": problem_key(job.id, problem.line, n),
                "companyId": job.company_id,
                "jobId": job.id,
                "line": problem.line,
                "column": problem.column,
                "code": problem.code,
                "message": problem.message,
                "severity": problem.severity.value,
            }
        )
    return docs


async def _items(
    scope: CompanyStore, job: Job, source: DataSource, suite: ReportSuite, after_line: int
) -> AsyncIterator[ParsedRow | LineProblem]:
    """Every checked row and problem of the job past `after_line`, in its order."""
    now = clock.now()
    if job.source is JobSource.FILE:
        reader = RowReader(Encoding(job.encoding), suite.time_zone, now, source)
        async for chunk in _chunks(scope, job):
            for item in reader.push(chunk["data"]):
                if item.line > after_line:
                    yield item
        for item in reader.finish():
            if item.line > after_line:
                yield item
        return
    layout, _ = check_header(job.columns, source, line=0)
    assert layout is not None, "a rows job's columns were checked on its first call"
    checker = RowChecker(layout, suite.time_zone, now)
    async for chunk in _chunks(scope, job):
        for offset, fields in enumerate(chunk["rows"]):
            line = chunk["firstLine"] + offset
            if line <= after_line:
                continue
            row, problems = checker.check_fields(line, fields)
            for problem in problems:
                yield problem
            if row is not None:
                yield row


async def _chunks(scope: CompanyStore, job: Job) -> AsyncIterator[Doc]:
    after = None
    while True:
        docs, more = await scope.find_page(store.JOB_CHUNKS, {"jobId": job.id}, "_id", False, after, CHUNKS_PER_READ)
        for doc in docs:
            yield doc
        if not more:
            return
        after = docs[-1]["_id"]


async def _required(scope: CompanyStore, collection: str, doc_id: str) -> Doc:
    doc = await scope.find_one(collection, {"_id": doc_id})
    if doc is None:
        raise LookupError(f"{collection} {doc_id} of a job is gone")
    return doc


class Worker:
    """Claims and processes jobs until stopped; `run_once` does one job, for tests and scripts."""

    def __init__(self, db: Store, batch_rows: int = BATCH_ROWS) -> None:
        self.db = db
        self.owner = f"worker-{secrets.token_hex(4)}"
        self.batch_rows = batch_rows
        self.woken = asyncio.Event()
        self.swept_at: datetime | None = None  # when it last looked for abandoned uploads
        _workers.add(self)

    async def run_once(self, stop: asyncio.Event | None = None) -> Job | None:
        now = clock.now()
        if self.swept_at is None or now - self.swept_at >= SWEEP_EVERY:
            self.swept_at = now
            await drop_abandoned_uploads(self.db, now)
        job = await claim(self.db, self.owner)
        if job is None:
            return None
        return await process(self.db, job, self.batch_rows, stop)

    async def run(self, stop: asyncio.Event, poll_seconds: float = POLL_SECONDS) -> None:
        while not stop.is_set():
            try:
                job = await self.run_once(stop)
            except Exception as error:  # noqa: BLE001 - one broken job must not end the worker; its lease lets it be retried
                log.error("worker %s: a job failed to process (%s)", self.owner, type(error).__name__)
                job = None
            if job is None:
                await self._wait(stop, poll_seconds)

    async def _wait(self, stop: asyncio.Event, seconds: float) -> None:
        """Until a job is announced, the worker is told to stop, or `seconds` pass."""
        self.woken.clear()
        waits = [asyncio.ensure_future(self.woken.wait()), asyncio.ensure_future(stop.wait())]
        await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        for waiting in waits:
            waiting.cancel()


@contextlib.asynccontextmanager
async def running(db: Store, enabled: bool = True) -> AsyncIterator[None]:
    """A worker in this process for as long as the block runs (none when not `enabled`)."""
    if not enabled:
        yield
        return
    stop = asyncio.Event()
    task = asyncio.create_task(Worker(db).run(stop))
    try:
        yield
    finally:
        stop.set()
        await task
