"""Report suites: create, configure, list, and the Transaction ID recording switch."""

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from models import clock, store
from models.companies import Caller, Role
from models.keys import report_suite_key
from models.problems import Problem, Rejected, not_found
from models.report_suites import EvarSetting, Recording, ReportSuite, check_evar, check_rsid, check_settings
from models.store import DuplicateKey, Store
from resolvers.api_keys import require, tenant

UPDATE_ATTEMPTS = 3


async def get(db: Store, caller: Caller | None, rsid: str) -> ReportSuite:
    scope = tenant(db, caller, Role.READER)
    doc = await scope.find_one(store.REPORT_SUITES, {"_id": report_suite_key(scope.company_id, rsid)})
    if doc is None:
        raise not_found("rsid", f"Report suite '{rsid}'")
    return ReportSuite.from_doc(doc)


async def get_many(db: Store, caller: Caller | None, rsids: list[str]) -> list[ReportSuite | None]:
    """The caller's report suites among `rsids`, in order; None where it has none."""
    scope = tenant(db, caller, Role.READER)
    docs = await scope.find_many(store.REPORT_SUITES, {"_id": {"$in": [report_suite_key(scope.company_id, r) for r in rsids]}})
    by_rsid = {doc["rsid"]: ReportSuite.from_doc(doc) for doc in docs}
    return [by_rsid.get(rsid) for rsid in rsids]


async def page(db: Store, caller: Caller | None, after: str | None, first: int) -> tuple[list[ReportSuite], bool]:
    docs, more = await tenant(db, caller, Role.READER).find_page(store.REPORT_SUITES, {}, "rsid", False, after, first)
    return [ReportSuite.from_doc(doc) for doc in docs], more


async def create(db: Store, caller: Caller | None, rsid: str, name: str, **settings: Any) -> ReportSuite:
    scope = tenant(db, caller, Role.ADMIN)
    problems = check_rsid(rsid) + check_settings(name=name, **settings)
    if problems:
        raise Rejected(*problems)
    given = {k: v for k, v in settings.items() if v is not None}
    suite = ReportSuite(rsid=rsid, company_id=scope.company_id, name=name.strip(), created_at=clock.now(), **given)
    try:
        await scope.insert(store.REPORT_SUITES, suite.to_doc())
    except DuplicateKey:
        # rsids are unique per company: TAKEN says only that the caller's company holds it.
        raise Rejected(Problem("rsid", "TAKEN", f"Your company has a report suite '{rsid}' already; choose another rsid.")) from None
    return suite


async def update(db: Store, caller: Caller | None, rsid: str, evars: list[EvarSetting] | None = None, **settings: Any) -> ReportSuite:
    admin = require(caller, Role.ADMIN)
    problems = check_settings(**settings)
    seen: set[int] = set()
    for index, setting in enumerate(evars or []):
        problems += check_evar(index, setting, seen)
        seen.add(setting.number)
    if problems:
        raise Rejected(*problems)
    given = {k: v.strip() if k == "name" else v for k, v in settings.items() if v is not None}
    return await _change(db, admin, rsid, lambda suite: replace(suite, **given).with_evars(evars or []))


async def set_recording(db: Store, caller: Caller | None, rsid: str, enabled: bool) -> ReportSuite:
    """Switch Transaction ID recording; existing snapshots keep linking either way."""
    admin = require(caller, Role.ADMIN)

    def switch(suite: ReportSuite) -> ReportSuite:
        if suite.recording.enabled == enabled:
            return suite
        return replace(suite, recording=Recording(enabled, clock.now(), admin.key_id))

    return await _change(db, admin, rsid, switch)


async def _change(db: Store, caller: Caller, rsid: str, change: Callable[[ReportSuite], ReportSuite]) -> ReportSuite:
    """Read, change and write back one report suite, retrying if another write came between."""
    scope = tenant(db, caller, Role.ADMIN)
    for _ in range(UPDATE_ATTEMPTS):
        suite = await get(db, caller, rsid)
        changed = change(suite)
        if changed == suite:
            return suite
        changed = replace(changed, version=suite.version + 1)
        if await scope.replace_versioned(store.REPORT_SUITES, changed.to_doc()):
            return changed
    raise Rejected(Problem("rsid", "CONFLICT", f"Report suite '{rsid}' kept changing under this update; try again."))
