"""Sample data for trying the API at once: a company, a report suite, one data source of
each type, online hits with a transaction, and two processed uploads linked to them."""

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from models.companies import Caller, Role
from models.data_sources import CATALOGUE, OFFLINE_TYPES, DataSource, Integration, SourceType
from models.hits import HitIn
from models.store import Store
from resolvers import api_keys, collection, data_sources, processing, report_suites, uploads

DEMO_RSID = "demo.site"
DEMO_ZONE = "America/New_York"
_ID_COLUMN = {Integration.TRANSACTION_ID: ("transactionID", "Transaction"), Integration.VISITOR_ID: ("visitorID", "Customer")}


async def seed(db: Store) -> tuple[str, dict[Role, str]]:
    """Seed the demo; returns the company id and a key of each role, to try them in GraphiQL."""
    company, admin_key = await api_keys.create_company(db, "Demo company")
    keys = {Role.ADMIN: admin_key}
    for role in (Role.UPLOADER, Role.READER):
        keys[role] = await api_keys.create_api_key(db, company["_id"], role, f"Demo {role.value} key")
    caller = Caller(company_id=company["_id"], role=Role.ADMIN, key_id="demo")
    await report_suites.create(db, caller, DEMO_RSID, "Demo site", time_zone=DEMO_ZONE)
    await report_suites.set_recording(db, caller, DEMO_RSID, True)
    sources = {source_type: await _create_source(db, caller, source_type) for source_type in OFFLINE_TYPES}
    # Dated by the real clock, as the embedded store's TTL monitor is.
    yesterday = datetime.now(ZoneInfo(DEMO_ZONE)).replace(hour=10, minute=0, second=0, microsecond=0) - timedelta(days=1)
    await collection.collect_hits(db, caller, DEMO_RSID, _hits(yesterday))
    await _upload(db, caller, sources[SourceType.GENERIC_TRANSACTION_ID], "leads.txt", _leads(yesterday))
    await _upload(db, caller, sources[SourceType.CALL_CENTER_VISITOR_ID], "calls.txt", _calls(yesterday))
    worker = processing.Worker(db)
    while await worker.run_once():
        pass
    return company["_id"], keys


async def _create_source(db: Store, caller: Caller, source_type: SourceType) -> DataSource:
    entry = CATALOGUE[source_type]
    dimensions = [("Evar 3", "Deal stage"), *([_ID_COLUMN[entry.integration]] if entry.integration in _ID_COLUMN else [])]
    metrics = [("Event 5", "Deals closed"), ("Price", "Revenue")]
    return await data_sources.create(db, caller, DEMO_RSID, entry.label, entry.category, source_type, dimensions, metrics)


def _hits(day: datetime) -> list[HitIn]:
    """A visitor from an e-mail campaign who leaves a lead, and a customer who browses plans."""
    at = [(day + timedelta(minutes=m)).isoformat() for m in (0, 5, 30, 40)]
    return [
        HitIn("v-1", at[0], evars=((1, "email"),), dimensions={"pageName": "home", "trackingCode": "spring-sale"}),
        HitIn(
            "v-1", at[1], evars=((2, "sofa"),), events=(("event1", 1.0),), dimensions={"pageName": "lead-form"}, transaction_id="lead_100"
        ),
        HitIn("cust-42", at[2], evars=((1, "search"), (2, "fibre-500")), dimensions={"pageName": "plans"}),
        HitIn("cust-42", at[3], evars=((2, "fibre-1000"),), dimensions={"pageName": "plans"}),
    ]


def _leads(day: datetime) -> str:
    later = day + timedelta(hours=5)
    return (
        "Date\tEvar 3\tEvent 5\tPrice\ttransactionID\n"
        f"{later:%m/%d/%Y/%H/%M/%S}\tclosed-won\t1\t1200\tlead_100\n"
        f"{later:%m/%d/%Y}\tclosed-won\t1\t300\tlead_999\n"
    )


def _calls(day: datetime) -> str:
    later = day + timedelta(hours=6)
    return f"Date\tEvar 3\tEvent 5\tPrice\tvisitorID\n{later:%m/%d/%Y/%H/%M/%S}\tretention-call\t1\t0\tcust-42\n"


async def _upload(db: Store, caller: Caller, source: DataSource, name: str, content: str) -> None:
    async def pieces() -> AsyncIterator[bytes]:
        yield content.encode()

    await uploads.upload_file(db, caller, source.id, name, pieces())
