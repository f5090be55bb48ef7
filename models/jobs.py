"""Jobs: one upload to a data source, one line of its file log, and the rules of its life.

A job is RECEIVING while its bytes or row calls come in, QUEUED once complete, PROCESSING
while a worker holds its lease, and SUCCESS or FAILED at the end. A worker that dies
leaves its lease to run out; another then takes the job up again from its last
checkpoint. Every write of a job is a versioned replace of the whole document, so a
claim, a checkpoint or a finish made on a stale copy is refused, never merged.

Deleting a job's data (resolvers/job_deletion.py) first marks it DELETING: that write
moves its version, so the worker holding it fails its next checkpoint and stops. Once its
rows, problems and pieces are gone it is DELETED, with who and when; it stays in the file
log as the record of what was removed.
"""

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

MAX_JOB_BYTES = 50 * 1024 * 1024
MAX_ROWS_PER_CALL = 10_000
MAX_CALLS_PER_JOB = 100
CHUNK_BYTES = 255 * 1024  # one stored piece of an uploaded file, far below 16 MB
LEASE = timedelta(seconds=60)  # renewed at every checkpoint; a worker gone this long is presumed dead
# A file is stored from the request's spooled copy, so in seconds, and its job is touched
# every TOUCH_EVERY meanwhile: a file job untouched for RECEIVE_TIMEOUT lost its request
# with its server (as did a rows job whose first call stored nothing by then).
RECEIVE_TIMEOUT = timedelta(minutes=1)
TOUCH_EVERY = timedelta(seconds=10)
MAX_NAME_BYTES = 200


class JobStatus(str, Enum):
    RECEIVING = "RECEIVING"
    QUEUED = "QUEUED"
    PROCESSING = "PROCESSING"
    SUCCESS = "SUCCESS"
    FAILED = "FAILED"
    DELETING = "DELETING"  # its data is being removed; no worker takes it
    DELETED = "DELETED"  # its rows, problems and pieces are removed


class JobSource(str, Enum):
    FILE = "FILE"  # a tab-delimited file, stored in byte chunks
    ROWS = "ROWS"  # JSON rows from the rows mutation, stored one chunk a call


FINISHED = (JobStatus.SUCCESS, JobStatus.FAILED, JobStatus.DELETED)
GONE = (JobStatus.DELETING, JobStatus.DELETED)  # its data is removed, or being removed
# No row of these is stored, or will be: a file with the same content may be sent again.
STORES_NO_ROWS = (JobStatus.FAILED, *GONE)


@dataclass(frozen=True)
class Counts:
    """What happened to the job's rows. `rows` counts data rows, not comments or the header."""

    rows: int = 0
    linked_by_transaction: int = 0
    linked_by_visitor: int = 0
    summary_rows: int = 0
    skipped_rows: int = 0
    error_count: int = 0
    warning_count: int = 0

    def __add__(self, other: "Counts") -> "Counts":
        return Counts(*(a + b for a, b in zip(self.to_doc().values(), other.to_doc().values(), strict=True)))

    def to_doc(self) -> dict[str, int]:
        return {
            "rows": self.rows,
            "linkedByTransaction": self.linked_by_transaction,
            "linkedByVisitor": self.linked_by_visitor,
            "summaryRows": self.summary_rows,
            "skippedRows": self.skipped_rows,
            "errorCount": self.error_count,
            "warningCount": self.warning_count,
        }

    @classmethod
    def from_doc(cls, doc: dict[str, int]) -> "Counts":
        return cls(*doc.values())


@dataclass(frozen=True)
class CallKey:
    """The idempotency key of one call of a rows job: the piece it stored and a digest of
    what it sent, so a resent call is recognised and a key reused for other rows is not."""

    key: str
    chunk: int  # the piece it is stored as
    first_line: int
    digest: str


@dataclass(frozen=True)
class Lease:
    owner: str
    until: datetime


