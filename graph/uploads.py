"""Offline uploads in the graph: a file over the multipart request spec, rows as JSON,
the same checks as a dry run, and the restart of a data source that stopped on errors."""

from collections.abc import AsyncIterator
from typing import cast

import strawberry
from starlette.datastructures import UploadFile
from strawberry.file_uploads import Upload

from graph.context import Info
from graph.data_sources import DataSourcePayload
from graph.errors import UserError, attempt
from graph.ids import own_id
from graph.jobs import Job, Problem, count_fields
from models import jobs as job_models
from models.data_sources import DataSource as DataSourceModel
from resolvers import uploads

READ_BYTES = 1024 * 1024


IDEMPOTENCY_KEY = (
    "Sent again with the same key to the same data source within 24 hours, the upload stores nothing new "
    "and returns the first one's job (a UUID per upload will do)."
)


@strawberry.input
class UploadDataSourceFileInput:
    data_source_id: strawberry.ID
    file: Upload = strawberry.field(description="A tab-delimited file, at most 50 MB.")
    name: str | None = strawberry.field(
        default=None,
        description="The job's name in the file log (jobs of a data source are processed in name order); default the file's name.",
    )
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)
    allow_duplicate: bool = strawberry.field(
        default=False,
        description="Store the file even if a job of this data source holds the same content (else DUPLICATE_UPLOAD).",
    )


@strawberry.input
class UploadDataSourceRowsInput:
    data_source_id: strawberry.ID
    job_name: str = strawberry.field(description="Calls with the same name add to one job, in the order sent.")
    columns: list[str] = strawberry.field(
        description="Catalogue headers, Date first, as a file's header row: e.g. ['Date', 'Evar 1', 'Event 1']."
    )
    rows: list[list[str]] = strawberry.field(
        description=f"At most {job_models.MAX_ROWS_PER_CALL:,} rows a call; a job takes at most {job_models.MAX_CALLS_PER_JOB} calls and 50 MB."
    )
    finished: bool = strawberry.field(default=False, description="The last call of the job: it is processed once this arrives.")
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="One key per call (not per job): the same call sent again with it within 24 hours adds nothing and "
        "returns the job; the key sent with other rows is refused IDEMPOTENCY_KEY_REUSED.",
    )


@strawberry.input
class ValidateDataSourceFileInput:
    data_source_id: strawberry.ID
    file: Upload


@strawberry.input
class ValidateDataSourceRowsInput:
    data_source_id: strawberry.ID
    columns: list[str]
    rows: list[list[str]]


@strawberry.input
class RestartDataSourceProcessingInput:
    data_source_id: strawberry.ID


@strawberry.type
class JobPayload:
    job: Job | None = strawberry.field(description="The job; with DUPLICATE_UPLOAD, the earlier job holding the same content.")
    user_errors: list[UserError]


@strawberry.type(description="What an upload would come to. Nothing is stored.")
class ValidationPayload:
    problems: list[Problem] = strawberry.field(description="Every problem, in line order (the first 1,000).")
    file_failed: bool = strawberry.field(description="A problem with the whole file: an upload would store no row.")
    row_count: int
    linked_by_transaction: int
    linked_by_visitor: int
    summary_rows: int
    skipped_rows: int
    error_count: int
    warning_count: int
    user_errors: list[UserError]

    @classmethod
    def of(cls, validation: uploads.Validation | None, errors: list[UserError]) -> "ValidationPayload":
        counts = validation.counts if validation else job_models.Counts()
        return cls(
            problems=[Problem.of(p) for p in validation.problems] if validation else [],
            file_failed=validation.file_failed if validation else False,
            **count_fields(counts),
            user_errors=errors,
        )


async def _read(upload: Upload) -> AsyncIterator[bytes]:
    """The uploaded file from its start, a piece at a time (never all of it in memory).
    Strawberry's ASGI view hands an upload over as Starlette's spooled UploadFile."""
    file = cast(UploadFile, upload)
    await file.seek(0)
    while piece := await file.read(READ_BYTES):
        yield piece


def _job_payload(job: job_models.Job | None, errors: list[UserError]) -> JobPayload:
    return JobPayload(job=Job.from_model(job) if job else None, user_errors=errors)


@strawberry.type
class UploadMutations:
    @strawberry.mutation(
        description="Upload a tab-delimited file (GraphQL multipart request) as a new job; returns it at once. UPLOADER or ADMIN."
    )
    async def upload_data_source_file(self, info: Info, input: UploadDataSourceFileInput) -> JobPayload:
        ctx = info.context

        earlier: job_models.Job | None = None

        async def work() -> job_models.Job:
            nonlocal earlier
            filename = getattr(input.file, "filename", None)
            source_id = own_id(input.data_source_id, "DataSource")
            try:
                return await uploads.upload_file(
                    ctx.store, ctx.caller, source_id, filename, _read(input.file), input.name, input.idempotency_key, input.allow_duplicate
                )
            except uploads.DuplicateUpload as duplicate:
                earlier = duplicate.earlier  # answered as the payload's job, beside the userError naming it
                raise

        job, errors = await attempt(work())
        return _job_payload(job or earlier, errors)

    @strawberry.mutation(description="Send rows as JSON; calls with the same job name make one job. UPLOADER or ADMIN.")
    async def upload_data_source_rows(self, info: Info, input: UploadDataSourceRowsInput) -> JobPayload:
        ctx = info.context

        async def work() -> job_models.Job:
            source_id = own_id(input.data_source_id, "DataSource")
            return await uploads.upload_rows(
                ctx.store, ctx.caller, source_id, input.job_name, input.columns, input.rows, input.finished, input.idempotency_key
            )

        return _job_payload(*await attempt(work()))

    @strawberry.mutation(description="Check a file as an upload would, and store nothing. UPLOADER or ADMIN.")
    async def validate_data_source_file(self, info: Info, input: ValidateDataSourceFileInput) -> ValidationPayload:
        ctx = info.context

        async def work() -> uploads.Validation:
            source_id = own_id(input.data_source_id, "DataSource")
            return await uploads.validate_file(ctx.store, ctx.caller, source_id, _read(input.file), _read(input.file))

        return ValidationPayload.of(*await attempt(work()))

    @strawberry.mutation(description="Check rows as an upload would, and store nothing. UPLOADER or ADMIN.")
    async def validate_data_source_rows(self, info: Info, input: ValidateDataSourceRowsInput) -> ValidationPayload:
        ctx = info.context

        async def work() -> uploads.Validation:
            return await uploads.validate_rows(ctx.store, ctx.caller, own_id(input.data_source_id, "DataSource"), input.columns, input.rows)

        return ValidationPayload.of(*await attempt(work()))

    @strawberry.mutation(description="Unlock a data source that stopped on errors, so it takes uploads again. ADMIN.")
    async def restart_data_source_processing(self, info: Info, input: RestartDataSourceProcessingInput) -> DataSourcePayload:
        ctx = info.context

        async def work() -> DataSourceModel:
            return await uploads.restart_processing(ctx.store, ctx.caller, own_id(input.data_source_id, "DataSource"))

        return DataSourcePayload.of(*await attempt(work()))
