"""Sample data for trying the API at once: a company, a report suite, one data source of each type."""

from models.companies import Caller, Role
from models.data_sources import CATALOGUE, OFFLINE_TYPES, Integration
from models.store import Store
from resolvers import api_keys, data_sources, report_suites

DEMO_RSID = "demo.site"
_ID_COLUMN = {Integration.TRANSACTION_ID: ("transactionID", "Transaction"), Integration.VISITOR_ID: ("visitorID", "Customer")}


async def seed(db: Store) -> tuple[str, str]:
    """Seed the demo; returns (the company id, an ADMIN key to paste into GraphiQL)."""
    company, key = await api_keys.create_company(db, "Demo company")
    caller = Caller(company_id=company["_id"], role=Role.ADMIN, key_id="demo")
    await report_suites.create(db, caller, DEMO_RSID, "Demo site", time_zone="America/New_York")
    for source_type in OFFLINE_TYPES:
        entry = CATALOGUE[source_type]
        dimensions = [("Evar 1", "Campaign")] + ([_ID_COLUMN[entry.integration]] if entry.integration in _ID_COLUMN else [])
        await data_sources.create(
            db, caller, DEMO_RSID, entry.label, entry.category, source_type, dimensions, [("Event 1", "Conversions"), ("Price", "Revenue")]
        )
    return company["_id"], key
