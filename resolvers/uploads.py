"""Offline uploads: files and rows come in, are checked at once, and wait as a job.

A file streams in: each piece is fed to the file checker and stored as it arrives, so no
upload is held whole in memory or in one document. Rows come in calls that share a job
name; each call is checked and stored as one piece. A job whose file fails as a whole
(header, encoding, size, more than 90 days) is FAILED before any row is stored; a
complete one is QUEUED for a worker (resolvers/processing.py). Nothing is processed
before a job is complete. Validation runs the same checks and linking, and stores nothing.

Exactly once (resolvers/exactly_once.py):
- A file sent with an idempotency key takes the key before it stores a piece; a second
  sending finds the key taken and answers the first job, storing nothing. The file's
  SHA-256 is known once all of it is in: the same content already held by a job of the
  data source makes this job vanish with its pieces (no row was stored, none will be) and
  the upload is refused DUPLICATE_UPLOAD, naming the earlier job, unless duplicates are
  allowed.
- A rows call's key names that call, not the job: each call of a job carries its own. The
  key is written into the job together with the call's count (one versioned replace), so
  of two sendings of one call exactly one is counted; then the call's piece is stored, then
  the key itself (to find the job once it is queued), then the job is queued if the call
  was the last. A call sent again at any point of that finds its key and completes what
  the first sending left undone, storing nothing twice.
"""

import contextlib
import hashlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from models import clock, store
from models.companies import Caller, Role
from models.data_sources import DataSource, Status
from models.exactly_once import KeyClaim, call_digest, check_key
from models.jobs import (
    CHUNK_BYTES,
    GONE,
    MAX_CALLS_PER_JOB,
    MAX_JOB_BYTES,
    MAX_NAME_BYTES,
    MAX_ROWS_PER_CALL,
    CallKey,
    Counts,
    Job,
    JobSource,
    JobStatus,
)
from models.keys import job_key, new_id, receiving_key
from models.offline_rows import Target
from models.problems import Problem, Rejected, invalid
from models.report_suites import ReportSuite
from models.store import CompanyStore, DuplicateKey, Store, StoreUnavailable
from models.text import check_name
from models.upload_files import MAX_KEPT_PROBLEMS, FileCheck, FileChecker, RowReader
from models.upload_rows import Layout, LineProblem, ParsedRow, RowChecker, Severity, check_header
from resolvers import data_sources, exactly_once, jobs, processing, report_suites
from resolvers.api_keys import require, tenant

ROW_CALL_ATTEMPTS = 5  # calls of one job racing for its next piece


@dataclass(frozen=True)
class Validation:
    """What an upload would come to, with nothing stored: its counts and every problem."""

    counts: Counts
    problems: list[LineProblem]
    file_failed: bool


class DuplicateUpload(Rejected):
    """The same file content was sent to this data source before, as `earlier`."""

    def __init__(self, earlier: Job) -> None:
        message = (
            f"This file's content was uploaded to this data source before, as job '{earlier.name}' "
            f"(received {earlier.received_at:%Y-%m-%d %H:%M:%S} UTC, {earlier.status.value}); nothing was stored. "
            "Send it with allowDuplicate: true to store its rows again."
        )
        super().__init__(Problem("file", "DUPLICATE_UPLOAD", message))
        self.earlier = earlier


async def upload_file(
    db: Store,
    caller: Caller | None,
    data_source_id: str,
    filename: str | None,
    pieces: AsyncIterator[bytes],
    name: str | None = None,
    idempotency_key: str | None = None,
    allow_duplicate: bool = False,
) -> Job:
    """Store an uploaded file as a new job, checking it as it streams in. Returns the job:
    QUEUED, or FAILED (with its problems) when the file fails as a whole; or the job an
    earlier upload with the same idempotency key made. Raises DuplicateUpload for content
    another job of the data source holds, unless `allow_duplicate`. The job is `name`d as
    given, else after the file."""
    uploader = require(caller, Role.UPLOADER)
    scope = db.company(uploader.company_id)
    if name is not None and (problems := check_name("name", name)):
        raise Rejected(*problems)
    if idempotency_key is not None and (problems := check_key(idempotency_key)):
        raise Rejected(*problems)
    source, suite = await _open_source(db, caller, data_source_id)
    now = clock.now()
    job = _new_job(uploader, source, name.strip() if name else _file_job_name(filename, now), JobSource.FILE, now)
    await scope.insert(store.JOBS, job.to_doc())
    if idempotency_key is not None and (earlier := await exactly_once.claim_key(scope, source.id, idempotency_key, job.id, now)):
        await scope.delete_many(store.JOBS, {"_id": job.id})  # it stored nothing yet
        return await _sent_before(scope, *earlier)
    checker = FileChecker(suite.time_zone, now, source)
    content = hashlib.sha256()
    try:
        job, chunks = await _store_pieces(scope, job, checker, content, pieces)
    except Exception:
        await _vanish(scope, job)  # a file not all read is no upload: leave nothing of it behind
        raise
    check = checker.finish()
    received = replace(
        job,
        chunks=chunks,
        size_bytes=check.size,
        encoding=check.encoding.value if check.encoding else None,
        columns=check.layout.names if check.layout else (),
        row_errors=check.error_count,
        lines_total=check.lines,
    )
    if check.failed:
        return await _fail_on_arrival(scope, received, check)
    holder = await exactly_once.claim_content(scope, source.id, content.hexdigest(), job.id, now)
    if holder is not None and not allow_duplicate:
        await _vanish(scope, job)
        raise DuplicateUpload(holder)
    return await _queue(scope, received)


