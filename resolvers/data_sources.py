"""Data sources: create, configure, deactivate, list (the built-in Web beacon first)."""

from collections.abc import Sequence
from dataclasses import replace

from models import clock, store
from models.companies import Caller, Role
from models.data_sources import (
    CATALOGUE,
    OFFLINE_TYPES,
    WEB_BEACON_PREFIX,
    Category,
    DataSource,
    SourceType,
    Status,
    check_columns,
    web_beacon,
)
from models.keys import new_id
from models.problems import Problem, Rejected, invalid, not_found
from models.report_suites import ReportSuite
from models.store import CompanyStore, Store
from models.text import check_name, with_article
from resolvers import report_suites
from resolvers.api_keys import tenant

Columns = Sequence[tuple[str, str | None]]


async def get(db: Store, caller: Caller | None, data_source_id: str, field: str = "id") -> DataSource:
    (source,) = await get_many(db, caller, [data_source_id])
    if source is None:
        raise not_found(field, "Data source")
    return source


async def get_many(db: Store, caller: Caller | None, ids: list[str]) -> list[DataSource | None]:
    """The caller's data sources among `ids`, in order; None where it has none."""
    scope = tenant(db, caller, Role.READER)
    beacon_rsids = [i.removeprefix(WEB_BEACON_PREFIX) for i in ids if i.startswith(WEB_BEACON_PREFIX)]
    suites = await report_suites.get_many(db, caller, beacon_rsids) if beacon_rsids else []
    beacons = [web_beacon(s.rsid, s.company_id) for s in suites if s]
    found = {beacon.id: beacon for beacon in beacons}
    stored = [i for i in ids if not i.startswith(WEB_BEACON_PREFIX)]
    if stored:
        docs = await scope.find_many(store.DATA_SOURCES, {"_id": {"$in": stored}})
        found |= {doc["_id"]: DataSource.from_doc(doc) for doc in docs}
    return [found.get(i) for i in ids]


async def page(db: Store, caller: Caller | None, suite: ReportSuite, after: str | None, first: int) -> tuple[list[DataSource], bool]:
    """A page of a report suite's data sources (the suite as the caller read it): the Web
    beacon, then the rest in creation order."""
    scope = tenant(db, caller, Role.READER)
    beacon = [] if after is not None or first == 0 else [web_beacon(suite.rsid, scope.company_id)]
    stored_after = None if after is None or after.startswith(WEB_BEACON_PREFIX) else after
    docs, more = await scope.find_page(store.DATA_SOURCES, {"rsid": suite.rsid}, "_id", False, stored_after, first - len(beacon))
    return beacon + [DataSource.from_doc(doc) for doc in docs], more


async def create(
    db: Store,
    caller: Caller | None,
    rsid: str,
    name: str,
    category: Category,
    type: SourceType,
    dimensions: Columns,
    metrics: Columns,
    stop_on_errors: bool = False,
) -> DataSource:
    scope = tenant(db, caller, Role.ADMIN)
    await report_suites.get(db, caller, rsid)
    columns = check_columns(CATALOGUE[type], dimensions, metrics)
    problems = check_name("name", name) + _check_type(category, type) + columns.problems
    if problems:
        raise Rejected(*problems)
    source = DataSource(
        id=new_id(),
        company_id=scope.company_id,
        rsid=rsid,
        name=name.strip(),
        type=type,
        created_at=clock.now(),
        dimensions=tuple(columns.dimensions),
        metrics=tuple(columns.metrics),
        stop_on_errors=stop_on_errors,
    )
    await scope.insert(store.DATA_SOURCES, source.to_doc())
    return source


async def configure(
    db: Store,
    caller: Caller | None,
    data_source_id: str,
    name: str | None = None,
    dimensions: Columns | None = None,
    metrics: Columns | None = None,
    stop_on_errors: bool | None = None,
) -> DataSource:
    """Rename, change columns or the stop-on-errors switch; what is not given stays."""
    scope = tenant(db, caller, Role.ADMIN)
    source = await _editable(db, caller, data_source_id)
    problems = check_name("name", name) if name is not None else []
    given_dimensions = dimensions if dimensions is not None else [(c.header, c.friendly_name) for c in source.dimensions]
    given_metrics = metrics if metrics is not None else [(c.header, c.friendly_name) for c in source.metrics]
    columns = check_columns(source.entry, given_dimensions, given_metrics)
    problems += columns.problems
    if problems:
        raise Rejected(*problems)
    changed = replace(
        source,
        name=source.name if name is None else name.strip(),
        dimensions=tuple(columns.dimensions),
        metrics=tuple(columns.metrics),
        stop_on_errors=source.stop_on_errors if stop_on_errors is None else stop_on_errors,
    )
    return await _write(scope, source, changed)


async def deactivate(db: Store, caller: Caller | None, data_source_id: str) -> DataSource:
    scope = tenant(db, caller, Role.ADMIN)
    source = await _editable(db, caller, data_source_id)
    return await _write(scope, source, replace(source, status=Status.DEACTIVATED))


async def _editable(db: Store, caller: Caller | None, data_source_id: str) -> DataSource:
    source = await get(db, caller, data_source_id)
    if source.built_in:
        raise Rejected(Problem("id", "READ_ONLY", "The Web beacon is built in: it cannot be edited or deactivated."))
    return source


async def _write(scope: CompanyStore, source: DataSource, changed: DataSource) -> DataSource:
    if changed == source:
        return source
    changed = replace(changed, version=source.version + 1)
    if not await scope.replace_versioned(store.DATA_SOURCES, changed.to_doc()):
        raise Rejected(Problem("id", "CONFLICT", "The data source changed while this was being applied; try again."))
    return changed


def _check_type(category: Category, type: SourceType) -> list[Problem]:
    if type not in OFFLINE_TYPES:
        return [invalid("type", f"'{type.value}' is built in; choose one of {', '.join(t.value for t in OFFLINE_TYPES)}.")]
    entry = CATALOGUE[type]
    if entry.category is category:
        return []
    fitting = [t.value for t in OFFLINE_TYPES if CATALOGUE[t].category is category]
    allowed = ", ".join(fitting) or "none: it is built in"
    return [invalid("type", f"'{type.value}' is not {with_article(category.value)} type; {category.value} types: {allowed}.")]
