"""The file log: jobs by id, a data source's or report suite's jobs newest first, a
job's problems in line order, and a job's progress as it changes."""

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from models import clock, store
from models.companies import Caller, Role
from models.jobs import FINISHED, Job, JobStatus
from models.problems import Rejected, invalid, not_found
from models.store import CompanyStore, Doc, PageQuery, Store
from models.upload_rows import LineProblem, Severity
from resolvers import late_linking
from resolvers.api_keys import tenant

MAX_LOOKBACK_DAYS = 3650
MAX_NAME_FILTER_CHARS = 200
PROGRESS_POLL_SECONDS = 1.0  # the test stores have no change streams: progress is read from the job


@dataclass(frozen=True)
class JobFilter:
    status: JobStatus | None = None
    name: str | None = None  # jobs of exactly this name (a file's name, or a rows job's)
    lookback_days: int | None = None  # jobs received within this many days

    def query(self, now: datetime) -> dict[str, object]:
        query: dict[str, object] = {}
        if self.status is not None:
            query["status"] = self.status.value
        if self.name is not None:
            query["name"] = self.name
        if self.lookback_days is not None:
            query["receivedAt"] = {"$gte": now - timedelta(days=self.lookback_days)}
        return query

    def check(self) -> None:
        if self.lookback_days is not None and not 1 <= self.lookback_days <= MAX_LOOKBACK_DAYS:
            raise Rejected(invalid("lookbackDays", f"lookbackDays must be 1 to {MAX_LOOKBACK_DAYS}, not {self.lookback_days}."))
        if self.name is not None and len(self.name) > MAX_NAME_FILTER_CHARS:
            raise Rejected(invalid("name", f"name filters hold at most {MAX_NAME_FILTER_CHARS} characters."))


async def read(scope: CompanyStore, job_id: str) -> Job | None:
    """The company's job as stored (without its late links), or None."""
    doc = await scope.find_one(store.JOBS, {"_id": job_id})
    return Job.from_doc(doc) if doc else None


async def get_many(db: Store, caller: Caller | None, ids: list[str]) -> list[Job | None]:
    """The caller's jobs among `ids`, in order; None where it has none."""
    scope = tenant(db, caller, Role.READER)
    docs = await scope.find_many(store.JOBS, {"_id": {"$in": list(ids)}})
    found = {job.id: job for job in await with_late_links(scope, [Job.from_doc(doc) for doc in docs])}
    return [found.get(i) for i in ids]


async def get(db: Store, caller: Caller | None, job_id: str) -> Job:
    """The caller's job, or NOT_FOUND on `jobId`."""
    (job,) = await get_many(db, caller, [job_id])
    if job is None:
        raise not_found("jobId", f"Job '{job_id}'")
    return job


async def with_late_links(scope: CompanyStore, jobs: list[Job]) -> list[Job]:
    """The jobs with their rows linked late since they were processed (see late_linking)."""
    late = await late_linking.late_links(scope, [job.id for job in jobs])
    return [replace(job, late_linked=late.get(job.id, 0)) for job in jobs]


async def page(
    db: Store, caller: Caller | None, where: dict[str, str], job_filter: JobFilter, after: str | None, first: int
) -> tuple[list[Job], bool]:
    """Jobs of a data source or report suite (`where`), newest first. Job ids sort in the
    order jobs were received, so they are the page key."""
    job_filter.check()
    scope = tenant(db, caller, Role.READER)
    docs, more = await scope.find_page(store.JOBS, where | job_filter.query(clock.now()), "_id", True, after, first)
    return await with_late_links(scope, [Job.from_doc(doc) for doc in docs]), more


@dataclass(frozen=True)
class JobsPage:
    """A page of one data source's file log, newest first (a DataLoader key)."""

    data_source_id: str
    job_filter: JobFilter
    after: str | None
    first: int


async def pages(db: Store, caller: Caller | None, wanted: list[JobsPage]) -> list[tuple[list[Job], bool]]:
    """The pages of several data sources' file logs in one round trip. Each filter must
    have passed `JobFilter.check`."""
    now = clock.now()
    queries = [
        PageQuery.keyset(store.JOBS, {"dataSourceId": p.data_source_id} | p.job_filter.query(now), "_id", True, p.after, p.first)
        for p in wanted
    ]
    scope = tenant(db, caller, Role.READER)
    found = await scope.find_pages(queries)
    linked = iter(await with_late_links(scope, [Job.from_doc(doc) for docs, _ in found for doc in docs]))  # one read for all pages
    return [([next(linked) for _ in docs], more) for docs, more in found]


async def problems_page(
    db: Store, caller: Caller | None, job: Job, after: str | None, first: int
) -> tuple[list[tuple[str, LineProblem]], bool]:
    """A job's problems in line order, each with its key (the page cursor)."""
    docs, more = await tenant(db, caller, Role.READER).find_page(store.PROBLEMS, {"jobId": job.id}, "_id", False, after, first)
    return [(doc["_id"], _problem(doc)) for doc in docs], more


def _problem(doc: Doc) -> LineProblem:
    return LineProblem(doc["line"], doc["column"], doc["code"], doc["message"], Severity(doc["severity"]))


async def progress(db: Store, caller: Caller | None, job_id: str) -> AsyncIterator[Job]:
    """The caller's job now, then each time it changes, until it has ended (SUCCESS, FAILED
    or DELETED). NOT_FOUND at once for a job of another company, or none."""
    job = await get(db, caller, job_id)
    yield job
    while job.status not in FINISHED:
        await asyncio.sleep(PROGRESS_POLL_SECONDS)
        now = await get(db, caller, job_id)
        if (now.version, now.late_linked) != (job.version, job.late_linked):
            job = now
            yield job
