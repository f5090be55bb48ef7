"""Exactly once in the store: idempotency keys and file contents, each held by one job.

Both are documents whose `_id` is the natural key (models/exactly_once.py), taken by an
insert: of two uploads that race, the unique `_id` index lets one have it, and the other
finds the job that holds it. A key or content whose job can no longer answer for it (the
key's 24 hours are over, its job vanished as a duplicate or was abandoned mid-upload, or
the content's job stored no rows or had them deleted) is taken over by the upload asking.
"""

import contextlib
from datetime import datetime

from models import store
from models.exactly_once import KeyClaim, content_doc, key_doc
from models.jobs import STORES_NO_ROWS, Job
from models.keys import content_key, upload_key
from models.problems import Problem, Rejected
from models.store import CompanyStore, DuplicateKey
from resolvers import jobs

CLAIM_ATTEMPTS = 4  # rounds lost to uploads taking over the same key at once


async def held_key(scope: CompanyStore, data_source_id: str, key: str, now: datetime) -> tuple[KeyClaim, Job | None] | None:
    """The live claim of an idempotency key and the job it names (None if that vanished)."""
    doc = await scope.find_one(store.UPLOAD_KEYS, {"_id": upload_key(data_source_id, key)})
    if doc is None:
        return None
    claim = KeyClaim.from_doc(doc)
    if not claim.live(now):
        return None
    return claim, await jobs.read(scope, claim.job_id)


async def claim_key(scope: CompanyStore, data_source_id: str, key: str, job_id: str, now: datetime) -> tuple[KeyClaim, Job] | None:
    """Take the key for the file job `job_id` (None: taken), or return the claim and job
    of the earlier upload that holds it."""
    doc_id = upload_key(data_source_id, key)
    for _ in range(CLAIM_ATTEMPTS):
        try:
            await scope.insert(store.UPLOAD_KEYS, key_doc(scope.company_id, data_source_id, key, job_id, now))
            return None
        except DuplicateKey:
            pass
        doc = await scope.find_one(store.UPLOAD_KEYS, {"_id": doc_id})
        if doc is None:
            continue  # the TTL monitor removed it meanwhile
        claim = KeyClaim.from_doc(doc)
        holder = await jobs.read(scope, claim.job_id) if claim.live(now) else None
        if holder is not None and not holder.abandoned(now):
            return claim, holder
        if holder is not None:
            await drop_abandoned(scope, holder)
        # Free: only the claim read is deleted, so of several uploads taking it over one wins.
        await scope.delete_many(store.UPLOAD_KEYS, {"_id": doc_id, "jobId": claim.job_id})
    raise Rejected(Problem("idempotencyKey", "CONFLICT", "Other uploads with this idempotency key kept coming at once; send it again."))


async def remember_key(scope: CompanyStore, data_source_id: str, key: str, job_id: str, digest: str, now: datetime) -> None:
    """Keep the key of a rows call stored in `job_id`. Its job holds it already (Job.call_keys),
    so a twin call that stored it first leaves nothing to do."""
    with contextlib.suppress(DuplicateKey):
        await scope.insert(store.UPLOAD_KEYS, key_doc(scope.company_id, data_source_id, key, job_id, now, digest))


async def claim_content(scope: CompanyStore, data_source_id: str, sha256: str, job_id: str, now: datetime) -> Job | None:
    """Take the file content for `job_id` (None: taken), or return the earlier job holding
    it: one whose rows are stored, or will be."""
    doc_id = content_key(data_source_id, sha256)
    for _ in range(CLAIM_ATTEMPTS):
        try:
            await scope.insert(store.UPLOAD_CONTENTS, content_doc(scope.company_id, data_source_id, sha256, job_id))
            return None
        except DuplicateKey:
            pass
        doc = await scope.find_one(store.UPLOAD_CONTENTS, {"_id": doc_id})
        if doc is None:
            continue  # its job's data was deleted meanwhile
        holder = await jobs.read(scope, doc["jobId"])
        if holder is not None and holder.status not in STORES_NO_ROWS and not holder.abandoned(now):
            return holder
        taken = content_doc(scope.company_id, data_source_id, sha256, job_id, version=doc["version"] + 1)
        if await scope.replace_versioned(store.UPLOAD_CONTENTS, taken):
            return None
    raise Rejected(Problem("file", "CONFLICT", "Uploads of the same file kept coming at once; send it again."))


async def drop_abandoned(scope: CompanyStore, job: Job) -> None:
    """Remove a job whose upload died mid-way (Job.abandoned), and its pieces, unless it
    moved on since it was read. Its key and its name, if any, are then free again."""
    if await scope.delete_many(store.JOBS, {"_id": job.id, "version": job.version}):
        await scope.delete_many(store.JOB_CHUNKS, {"jobId": job.id})
        await scope.delete_many(store.JOB_NAMES, {"jobId": job.id})  # a rows job's name is free again
