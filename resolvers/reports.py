"""Reports: one dimension by metrics over a report suite's days, computed in the store."""

from models import reports
from models.companies import Caller, Role
from models.data_sources import WEB_BEACON_PREFIX
from models.problems import Problem, Rejected, invalid
from models.report_suites import ReportSuite
from models.store import Store
from resolvers import data_sources
from resolvers.api_keys import tenant


async def report(db: Store, caller: Caller | None, suite: ReportSuite, request: reports.ReportRequest, max_page: int) -> reports.Report:
    """The report `request` asks of `suite`: every problem with it at once, or the page of
    rows and the totals, from the hits and offline rows stored now."""
    scope = tenant(db, caller, Role.READER)
    problems = reports.check(request, max_page) + await _check_data_sources(db, caller, suite, request.data_source_ids)
    if problems:
        raise Rejected(*problems)
    collection, pipeline = reports.pipeline(suite.rsid, request)
    return reports.read(request, await scope.aggregate(collection, pipeline))


async def _check_data_sources(db: Store, caller: Caller | None, suite: ReportSuite, ids: tuple[str, ...] | None) -> list[Problem]:
    """Each id must name an offline data source of this report suite."""
    if ids is None:
        return []
    if len(ids) > reports.MAX_DATA_SOURCES:
        return [invalid("dataSourceIds", f"name at most {reports.MAX_DATA_SOURCES} data sources, not {len(ids)}.")]
    found = await data_sources.get_many(db, caller, list(ids))
    problems = []
    for index, (wanted, source) in enumerate(zip(ids, found, strict=True)):
        where = f"dataSourceIds.{index}"
        if wanted.startswith(WEB_BEACON_PREFIX) and source is not None:
            problems.append(invalid(where, "the Web beacon is the online data: choose it with sources (ONLINE or ALL)."))
        elif source is None or source.rsid != suite.rsid:
            problems.append(Problem(where, "NOT_FOUND", f"Data source {index + 1} of dataSourceIds is no data source of '{suite.rsid}'."))
    return problems
