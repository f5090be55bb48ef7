"""Real undo: deleting the data a job stored, so that reports (computed from the stored
rows) and the transactions' linked-row counts change at once.

The job is marked DELETING first. That write moves its version, so a worker processing
it fails its next checkpoint and stops; whatever that worker stored after the deletion
looked, it removes itself (processing._lost). Then every row, problem and stored piece of
the job goes, the transactions its rows named are counted again from the rows, and the
job is DELETED, with the key that asked and when. It stays in the file log as the record.
A deletion that stopped half way (DELETING) is finished by asking again; a DELETED job
is left as it is.
"""

from dataclasses import dataclass

from models import clock, store
from models.companies import Caller, Role
from models.jobs import Job, JobStatus
from models.keys import job_key
from models.problems import Problem, Rejected, not_found
from models.store import CompanyStore, Store
from resolvers import jobs, snapshots
from resolvers.api_keys import require

DELETE_ATTEMPTS = 5  # writes of the job lost to a worker's checkpoints before giving up
ID_BATCH = 5000  # rows deleted, or transaction ids counted again, per round trip


@dataclass(frozen=True)
class Deletion:
    job: Job
    deleted_rows: int
    already_deleted: bool  # nothing was left to delete: the job was DELETED before


async def delete_job_data(db: Store, caller: Caller | None, job_id: str) -> Deletion:
    """Remove every row the job stored (its metrics with them), its problems and pieces;
    stop it first if a worker is processing it. ADMIN."""
    admin = require(caller, Role.ADMIN)
    scope = db.company(admin.company_id)
    job = await _get(scope, job_id)
    if job.status is JobStatus.DELETED:
        return Deletion(job, 0, already_deleted=True)
    deleting = await _mark_deleting(scope, job, admin)
    removed = await remove_rows(scope, deleting)
    await scope.delete_many(store.JOB_CHUNKS, {"jobId": job.id})
    await scope.delete_many(store.UPLOAD_CONTENTS, {"jobId": job.id})  # the same file may be sent again
    await scope.delete_many(store.JOB_NAMES, {"jobId": job.id})  # a rows job still receiving: its name is free
    deleted = deleting.next(status=JobStatus.DELETED, deleted_at=clock.now())
    if not await scope.replace_versioned(store.JOBS, deleted.to_doc()):
        # Another deletion of the same job came between and finished it.
        return Deletion(await _get(scope, job_id), removed, already_deleted=False)
    return Deletion(deleted, removed, already_deleted=False)


async def remove_rows(scope: CompanyStore, job: Job) -> int:
    """Delete the job's rows and problems; count again the rows linked to every transaction
    its rows named (waiting ones included: a transaction collected meanwhile may have
    linked them). Returns how many rows went.

    A row's id is its job and line, so the rows go by id, a batch of lines at a time: both
    stores find them by their `_id` index, and no read holds more than a batch."""
    named: set[str] = set()
    removed = 0
    for start in range(1, job.lines_total + 1, ID_BATCH):
        ids = [job_key(job.id, line) for line in range(start, min(start + ID_BATCH, job.lines_total + 1))]
        named |= set(await scope.count_by(store.ROWS, {"_id": {"$in": ids}, "transactionId": {"$ne": None}}, "transactionId"))
        removed += await scope.delete_many(store.ROWS, {"_id": {"$in": ids}})
    await scope.delete_many(store.PROBLEMS, {"jobId": job.id})
    transaction_ids = sorted(named)
    for start in range(0, len(transaction_ids), ID_BATCH):
        await snapshots.count_linked_rows(scope, job.rsid, transaction_ids[start : start + ID_BATCH])
    return removed


async def _mark_deleting(scope: CompanyStore, job: Job, admin: Caller) -> Job:
    """The job marked DELETING (no worker takes it; the one holding it stops)."""
    for _ in range(DELETE_ATTEMPTS):
        if job.status is JobStatus.DELETING:
            return job  # a deletion that stopped half way, or one running now: both finish it
        marked = job.next(status=JobStatus.DELETING, lease=None, deleted_by=admin.key_id)
        if await scope.replace_versioned(store.JOBS, marked.to_doc()):
            return marked
        job = await _get(scope, job.id)  # a worker checkpointed it meanwhile
        if job.status is JobStatus.DELETED:
            return job
    raise Rejected(Problem("jobId", "CONFLICT", f"Job '{job.name}' kept changing while its deletion was being recorded; try again."))


async def _get(scope: CompanyStore, job_id: str) -> Job:
    job = await jobs.read(scope, job_id)
    if job is None:
        raise not_found("jobId", f"Job '{job_id}'")
    return job