async def _store_pieces(
    scope: CompanyStore, job: Job, checker: FileChecker, content: "hashlib._Hash", pieces: AsyncIterator[bytes]
) -> tuple[Job, int]:
    """Check, hash and store the file a piece at a time, touching its job now and then so
    that it is not taken for abandoned; returns the job as stored and the pieces stored."""
    chunks = 0
    async for piece in _pieces(pieces):
        checker.feed(piece)
        if checker.failed:
            break  # the file fails as a whole (its size, encoding or header): store no more of it
        content.update(piece)
        await scope.insert(
            store.JOB_CHUNKS, {"_id": job_key(job.id, chunks), "companyId": scope.company_id, "jobId": job.id, "data": piece}
        )
        chunks += 1
        if job.due_for_touch(clock.now()):
            job = await _touch(scope, job)
    return job, chunks


async def _touch(scope: CompanyStore, job: Job) -> Job:
    touched = job.next(touched_at=clock.now())
    if not await scope.replace_versioned(store.JOBS, touched.to_doc()):  # removed or deleted meanwhile
        message = "This upload was stopped while it came in (its job was deleted, or taken for abandoned); nothing of it is kept."
        raise Rejected(Problem("file", "UPLOAD_INTERRUPTED", message))
    return touched


async def _vanish(scope: CompanyStore, job: Job) -> None:
    """Remove a file job that never stored a row, and its pieces (best effort: the store may be
    what failed; a job left RECEIVING is taken over once abandoned, see Job.abandoned). A job
    an ADMIN deleted meanwhile stays, as the record of that."""
    with contextlib.suppress(StoreUnavailable):
        await scope.delete_many(store.JOB_CHUNKS, {"jobId": job.id})
        await scope.delete_many(store.JOBS, {"_id": job.id, "status": JobStatus.RECEIVING.value})


async def _sent_before(scope: CompanyStore, claim: KeyClaim, job: Job) -> Job:
    """The job an earlier file upload with the same key made; a key a rows call holds is refused."""
    if claim.digest is not None:
        raise Rejected(_key_reused())
    (current,) = await jobs.with_late_links(scope, [job])
    return current


def _key_reused() -> Problem:
    message = "This idempotency key was sent before with other data; use a new key for each upload and each call of rows."
    return Problem("idempotencyKey", "IDEMPOTENCY_KEY_REUSED", message)


