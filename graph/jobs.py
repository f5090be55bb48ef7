"""The file log in the graph: jobs, their counts and progress, their problems, deleting
a job's data, and a job's progress as a subscription."""

from collections.abc import AsyncGenerator, Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import relay

from graph.context import Info
from graph.errors import UserError, attempt
from graph.ids import own_id
from graph.pagination import DEFAULT_PAGE_SIZE, connection, decode_cursor, encode_cursor, page_size
from models import jobs as job_models
from models import upload_rows
from resolvers import job_deletion, jobs

if TYPE_CHECKING:
    from graph.data_sources import DataSource

JobStatus = strawberry.enum(job_models.JobStatus, name="JobStatus")


Severity = strawberry.enum(upload_rows.Severity, name="ProblemSeverity", description="ERROR skips the row; WARNING says what to look at.")


@strawberry.type(description="What was wrong and where: a 1-based file line (or row of a rows job) and column.")
class Problem:
    line: int
    column: int | None = strawberry.field(description="The 1-based field; null when the problem is the whole line.")
    code: str
    message: str
    severity: Severity

    @classmethod
    def of(cls, problem: upload_rows.LineProblem) -> "Problem":
        return cls(line=problem.line, column=problem.column, code=problem.code, message=problem.message, severity=problem.severity)


@strawberry.type
class ProblemEdge:
    cursor: str
    node: Problem


@strawberry.type
class ProblemConnection:
    edges: list[ProblemEdge]
    page_info: relay.PageInfo


