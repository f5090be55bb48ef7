"""resolvers/snapshots.py: finding the snapshots offline rows link to (`linkable`): recorded,
within their window, of the caller's company and report suite. Recording them is tested
through collect_hits in test_resolvers_collection.py."""

from datetime import timedelta

import pytest

from models.companies import Role
from models.hits import HitIn
from resolvers import collection, report_suites, snapshots
from resolvers.api_keys import tenant
from tests.conftest import make_company
from tests.helpers import RSID, moment

pytestmark = [pytest.mark.wire, pytest.mark.usefixtures("today")]

RECORDED_AT = moment(1, "09:00")  # with the suite's 90-day window: linkable until day 91, 09:00


@pytest.fixture
async def lead(any_store, any_company):
    """Acme's snapshot lead_1 of visitor cust-42 (evar1 search), recorded at RECORDED_AT."""
    result = await collection.collect_hits(
        any_store, any_company.uploader, RSID, [HitIn("cust-42", RECORDED_AT.isoformat(), evars=((1, "search"),), transaction_id="lead_1")]
    )
    assert [s.transaction_id for s in result.snapshots] == ["lead_1"]
    return any_company


async def test_a_recorded_snapshot_is_found_by_its_id_and_an_unknown_id_is_not(any_store, lead, today):
    found = await snapshots.linkable(tenant(any_store, lead.reader, Role.READER), RSID, ["lead_1", "nope", "lead_1"], today.now)

    assert list(found) == ["lead_1"]
    assert (found["lead_1"].visitor_id, found["lead_1"].values, found["lead_1"].recorded_at) == (
        "cust-42",
        {"evar1": "search"},
        RECORDED_AT,
    )


async def test_a_snapshot_past_its_window_is_not_found_though_still_stored(any_store, lead):
    scope = tenant(any_store, lead.reader, Role.READER)
    ends = RECORDED_AT + timedelta(days=90)

    assert list(await snapshots.linkable(scope, RSID, ["lead_1"], ends - timedelta(minutes=1))) == ["lead_1"]
    assert await snapshots.linkable(scope, RSID, ["lead_1"], ends) == {}
    assert await snapshots.linkable(scope, RSID, ["lead_1"], ends + timedelta(days=1)) == {}


async def test_another_companys_snapshot_is_not_found_even_by_its_rsid_and_id(any_store, lead, today):
    other = await make_company(any_store, "Globex")

    assert await snapshots.linkable(tenant(any_store, other.admin, Role.READER), RSID, ["lead_1"], today.now) == {}


async def test_a_snapshot_is_found_only_in_its_own_report_suite(any_store, lead, today):
    await report_suites.create(any_store, lead.admin, "shop", "Shop")

    assert await snapshots.linkable(tenant(any_store, lead.reader, Role.READER), "shop", ["lead_1"], today.now) == {}