async def upload_rows(
    db: Store,
    caller: Caller | None,
    data_source_id: str,
    job_name: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[str]],
    finished: bool,
    idempotency_key: str | None = None,
) -> Job:
    """Add one call of rows to the job of that name (a new one on its first call), in the
    order calls are sent; a call that says `finished` queues it. A call that would break a
    job's limits (calls, size, 90 distinct days) is refused and stores nothing. A call sent
    again with its idempotency key stores nothing new and returns its job."""
    uploader = require(caller, Role.UPLOADER)
    scope = db.company(uploader.company_id)
    problems = check_name("jobName", job_name) + _check_call(rows) + (check_key(idempotency_key) if idempotency_key is not None else [])
    if problems:
        raise Rejected(*problems)
    source, suite = await _open_source(db, caller, data_source_id)
    layout = _layout(columns, source)
    now = clock.now()
    digest = call_digest(job_name.strip(), columns, rows, finished)
    if idempotency_key is not None and (held := await exactly_once.held_key(scope, source.id, idempotency_key, now)):
        claim, sent = held
        if claim.digest != digest or sent is None:
            raise Rejected(_key_reused())
        return await _resent_call(scope, sent, finished)
    for _ in range(ROW_CALL_ATTEMPTS):
        job = await _receiving_job(scope, uploader, source, job_name.strip(), tuple(columns), now)
        if job.columns != tuple(columns):
            raise Rejected(invalid("columns", f"job '{job.name}' has the columns {list(job.columns)}; every call of a job sends the same."))
        known = job.call_key(idempotency_key) if idempotency_key is not None else None
        if known is not None:  # its twin was counted first, or this call's first sending stopped after its count
            if known.digest != digest:
                raise Rejected(_key_reused())
            await _store_call(scope, source.id, job.id, known, rows, idempotency_key, now)
            return await _resent_call(scope, job, finished)
        call = CallKey(idempotency_key or "", job.chunks, job.lines_total + 1, digest)
        counted = _count_call(job, rows, RowChecker(layout, suite.time_zone, now, job.days), call if idempotency_key else None)
        if not await scope.replace_versioned(store.JOBS, counted.to_doc()):
            continue  # another call of this job came between: number this one after it
        await _store_call(scope, source.id, job.id, call, rows, idempotency_key, now)
        return await _queue(scope, counted) if finished else counted
    raise Rejected(Problem("jobName", "CONFLICT", f"Calls of job '{job_name}' kept coming at once; send this one again."))


async def _store_call(
    scope: CompanyStore,
    data_source_id: str,
    job_id: str,
    call: CallKey,
    rows: Sequence[Sequence[str]],
    idempotency_key: str | None,
    now: datetime,
) -> None:
    """Store a counted call's piece, then its key; what a first sending stored already stays."""
    piece = {"_id": job_key(job_id, call.chunk), "companyId": scope.company_id, "jobId": job_id, "firstLine": call.first_line}
    with contextlib.suppress(DuplicateKey):
        await scope.insert(store.JOB_CHUNKS, piece | {"rows": [list(r) for r in rows]})
    if idempotency_key is not None:
        await exactly_once.remember_key(scope, data_source_id, idempotency_key, job_id, call.digest, now)


async def _resent_call(scope: CompanyStore, job: Job, finished: bool) -> Job:
    """The job a call sent before went to; queued now if that call was the last and its first
    sending stopped before queueing it."""
    if finished and job.status is JobStatus.RECEIVING:
        return await _queue(scope, job)
    (current,) = await jobs.with_late_links(scope, [job])
    return current


async def validate_file(
    db: Store, caller: Caller | None, data_source_id: str, pieces: AsyncIterator[bytes], again: AsyncIterator[bytes]
) -> Validation:
    """Check a file and link its rows as an upload would, storing nothing. `again` reads the
    same file a second time: its encoding is known only once all of it was seen."""
    scope = tenant(db, caller, Role.UPLOADER)
    source, suite = await _open_source(db, caller, data_source_id)
    now = clock.now()
    checker = FileChecker(suite.time_zone, now, source)
    async for piece in _pieces(pieces):
        checker.feed(piece)
        if checker.failed:
            break
    check = checker.finish()
    if check.failed or check.encoding is None or check.layout is None:
        return Validation(_check_counts(check), list(check.problems), True)
    reader = RowReader(check.encoding, suite.time_zone, now, source)
    target = processing.target(scope.company_id, "validation", source, check.layout.names)
    return await _dry_run(scope, suite, target, _read(reader, _pieces(again)), now)


async def validate_rows(
    db: Store, caller: Caller | None, data_source_id: str, columns: Sequence[str], rows: Sequence[Sequence[str]]
) -> Validation:
    """Check rows and link them as one call of a rows job would, storing nothing."""
    scope = tenant(db, caller, Role.UPLOADER)
    if problems := _check_call(rows):
        raise Rejected(*problems)
    source, suite = await _open_source(db, caller, data_source_id)
    layout = _layout(columns, source)
    now = clock.now()
    checker = RowChecker(layout, suite.time_zone, now)
    target = processing.target(scope.company_id, "validation", source, list(columns))
    return await _dry_run(scope, suite, target, _check_each(checker, rows), now)


async def restart_processing(db: Store, caller: Caller | None, data_source_id: str) -> DataSource:
    """Unlock a data source that stopped on an error, so it takes uploads and processes again."""
    scope = tenant(db, caller, Role.ADMIN)
    source = await data_sources.get(db, caller, data_source_id, field="dataSourceId")
    if source.locked_by is None:
        return source
    unlocked = replace(source, locked_by=None, version=source.version + 1)
    if not await scope.replace_versioned(store.DATA_SOURCES, unlocked.to_doc()):
        raise Rejected(Problem("dataSourceId", "CONFLICT", "The data source changed while this was being applied; try again."))
    processing.wake()
    return unlocked


