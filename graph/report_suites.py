"""Report suites in the graph: the type, its queries and the settings mutations."""

from collections.abc import Iterable
from datetime import datetime

import strawberry
from strawberry import relay

from graph.context import Info
from graph.data_sources import DataSource
from graph.errors import UserError, attempt
from graph.jobs import Job, JobStatus, jobs_connection
from graph.pagination import DEFAULT_PAGE_SIZE, connection, decode_cursor, page_size
from graph.reports import ReportInput, ReportResult
from graph.reports import report as run_report
from graph.visitors import Transaction, TransactionStatus, Visitor
from models import fields
from models import report_suites as suite_models
from resolvers import data_sources, report_suites, visitors
from resolvers.jobs import JobFilter

Expiration = strawberry.enum(suite_models.Expiration, name="EvarExpiration")
Allocation = strawberry.enum(suite_models.Allocation, name="EvarAllocation")


@strawberry.type
class TransactionIdRecording:
    enabled: bool
    changed_at: datetime | None = strawberry.field(description="When the switch last moved; null if never.")
    changed_by: str | None = strawberry.field(description="The id of the API key that last moved it.")


@strawberry.type
class EvarSetting:
    number: int
    expiration: Expiration
    days: int | None = strawberry.field(description="With expiration DAYS: how many days a value persists.")
    allocation: Allocation

    @classmethod
    def from_model(cls, setting: suite_models.EvarSetting) -> "EvarSetting":
        return cls(number=setting.number, expiration=setting.expiration, days=setting.days, allocation=setting.allocation)


@strawberry.type
class ReportSuite(relay.Node):
    rsid: relay.NodeID[str]
    name: str
    time_zone: str = strawberry.field(
        description="IANA time zone: the suite's days and the dates of uploads. A change applies to data collected after it."
    )
    currency: str = strawberry.field(description="ISO 4217 base currency.")
    visit_timeout_minutes: int
    transaction_id_window_days: int = strawberry.field(
        description="How long a transaction snapshot links offline rows. A change applies to snapshots recorded after it."
    )
    transaction_id_recording: TransactionIdRecording
    late_transaction_linking: bool = strawberry.field(
        description="Summary rows stored because their transaction id was not collected yet are linked when it is, "
        "within the Transaction ID window."
    )
    created_at: datetime
    model: strawberry.Private[suite_models.ReportSuite]

    @strawberry.field(name="rsid", description="The report suite id.")
    def rsid_field(self) -> str:
        return self.rsid

    @strawberry.field(description="The eVars whose settings differ from the defaults (VISIT, MOST_RECENT).")
    def evar_settings(self) -> list[EvarSetting]:
        return [EvarSetting.from_model(s) for _, s in sorted(self.model.evars.items())]

    @strawberry.field(description="The settings in force for one eVar, defaults included.")
    def evar_setting(self, number: int) -> EvarSetting | None:
        if not 1 <= number <= fields.EVARS:
            return None
        return EvarSetting.from_model(self.model.evar(number))

    @strawberry.field(description="The Web beacon first, then the offline data sources in creation order.")
    async def data_sources(self, info: Info, first: int = DEFAULT_PAGE_SIZE, after: str | None = None) -> relay.Connection[DataSource]:
        ctx = info.context
        items, more = await data_sources.page(ctx.store, ctx.caller, self.model, decode_cursor(after), page_size(first))
        return connection(items, more, lambda s: s.id, DataSource.from_model)

    @strawberry.field(description="The file log of all its data sources, newest first: by status, exact name, lookback days.")
    async def jobs(
        self,
        info: Info,
        first: int = DEFAULT_PAGE_SIZE,
        after: str | None = None,
        status: JobStatus | None = None,
        name: str | None = None,
        lookback_days: int | None = None,
    ) -> relay.Connection[Job]:
        return await jobs_connection(info, {"rsid": self.rsid}, first, after, JobFilter(status, name, lookback_days))

    @strawberry.field
    async def visitor(self, info: Info, visitor_id: str) -> Visitor | None:
        state = await visitors.get_visitor(info.context.store, info.context.caller, self.rsid, visitor_id)
        return Visitor.from_model(state) if state else None

    @strawberry.field(description="Ordered by visitor id.")
    async def visitors(self, info: Info, first: int = DEFAULT_PAGE_SIZE, after: str | None = None) -> relay.Connection[Visitor]:
        ctx = info.context
        items, more = await visitors.page_visitors(ctx.store, ctx.caller, self.rsid, decode_cursor(after), page_size(first))
        return connection(items, more, lambda v: v.visitor_id, Visitor.from_model)

    @strawberry.field
    async def transaction(self, info: Info, transaction_id: str) -> Transaction | None:
        snapshot = await visitors.get_transaction(info.context.store, info.context.caller, self.rsid, transaction_id)
        return Transaction.from_model(snapshot) if snapshot else None

    @strawberry.field(description="Ordered by transaction id; status is judged at the time of the query.")
    async def transactions(
        self,
        info: Info,
        first: int = DEFAULT_PAGE_SIZE,
        after: str | None = None,
        status: TransactionStatus | None = None,
    ) -> relay.Connection[Transaction]:
        ctx = info.context
        items, more = await visitors.page_transactions(
            ctx.store, ctx.caller, self.rsid, decode_cursor(after), page_size(first), status=status
        )
        return connection(items, more, lambda s: s.transaction_id, Transaction.from_model)

    @strawberry.field(description="A dimension broken down by metrics over the suite's days, online and offline side by side. READER.")
    async def report(self, info: Info, input: ReportInput) -> ReportResult:
        return await run_report(info, self.model, input)

    @classmethod
    def from_model(cls, suite: suite_models.ReportSuite) -> "ReportSuite":
        recording = suite.recording
        return cls(
            rsid=suite.rsid,
            name=suite.name,
            time_zone=suite.time_zone,
            currency=suite.currency,
            visit_timeout_minutes=suite.visit_timeout_minutes,
            transaction_id_window_days=suite.transaction_id_window_days,
            transaction_id_recording=TransactionIdRecording(
                enabled=recording.enabled, changed_at=recording.changed_at, changed_by=recording.changed_by
            ),
            late_transaction_linking=suite.late_transaction_linking,
            created_at=suite.created_at,
            model=suite,
        )

    @classmethod
    async def resolve_nodes(cls, *, info: Info, node_ids: Iterable[str], required: bool = False):
        suites = await info.context.report_suites.load_many(list(node_ids))
        return [cls.from_model(s) if s else None for s in suites]


