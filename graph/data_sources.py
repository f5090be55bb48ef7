"""Data sources in the graph: the type, its template, and the mutations that manage it."""

from collections.abc import Iterable
from datetime import datetime

import strawberry
from strawberry import relay

from graph.context import Info
from graph.errors import UserError, attempt
from graph.ids import own_id
from graph.jobs import Job, JobStatus, data_source_jobs
from graph.pagination import DEFAULT_PAGE_SIZE
from models import data_sources as source_models
from resolvers import data_sources
from resolvers.jobs import JobFilter

Category = strawberry.enum(source_models.Category, name="DataSourceCategory")
SourceType = strawberry.enum(source_models.SourceType, name="DataSourceType")
Status = strawberry.enum(source_models.Status, name="DataSourceStatus")
Integration = strawberry.enum(source_models.Integration, name="DataSourceIntegration", description="How rows are tied to online data.")


@strawberry.type
class Column:
    header: str = strawberry.field(description="The header as the file writes it, e.g. 'Evar 3'.")
    friendly_name: str


@strawberry.type
class DataSource(relay.Node):
    node_id: relay.NodeID[str]
    rsid: str
    name: str
    category: Category
    type: SourceType
    integration: Integration
    dimensions: list[Column]
    metrics: list[Column]
    stop_on_errors: bool
    status: Status
    built_in: bool = strawberry.field(description="The Web beacon: the online source, not editable.")
    created_at: datetime | None
    template_file: str | None = strawberry.field(
        description="The tab-delimited template to fill in: type and id comment, friendly names comment, header row."
    )

    locked: bool = strawberry.field(description="Stopped on errors: takes no uploads until an ADMIN restarts its processing.")
    model: strawberry.Private[source_models.DataSource]

    @strawberry.field(description="The job that stopped it, while it is locked.")
    async def locked_by_job(self, info: Info) -> Job | None:
        if self.model.locked_by is None:
            return None
        job = await info.context.jobs.load(self.model.locked_by)
        return Job.from_model(job) if job else None

    @strawberry.field(description="Its file log, newest first: by status, by exact name, received in the last lookbackDays days.")
    async def jobs(
        self,
        info: Info,
        first: int = DEFAULT_PAGE_SIZE,
        after: str | None = None,
        status: JobStatus | None = None,
        name: str | None = None,
        lookback_days: int | None = None,
    ) -> relay.Connection[Job]:
        return await data_source_jobs(info, self.model.id, first, after, JobFilter(status, name, lookback_days))

    @strawberry.field(description="Whether the report suite records Transaction IDs, as the data-sources manager shows it.")
    async def transaction_id_recording(self, info: Info) -> bool:
        suite = await info.context.report_suites.load(self.rsid)
        return suite is not None and suite.recording.enabled

    @classmethod
    def from_model(cls, source: source_models.DataSource) -> "DataSource":
        return cls(
            node_id=source.id,
            rsid=source.rsid,
            name=source.name,
            category=source.entry.category,
            type=source.type,
            integration=source.entry.integration,
            dimensions=[Column(header=c.header, friendly_name=c.friendly_name) for c in source.dimensions],
            metrics=[Column(header=c.header, friendly_name=c.friendly_name) for c in source.metrics],
            stop_on_errors=source.stop_on_errors,
            status=source.status,
            built_in=source.built_in,
            created_at=source.created_at,
            template_file=source.template_file(),
            locked=source.locked_by is not None,
            model=source,
        )

    @classmethod
    async def resolve_nodes(cls, *, info: Info, node_ids: Iterable[str], required: bool = False):
        sources = await info.context.data_sources.load_many(list(node_ids))
        return [cls.from_model(s) if s else None for s in sources]


@strawberry.input
class ColumnInput:
    header: str = strawberry.field(description="A catalogue header, e.g. 'Evar 3' or 'Event 5' (spaces required).")
    friendly_name: str | None = strawberry.field(default=None, description="Shown in the template; defaults to the header.")


@strawberry.input
class CreateDataSourceInput:
    rsid: str
    name: str
    category: Category
    type: SourceType
    dimensions: list[ColumnInput]
    metrics: list[ColumnInput]
    stop_on_errors: bool = False


@strawberry.input
class ConfigureDataSourceInput:
    id: strawberry.ID
    name: str | None = None
    dimensions: list[ColumnInput] | None = None
    metrics: list[ColumnInput] | None = None
    stop_on_errors: bool | None = None


@strawberry.input
class DeactivateDataSourceInput:
    id: strawberry.ID


@strawberry.type
class DataSourcePayload:
    data_source: DataSource | None
    user_errors: list[UserError]

    @classmethod
    def of(cls, source: source_models.DataSource | None, errors: list[UserError]) -> "DataSourcePayload":
        return cls(data_source=DataSource.from_model(source) if source else None, user_errors=errors)


def _pairs(columns: list[ColumnInput] | None) -> list[tuple[str, str | None]] | None:
    return None if columns is None else [(c.header, c.friendly_name) for c in columns]


@strawberry.type
class DataSourceMutations:
    @strawberry.mutation(description="Attach an offline feed to a report suite. ADMIN.")
    async def create_data_source(self, info: Info, input: CreateDataSourceInput) -> DataSourcePayload:
        ctx = info.context
        work = data_sources.create(
            ctx.store, ctx.caller, input.rsid, input.name, input.category, input.type,
            _pairs(input.dimensions) or [], _pairs(input.metrics) or [], input.stop_on_errors,
        )  # fmt: skip
        return DataSourcePayload.of(*await attempt(work))

    @strawberry.mutation(description="Rename, change columns or the stop-on-errors switch. ADMIN.")
    async def configure_data_source(self, info: Info, input: ConfigureDataSourceInput) -> DataSourcePayload:
        ctx = info.context
        work = data_sources.configure(
            ctx.store, ctx.caller, own_id(input.id, "DataSource"), input.name,
            _pairs(input.dimensions), _pairs(input.metrics), input.stop_on_errors,
        )  # fmt: skip
        return DataSourcePayload.of(*await attempt(work))

    @strawberry.mutation(description="Stop a data source taking uploads. ADMIN.")
    async def deactivate_data_source(self, info: Info, input: DeactivateDataSourceInput) -> DataSourcePayload:
        ctx = info.context
        return DataSourcePayload.of(*await attempt(data_sources.deactivate(ctx.store, ctx.caller, own_id(input.id, "DataSource"))))