async def _dry_run(
    scope: CompanyStore, suite: ReportSuite, target: Target, items: AsyncIterator[ParsedRow | LineProblem], now: datetime
) -> Validation:
    """Link rows in batches, as a worker would, and count what a job would have."""
    counts, kept, failed = Counts(), list[LineProblem](), False
    async for parsed, problems, skipped in processing.batches(items, processing.BATCH_ROWS):
        batch = await processing.link_rows(scope, suite, target, parsed, now)
        all_problems = processing.in_order(problems + batch.problems)
        counts = counts + processing.tally(batch.rows, all_problems, skipped)
        kept += all_problems[: MAX_KEPT_PROBLEMS - len(kept)]
        failed = failed or any(p.fails_file for p in problems)
    return Validation(counts, kept, failed)


async def _read(reader: RowReader, pieces: AsyncIterator[bytes]) -> AsyncIterator[ParsedRow | LineProblem]:
    async for piece in pieces:
        for item in reader.push(piece):
            yield item
    for item in reader.finish():
        yield item


async def _check_each(checker: RowChecker, rows: Sequence[Sequence[str]]) -> AsyncIterator[ParsedRow | LineProblem]:
    for line, fields in enumerate(rows, 1):
        row, problems = checker.check_fields(line, fields)
        for problem in problems:
            yield problem
        if row is not None:
            yield row


def _layout(columns: Sequence[str], source: DataSource) -> Layout:
    """The columns of a rows call, checked as a file's header is; refused as userErrors."""
    layout, problems = check_header(list(columns), source, line=0)
    if layout is None:
        raise Rejected(*[Problem(f"columns.{(p.column or 1) - 1}", p.code, p.message) for p in problems])
    return layout


async def _open_source(db: Store, caller: Caller | None, data_source_id: str) -> tuple[DataSource, ReportSuite]:
    """The caller's data source, if it takes uploads now, and its report suite."""
    source = await data_sources.get(db, caller, data_source_id, field="dataSourceId")
    if source.built_in:
        raise Rejected(invalid("dataSourceId", "The Web beacon collects online hits; upload to an offline data source."))
    if source.status is Status.DEACTIVATED:
        raise Rejected(Problem("dataSourceId", "DEACTIVATED", f"Data source '{source.name}' is deactivated and takes no uploads."))
    if source.locked_by is not None:
        message = f"Data source '{source.name}' stopped on errors in job {source.locked_by}; an ADMIN restarts its processing (restartDataSourceProcessing)."
        raise Rejected(Problem("dataSourceId", "DATA_SOURCE_LOCKED", message))
    return source, await report_suites.get(db, caller, source.rsid)


def _new_job(uploader: Caller, source: DataSource, name: str, kind: JobSource, now: datetime, columns: tuple[str, ...] = ()) -> Job:
    return Job(
        id=new_id(),
        company_id=uploader.company_id,
        rsid=source.rsid,
        data_source_id=source.id,
        name=name,
        source=kind,
        received_at=now,
        created_by=uploader.key_id,
        columns=columns,
    )