@strawberry.type
class ReportSuiteQueries:
    @strawberry.field(description="The caller's company's report suites, ordered by rsid.")
    async def report_suites(self, info: Info, first: int = DEFAULT_PAGE_SIZE, after: str | None = None) -> relay.Connection[ReportSuite]:
        ctx = info.context
        items, more = await report_suites.page(ctx.store, ctx.caller, decode_cursor(after), page_size(first))
        return connection(items, more, lambda s: s.rsid, ReportSuite.from_model)

    @strawberry.field
    async def report_suite(self, info: Info, rsid: str) -> ReportSuite | None:
        return ReportSuite.from_model(await report_suites.get(info.context.store, info.context.caller, rsid))


@strawberry.input
class CreateReportSuiteInput:
    rsid: str = strawberry.field(description="Unique within your company; lowercase letters, digits, '.' and '-'; at most 40 characters.")
    name: str
    time_zone: str | None = strawberry.field(default=None, description="IANA name; default UTC.")
    currency: str | None = strawberry.field(default=None, description="ISO 4217; default USD.")
    visit_timeout_minutes: int | None = strawberry.field(default=None, description="1 to 720; default 30.")
    transaction_id_window_days: int | None = strawberry.field(default=None, description="1 to 761; default 90.")
    late_transaction_linking: bool | None = strawberry.field(default=None, description="Default on.")


@strawberry.input
class EvarSettingInput:
    number: int = strawberry.field(description="1 to 250.")
    expiration: Expiration = suite_models.Expiration.VISIT
    days: int | None = strawberry.field(default=None, description="With expiration DAYS only: 1 to 761.")
    allocation: Allocation = suite_models.Allocation.MOST_RECENT


@strawberry.input
class UpdateReportSuiteInput:
    rsid: str
    name: str | None = None
    time_zone: str | None = None
    currency: str | None = None
    visit_timeout_minutes: int | None = None
    transaction_id_window_days: int | None = None
    late_transaction_linking: bool | None = None
    evars: list[EvarSettingInput] | None = strawberry.field(default=None, description="Only the eVars to change.")


@strawberry.input
class SetTransactionIdRecordingInput:
    rsid: str
    enabled: bool


@strawberry.type
class ReportSuitePayload:
    report_suite: ReportSuite | None
    user_errors: list[UserError]

    @classmethod
    def of(cls, suite: suite_models.ReportSuite | None, errors: list[UserError]) -> "ReportSuitePayload":
        return cls(report_suite=ReportSuite.from_model(suite) if suite else None, user_errors=errors)


def _settings(input: CreateReportSuiteInput | UpdateReportSuiteInput) -> dict:
    return {
        "time_zone": input.time_zone,
        "currency": input.currency,
        "visit_timeout_minutes": input.visit_timeout_minutes,
        "transaction_id_window_days": input.transaction_id_window_days,
        "late_transaction_linking": input.late_transaction_linking,
    }


@strawberry.type
class ReportSuiteMutations:
    @strawberry.mutation(description="ADMIN.")
    async def create_report_suite(self, info: Info, input: CreateReportSuiteInput) -> ReportSuitePayload:
        ctx = info.context
        work = report_suites.create(ctx.store, ctx.caller, input.rsid, input.name, **_settings(input))
        return ReportSuitePayload.of(*await attempt(work))

    @strawberry.mutation(description="Change settings; what is not given stays. ADMIN.")
    async def update_report_suite(self, info: Info, input: UpdateReportSuiteInput) -> ReportSuitePayload:
        ctx = info.context
        evars = [suite_models.EvarSetting(e.number, e.expiration, e.days, e.allocation) for e in input.evars or []]
        work = report_suites.update(ctx.store, ctx.caller, input.rsid, evars, name=input.name, **_settings(input))
        return ReportSuitePayload.of(*await attempt(work))

    @strawberry.mutation(description="Switch Transaction ID recording on or off. ADMIN.")
    async def set_transaction_id_recording(self, info: Info, input: SetTransactionIdRecordingInput) -> ReportSuitePayload:
        ctx = info.context
        return ReportSuitePayload.of(*await attempt(report_suites.set_recording(ctx.store, ctx.caller, input.rsid, input.enabled)))