@dataclass(frozen=True)
class Job:
    id: str
    company_id: str
    rsid: str
    data_source_id: str
    name: str
    source: JobSource
    received_at: datetime
    created_by: str  # the id of the API key that uploaded it
    status: JobStatus = JobStatus.RECEIVING
    size_bytes: int = 0
    chunks: int = 0  # stored pieces: byte chunks of a file, or calls of rows
    columns: tuple[str, ...] = ()  # the header of a rows job, as its first call gave it
    encoding: str | None = None  # of a file, decided once all of it was seen
    row_errors: int = 0  # rows the check on arrival found in error: with stop-on-errors, none is ingested
    days: tuple[str, ...] = ()  # distinct days of a rows job's calls so far (a job holds at most 90)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    counts: Counts = field(default_factory=Counts)
    lines_done: int = 0  # the checkpoint: every line up to here is processed and counted
    lines_total: int = 0  # lines received so far (a file's once all of it was seen)
    lease: Lease | None = None
    call_keys: tuple[CallKey, ...] = ()  # the calls of a rows job sent with an idempotency key
    deleted_at: datetime | None = None
    deleted_by: str | None = None  # the id of the API key that deleted its data
    touched_at: datetime | None = None  # a file's last sign of life while it is stored
    version: int = 1
    # Its summary rows linked since, when their transaction was collected online. Kept beside
    # the job (store.LATE_LINKS), never in it: a worker writes the job whole while it runs.
    late_linked: int = 0

    @property
    def counts_now(self) -> Counts:
        """The counts as they stand: rows linked late moved from summary to linked by transaction."""
        late = self.late_linked
        return replace(
            self.counts, linked_by_transaction=self.counts.linked_by_transaction + late, summary_rows=self.counts.summary_rows - late
        )

    @property
    def progress(self) -> float:
        """How far processing is, 0 to 1."""
        if self.status is JobStatus.SUCCESS:
            return 1.0
        if not self.lines_total:
            return 0.0
        return min(1.0, self.lines_done / self.lines_total)

    def abandoned(self, now: datetime) -> bool:
        """A job whose upload died with its server: a file no longer being stored, or a rows
        job whose first call stored nothing (it died, or lost the race for the job's name)."""
        if self.status is not JobStatus.RECEIVING:
            return False
        if self.source is JobSource.FILE:
            return (self.touched_at or self.received_at) + RECEIVE_TIMEOUT <= now
        return self.chunks == 0 and self.received_at + RECEIVE_TIMEOUT <= now

    def due_for_touch(self, now: datetime) -> bool:
        """Whether a file being stored should show again that it is (Job.abandoned)."""
        return (self.touched_at or self.received_at) + TOUCH_EVERY <= now

    def claimable(self, now: datetime) -> bool:
        """Queued, or processing under a lease that ran out (its worker is presumed dead)."""
        if self.status is JobStatus.QUEUED:
            return True
        return self.status is JobStatus.PROCESSING and self.lease is not None and self.lease.until <= now

    def claimed(self, owner: str, now: datetime) -> "Job":
        return self.next(status=JobStatus.PROCESSING, started_at=self.started_at or now, lease=Lease(owner, now + LEASE))

    def checkpoint(self, lines_done: int, counts: Counts, now: datetime) -> "Job":
        assert self.lease is not None, "only a claimed job checkpoints"
        return self.next(lines_done=lines_done, counts=counts, lease=Lease(self.lease.owner, now + LEASE))

    def finished(self, status: JobStatus, now: datetime) -> "Job":
        return self.next(status=status, finished_at=now, lease=None)

    def call_key(self, key: str) -> CallKey | None:
        return next((c for c in self.call_keys if c.key == key), None)

    def next(self, **changes: Any) -> "Job":
        """This job changed, as the next version of the stored copy."""
        return replace(self, version=self.version + 1, **changes)

    def to_doc(self) -> dict[str, Any]:
        return {
            "_id": self.id,
            "companyId": self.company_id,
            "rsid": self.rsid,
            "dataSourceId": self.data_source_id,
            "name": self.name,
            "source": self.source.value,
            "receivedAt": self.received_at,
            "createdBy": self.created_by,
            "status": self.status.value,
            "sizeBytes": self.size_bytes,
            "chunks": self.chunks,
            "columns": list(self.columns),
            "encoding": self.encoding,
            "rowErrors": self.row_errors,
            "days": list(self.days),
            "startedAt": self.started_at,
            "finishedAt": self.finished_at,
            "counts": self.counts.to_doc(),
            "linesDone": self.lines_done,
            "linesTotal": self.lines_total,
            "lease": {"owner": self.lease.owner, "until": self.lease.until} if self.lease else None,
            "callKeys": [{"key": c.key, "chunk": c.chunk, "firstLine": c.first_line, "digest": c.digest} for c in self.call_keys],
            "deletedAt": self.deleted_at,
            "deletedBy": self.deleted_by,
            "touchedAt": self.touched_at,
            "version": self.version,
        }

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> "Job":
        lease = doc["lease"]
        return cls(
            id=doc["_id"],
            company_id=doc["companyId"],
            rsid=doc["rsid"],
            data_source_id=doc["dataSourceId"],
            name=doc["name"],
            source=JobSource(doc["source"]),
            received_at=doc["receivedAt"],
            created_by=doc["createdBy"],
            status=JobStatus(doc["status"]),
            size_bytes=doc["sizeBytes"],
            chunks=doc["chunks"],
            columns=tuple(doc["columns"]),
            encoding=doc["encoding"],
            row_errors=doc["rowErrors"],
            days=tuple(doc["days"]),
            started_at=doc["startedAt"],
            finished_at=doc["finishedAt"],
            counts=Counts.from_doc(doc["counts"]),
            lines_done=doc["linesDone"],
            lines_total=doc["linesTotal"],
            lease=Lease(lease["owner"], lease["until"]) if lease else None,
            call_keys=tuple(CallKey(c["key"], c["chunk"], c["firstLine"], c["digest"]) for c in doc.get("callKeys", ())),
            deleted_at=doc.get("deletedAt"),
            deleted_by=doc.get("deletedBy"),
            touched_at=doc.get("touchedAt"),
            version=doc["version"],
        )


def next_to_process(waiting: list[Job], blocked_sources: set[str], now: datetime) -> Job | None:
    """The job a worker should take, of the claimable ones on data sources not blocked (one
    another worker is processing, or one locked after an error). Per data source, jobs go
    in alphanumeric order of their names (DOMAIN.md); between data sources, the one that
    has waited longest goes first, and a job whose worker died before any new one."""
    candidates = [job for job in waiting if job.claimable(now) and job.data_source_id not in blocked_sources]
    if not candidates:
        return None
    resumed = [job for job in candidates if job.status is JobStatus.PROCESSING]
    if resumed:
        return resumed[0]
    first_by_source: dict[str, Job] = {}
    waited_since: dict[str, datetime] = {}
    for job in candidates:
        current = first_by_source.get(job.data_source_id)
        if current is None or (job.name, job.id) < (current.name, current.id):
            first_by_source[job.data_source_id] = job
        waited_since[job.data_source_id] = min(waited_since.get(job.data_source_id, job.received_at), job.received_at)
    source = min(first_by_source, key=lambda s: (waited_since[s], s))
    return first_by_source[source]
