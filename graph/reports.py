"""Reports in the graph: `ReportSuite.report`, its input, rows and totals."""

from datetime import date

import strawberry
from strawberry import relay

from graph.context import Info
from graph.errors import UserError, attempt
from graph.ids import own_id
from graph.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, decode_cursor, encode_cursor, page_info
from models import clock
from models import reports as report_models
from models.report_suites import ReportSuite
from resolvers import reports

Granularity = strawberry.enum(report_models.Granularity, name="ReportGranularity")
Sources = strawberry.enum(report_models.Sources, name="ReportSources", description="Hits (ONLINE), offline rows (OFFLINE), or both.")
Participation = strawberry.enum(
    report_models.Participation,
    name="ReportParticipation",
    description=(
        "NONE: each hit or row credits its own values. VISIT: each visit's amounts are credited to every value seen in it "
        "(offline rows are in no visit). VISITOR: each visitor's amounts in the range, its linked and visitor-ID offline rows "
        "included, are credited to every value seen for it (on its hits and on those rows)."
    ),
)


@strawberry.type(description="One metric's amount: from hits (online), from offline rows, and both.")
class MetricAmount:
    metric: str
    online: float
    offline: float
    total: float

    @classmethod
    def of(cls, amount: report_models.Amount) -> "MetricAmount":
        return cls(metric=amount.metric, online=amount.online, offline=amount.offline, total=amount.total)


@strawberry.type
class ReportRow:
    value: str = strawberry.field(description=f"The dimension's value; '{report_models.UNSPECIFIED}' where hits and rows had none.")
    unspecified: bool = strawberry.field(
        description=f"Whether this row stands for no value (rather than a value '{report_models.UNSPECIFIED}')."
    )
    day: date | None = strawberry.field(description="The report suite's day, with granularity DAY; null with TOTAL.")
    metrics: list[MetricAmount] = strawberry.field(description="In the order the input names them.")


@strawberry.type
class ReportRowEdge:
    cursor: str
    node: ReportRow


@strawberry.type
class ReportRowConnection:
    edges: list[ReportRowEdge]
    page_info: relay.PageInfo


@strawberry.type
class Report:
    dimension: str
    metrics: list[str]
    from_: date = strawberry.field(name="from", description="The first day, in the report suite's time zone.")
    to: date = strawberry.field(description="The last day, included.")
    granularity: Granularity
    sources: Sources
    participation: Participation
    rows: ReportRowConnection = strawberry.field(
        description="Rows with any amount: by the first metric's total, highest first; ties by day (DAY), then value (Unspecified first)."
    )
    totals: list[MetricAmount] = strawberry.field(
        description="What the range holds, without participation; visits and visitors count each visit and visitor once."
    )


@strawberry.type
class ReportResult:
    report: Report | None
    user_errors: list[UserError]


@strawberry.input(description="What to report. Names are the field catalogue's: evar1, trackingCode, event5, revenue, visits, ...")
class ReportInput:
    dimension: str
    metrics: list[str] = strawberry.field(description=f"1 to {report_models.MAX_METRICS}; rows are sorted by the first.")
    from_: date | None = strawberry.field(name="from", default=None, description="Default: 29 days before `to`.")
    to: date | None = strawberry.field(default=None, description="Default: today in the report suite's time zone.")
    granularity: Granularity = report_models.Granularity.TOTAL
    sources: Sources = report_models.Sources.ALL
    participation: Participation = report_models.Participation.NONE
    data_source_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Only the offline rows of these data sources; default all. Online data is chosen with sources."
    )
    first: int = DEFAULT_PAGE_SIZE
    after: str | None = None


async def report(info: Info, suite: ReportSuite, input: ReportInput) -> ReportResult:
    """`ReportSuite.report`: what is wrong with the input comes back as userErrors."""
    found, errors = await attempt(_run(info, suite, input))
    return ReportResult(report=found, user_errors=errors)


async def _run(info: Info, suite: ReportSuite, input: ReportInput) -> Report:
    ctx = info.context
    request = _request(suite, input)
    found = await reports.report(ctx.store, ctx.caller, suite, request, MAX_PAGE_SIZE)
    return Report(
        dimension=request.dimension,
        metrics=list(request.metrics),
        from_=request.first_day,
        to=request.last_day,
        granularity=request.granularity,
        sources=request.sources,
        participation=request.participation,
        rows=_rows(found),
        totals=[MetricAmount.of(a) for a in found.totals],
    )


def _request(suite: ReportSuite, input: ReportInput) -> report_models.ReportRequest:
    after = decode_cursor(input.after, int)
    last_day = input.to or date.fromisoformat(suite.local_day(clock.now()))
    return report_models.ReportRequest(
        dimension=input.dimension,
        metrics=tuple(input.metrics),
        first_day=input.from_ or report_models.default_days(last_day)[0],
        last_day=last_day,
        granularity=input.granularity,
        sources=input.sources,
        participation=input.participation,
        data_source_ids=None if input.data_source_ids is None else tuple(own_id(i, "DataSource") for i in input.data_source_ids),
        first=input.first,
        offset=0 if after is None else after + 1,
    )


def _rows(found: report_models.Report) -> ReportRowConnection:
    offset = found.request.offset
    edges = [ReportRowEdge(cursor=encode_cursor(offset + index), node=_row(row)) for index, row in enumerate(found.rows)]
    return ReportRowConnection(edges=edges, page_info=page_info(edges, found.more, has_previous=offset > 0))


def _row(row: report_models.Row) -> ReportRow:
    return ReportRow(
        value=report_models.UNSPECIFIED if row.value is None else row.value,
        unspecified=row.value is None,
        day=row.day,
        metrics=[MetricAmount.of(a) for a in row.amounts],
    )