def _file_job_name(name: str | None, now: datetime) -> str:
    """The job's name in the file log: the file's own name, without any folder."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    if not base or check_name("name", base) or len(base.encode()) > MAX_NAME_BYTES:
        return f"upload-{now:%Y%m%d-%H%M%S}"
    return base


async def _pieces(source: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """The upload again in pieces of at most CHUNK_BYTES, one stored document each."""
    async for data in source:
        for start in range(0, len(data), CHUNK_BYTES):
            yield data[start : start + CHUNK_BYTES]


def _check_call(rows: Sequence[Sequence[str]]) -> list[Problem]:
    if len(rows) > MAX_ROWS_PER_CALL:
        return [Problem("rows", "TOO_MANY", f"send at most {MAX_ROWS_PER_CALL:,} rows a call, not {len(rows):,}.")]
    return []


async def _receiving_job(
    scope: CompanyStore, uploader: Caller, source: DataSource, name: str, columns: tuple[str, ...], now: datetime
) -> Job:
    """The rows job still receiving under this name, made on the first call. A new job is
    stored before its name is claimed, so that a claim names a stored job (a call racing
    the first one finds it); the job of a first call that lost the claim goes again. A
    claim whose job was queued or deleted a moment ago is released here, not used."""
    key = receiving_key(source.id, name)
    for _ in range(ROW_CALL_ATTEMPTS):
        held = await scope.find_one(store.JOB_NAMES, {"_id": key})
        if held is None:
            job = _new_job(uploader, source, name, JobSource.ROWS, now, columns)
            await scope.insert(store.JOBS, job.to_doc())
            try:
                await scope.insert(store.JOB_NAMES, {"_id": key, "companyId": scope.company_id, "jobId": job.id})
                return job
            except DuplicateKey:  # another first call of this job was faster
                await scope.delete_many(store.JOBS, {"_id": job.id})
                continue
        holder = await jobs.read(scope, held["jobId"])
        if holder is not None and holder.status is JobStatus.RECEIVING:
            return holder
        await scope.delete_many(store.JOB_NAMES, {"_id": key, "jobId": held["jobId"]})
    raise Rejected(Problem("jobName", "CONFLICT", f"Calls of job '{name}' kept coming at once; send this one again."))


def _count_call(job: Job, rows: Sequence[Sequence[str]], checker: RowChecker, call: CallKey | None = None) -> Job:
    """The job with this call counted in: its next piece, lines, size, row errors and days."""
    if job.chunks >= MAX_CALLS_PER_JOB:
        raise Rejected(
            Problem("rows", "TOO_MANY_CALLS", f"a job takes at most {MAX_CALLS_PER_JOB} calls; finish this one and start another.")
        )
    size = job.size_bytes + sum(len("\t".join(r).encode(errors="replace")) + 1 for r in rows)
    if size > MAX_JOB_BYTES:
        raise Rejected(Problem("rows", "TOO_LARGE", f"a job is at most {MAX_JOB_BYTES // 2**20} MB; finish this one and start another."))
    errors = 0
    for line, fields in enumerate(rows, job.lines_total + 1):
        _, problems = checker.check_fields(line, fields)
        if too_many_days := next((p for p in problems if p.fails_file), None):
            raise Rejected(Problem(f"rows.{line - job.lines_total - 1}", too_many_days.code, too_many_days.message))
        errors += sum(p.severity is Severity.ERROR for p in problems)
    return job.next(
        chunks=job.chunks + 1,
        size_bytes=size,
        lines_total=job.lines_total + len(rows),
        row_errors=job.row_errors + errors,
        days=tuple(sorted(checker.days)),
        call_keys=(*job.call_keys, call) if call else job.call_keys,
    )


async def _queue(scope: CompanyStore, job: Job) -> Job:
    queued = job.next(status=JobStatus.QUEUED)
    if not await scope.replace_versioned(store.JOBS, queued.to_doc()):
        return await _not_queued(scope, job)
    if job.source is JobSource.ROWS:  # its name is free, unless a next job of that name took it already
        await scope.delete_many(store.JOB_NAMES, {"_id": receiving_key(job.data_source_id, job.name), "jobId": job.id})
    processing.wake()
    return queued


async def _not_queued(scope: CompanyStore, job: Job) -> Job:
    """The job moved on while it was being queued: a twin of its last call queued it, or
    its data was deleted meanwhile (then what was stored after the deletion goes too)."""
    current = await jobs.read(scope, job.id)
    if current is not None and current.status not in (JobStatus.RECEIVING, *GONE):
        return current
    if current is None or current.status in GONE:
        await scope.delete_many(store.JOB_CHUNKS, {"jobId": job.id})
        raise Rejected(Problem("jobId", "JOB_DELETED", f"Job '{job.name}' was deleted while it was being received; nothing of it is kept."))
    raise Rejected(Problem("jobName", "CONFLICT", f"Job '{job.name}' changed while it was being queued; send the last call again."))


def _check_counts(check: FileCheck) -> Counts:
    return Counts(rows=check.rows, skipped_rows=check.skipped_rows, error_count=check.error_count, warning_count=check.warning_count)


async def _fail_on_arrival(scope: CompanyStore, job: Job, check: FileCheck) -> Job:
    """A file that fails as a whole: its problems are kept, its pieces dropped, no row stored."""
    await scope.insert_many(store.PROBLEMS, processing.problem_docs(job, list(check.problems)))
    await scope.delete_many(store.JOB_CHUNKS, {"jobId": job.id})
    failed = job.finished(JobStatus.FAILED, clock.now())
    failed = replace(failed, counts=_check_counts(check))
    if not await scope.replace_versioned(store.JOBS, failed.to_doc()):
        raise Rejected(Problem("file", "CONFLICT", "The job changed while it was being stored; upload the file again."))
    return failed