@strawberry.type(description="One upload to a data source: one line of its file log.")
class Job(relay.Node):
    node_id: relay.NodeID[str]
    name: str = strawberry.field(description="The file's name, or the rows job's name.")
    status: JobStatus
    row_count: int = strawberry.field(description="Data rows: not comments, blank lines or the header.")
    linked_by_transaction: int = strawberry.field(description="Rows linked to a transaction snapshot, late links included.")
    linked_by_visitor: int
    summary_rows: int = strawberry.field(description="Rows stored with their own values only.")
    late_linked_rows: int = strawberry.field(
        description="Of those linked by transaction, the rows stored as summary rows and linked when their transaction was collected."
    )
    skipped_rows: int = strawberry.field(description="Rows not stored, for an error or a warning on them.")
    error_count: int
    warning_count: int
    size_bytes: int
    received_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    progress: float = strawberry.field(description="0 to 1: the share of the job's lines processed.")
    lines_done: int = strawberry.field(description="Lines processed so far.")
    deleted_at: datetime | None = strawberry.field(description="When its data was deleted (deleteJobData).")
    deleted_by: str | None = strawberry.field(description="The id of the API key that deleted its data.")
    model: strawberry.Private[job_models.Job]

    @strawberry.field(description="Every problem, in line order.")
    async def problems(self, info: Info, first: int = DEFAULT_PAGE_SIZE, after: str | None = None) -> ProblemConnection:
        ctx = info.context
        items, more = await jobs.problems_page(ctx.store, ctx.caller, self.model, decode_cursor(after), page_size(first))
        edges = [ProblemEdge(cursor=encode_cursor(key), node=Problem.of(p)) for key, p in items]
        return ProblemConnection(
            edges=edges,
            page_info=relay.PageInfo(
                has_next_page=more,
                has_previous_page=False,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
        )

    @strawberry.field
    async def data_source(self, info: Info) -> Annotated["DataSource", strawberry.lazy("graph.data_sources")] | None:
        from graph.data_sources import DataSource

        source = await info.context.data_sources.load(self.model.data_source_id)
        return DataSource.from_model(source) if source else None

    @classmethod
    def from_model(cls, job: job_models.Job) -> "Job":
        return cls(
            node_id=job.id,
            name=job.name,
            status=job.status,
            **count_fields(job.counts_now),
            late_linked_rows=job.late_linked,
            size_bytes=job.size_bytes,
            received_at=job.received_at,
            started_at=job.started_at,
            finished_at=job.finished_at,
            progress=job.progress,
            lines_done=job.lines_done,
            deleted_at=job.deleted_at,
            deleted_by=job.deleted_by,
            model=job,
        )

    @classmethod
    async def resolve_nodes(cls, *, info: Info, node_ids: Iterable[str], required: bool = False):
        found = await info.context.jobs.load_many(list(node_ids))
        return [cls.from_model(j) if j else None for j in found]


def count_fields(counts: job_models.Counts) -> dict[str, int]:
    """A job's counts as Job and ValidationPayload name them."""
    return {
        "row_count": counts.rows,
        "linked_by_transaction": counts.linked_by_transaction,
        "linked_by_visitor": counts.linked_by_visitor,
        "summary_rows": counts.summary_rows,
        "skipped_rows": counts.skipped_rows,
        "error_count": counts.error_count,
        "warning_count": counts.warning_count,
    }


async def jobs_connection(
    info: Info, where: dict[str, str], first: int, after: str | None, job_filter: jobs.JobFilter
) -> relay.Connection[Job]:
    """A page of jobs, newest first, of a data source or report suite (`where`)."""
    ctx = info.context
    items, more = await jobs.page(ctx.store, ctx.caller, where, job_filter, decode_cursor(after), page_size(first))
    return connection(items, more, lambda j: j.id, Job.from_model)


async def data_source_jobs(
    info: Info, data_source_id: str, first: int, after: str | None, job_filter: jobs.JobFilter
) -> relay.Connection[Job]:
    """A data source's file log through the request's DataLoader: the logs of all the data
    sources of a page are read in one round trip."""
    job_filter.check()
    page = jobs.JobsPage(data_source_id, job_filter, decode_cursor(after), page_size(first))
    items, more = await info.context.job_pages.load(page)
    return connection(items, more, lambda j: j.id, Job.from_model)


@strawberry.input
class DeleteJobDataInput:
    job_id: strawberry.ID


@strawberry.type
class DeleteJobDataPayload:
    job: Job | None = strawberry.field(description="The job, DELETED: it stays in the file log as the record.")
    deleted_row_count: int = strawberry.field(description="The rows this call removed, their metrics with them.")
    already_deleted: bool = strawberry.field(description="The job's data was deleted before: this call changed nothing.")
    user_errors: list[UserError]


@strawberry.type
class JobMutations:
    @strawberry.mutation(
        description="Remove every row a job stored (its metrics with them), its problems and stored file; the transactions' "
        "linked-row counts follow at once. A job being processed is stopped first. Asking again changes nothing. ADMIN."
    )
    async def delete_job_data(self, info: Info, input: DeleteJobDataInput) -> DeleteJobDataPayload:
        ctx = info.context
        deletion, errors = await attempt(job_deletion.delete_job_data(ctx.store, ctx.caller, own_id(input.job_id, "Job")))
        if deletion is None:
            return DeleteJobDataPayload(job=None, deleted_row_count=0, already_deleted=False, user_errors=errors)
        return DeleteJobDataPayload(
            job=Job.from_model(deletion.job),
            deleted_row_count=deletion.deleted_rows,
            already_deleted=deletion.already_deleted,
            user_errors=[],
        )


@strawberry.type
class JobSubscriptions:
    @strawberry.subscription(
        description="The job now, then each time its status, lines done or counts change, until it has ended "
        "(SUCCESS, FAILED or DELETED). Over graphql-transport-ws, with the API key in connection_init's payload: "
        '{"Authorization": "Bearer <key>"}. READER or more.'
    )
    async def job_progress(self, info: Info, job_id: strawberry.ID) -> AsyncGenerator[Job, None]:
        ctx = info.context
        async for job in jobs.progress(ctx.store, ctx.caller, own_id(job_id, "Job")):
            ctx.renew_loaders()  # the data source it points to may have changed since the last update
            yield Job.from_model(job)
