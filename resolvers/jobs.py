"""The file log: jobs by id, a data source's or report suite's jobs newest first, and a
job's problems in line order."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from models import clock, store
from models.companies import Caller, Role
from models.jobs import Job, JobStatus
from models.problems import Rejected, invalid
from models.store import Doc, PageQuery, Store, keyset
from models.upload_rows import LineProblem, Severity
from resolvers.api_keys import tenant

MAX_LOOKBACK_DAYS = 3650
MAX_NAME_FILTER_CHARS = 200


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


async def get_many(db: Store, caller: Caller | None, ids: list[str]) -> list[Job | None]:
    """The caller's jobs among `ids`, in order; None where it has none."""
    docs = await tenant(db, caller, Role.READER).find_many(store.JOBS, {"_id": {"$in": list(ids)}})
    found = {doc["_id"]: Job.from_doc(doc) for doc in docs}
    return [found.get(i) for i in ids]


async def page(
    db: Store, caller: Caller | None, where: dict[str, str], job_filter: JobFilter, after: str | None, first: int
) -> tuple[list[Job], bool]:
    """Jobs of a data source or report suite (`where`), newest first. Job ids sort in the
    order jobs were received, so they are the page key."""
    job_filter.check()
    scope = tenant(db, caller, Role.READER)
    docs, more = await scope.find_page(store.JOBS, where | job_filter.query(clock.now()), "_id", True, after, first)
    return [Job.from_doc(doc) for doc in docs], more


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
        PageQuery(
            store.JOBS, keyset({"dataSourceId": p.data_source_id} | p.job_filter.query(now), "_id", True, p.after), (("_id", -1),), p.first
        )
        for p in wanted
    ]
    found = await tenant(db, caller, Role.READER).find_pages(queries)
    return [([Job.from_doc(doc) for doc in docs], more) for docs, more in found]


async def problems_page(
    db: Store, caller: Caller | None, job: Job, after: str | None, first: int
) -> tuple[list[tuple[str, LineProblem]], bool]:
    """A job's problems in line order, each with its key (the page cursor)."""
    docs, more = await tenant(db, caller, Role.READER).find_page(store.PROBLEMS, {"jobId": job.id}, "_id", False, after, first)
    return [(doc["_id"], _problem(doc)) for doc in docs], more


def _problem(doc: Doc) -> LineProblem:
    return LineProblem(doc["line"], doc["column"], doc["code"], doc["message"], Severity(doc["severity"]))
