"""resolvers/profiles.py: a visitor's state as of a time, for offline rows that carry a
visitor id (`states_as_of`), with EXAMPLES.md example 2. Its rules are tested in
test_profiles.py; the current states collection loads, through collect_hits."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from models.companies import Role
from models.hits import HitIn
from models.report_suites import EvarSetting, Expiration
from resolvers import collection, profiles, report_suites
from resolvers.api_keys import tenant
from tests.conftest import make_company
from tests.helpers import DAY_ZERO

pytestmark = [pytest.mark.wire, pytest.mark.usefixtures("today")]

NEW_YORK = ZoneInfo("America/New_York")


def local(day: int, hhmm: str) -> datetime:
    """`hhmm` on New York's calendar, on day `day` after DAY_ZERO."""
    hours, minutes = map(int, hhmm.split(":"))
    return datetime.combine((DAY_ZERO + timedelta(days=day)).date(), time(hours, minutes), NEW_YORK)


@pytest.fixture
async def telco(any_store, any_company):
    """EXAMPLES.md example 2: cust-42's hits at 09:00 (evar1 search, evar2 fibre-500) and
    09:10 (evar2 fibre-1000) on day 1, in the suite `telco` (New York). The 09:00 hit also
    sets eVar 3, which expires with its hit, and a page name."""
    await report_suites.create(any_store, any_company.admin, "telco", "Telco", time_zone="America/New_York")
    await report_suites.update(any_store, any_company.admin, "telco", [EvarSetting(3, Expiration.HIT)])
    hits = [
        HitIn(
            "cust-42",
            local(1, "09:00").isoformat(),
            evars=((1, "search"), (2, "fibre-500"), (3, "plans-button")),
            dimensions={"pageName": "plans"},
        ),
        HitIn("cust-42", local(1, "09:10").isoformat(), evars=((2, "fibre-1000"),)),
    ]
    result = await collection.collect_hits(any_store, any_company.uploader, "telco", hits)
    assert [o.collected for o in result.outcomes] == [True, True]
    return await report_suites.get(any_store, any_company.reader, "telco")


async def as_of(any_store, caller, suite, *wanted: tuple[str, datetime]) -> dict:
    return await profiles.states_as_of(tenant(any_store, caller, Role.READER), suite, list(wanted))


async def test_two_days_later_the_state_is_the_one_after_the_last_hit_with_no_later_expiration(any_store, any_company, telco):
    call = ("cust-42", local(3, "14:00"))

    assert await as_of(any_store, any_company.reader, telco, call) == {call: {"evar1": "search", "evar2": "fibre-1000"}}


async def test_at_09_05_the_state_is_the_one_after_the_09_00_hit_without_what_expires_with_it(any_store, any_company, telco):
    call = ("cust-42", local(1, "09:05"))

    assert await as_of(any_store, any_company.reader, telco, call) == {call: {"evar1": "search", "evar2": "fibre-500"}}


async def test_an_unknown_visitor_has_no_state_and_a_known_one_before_its_first_hit_an_empty_one(any_store, any_company, telco):
    unknown, before = ("cust-77", local(3, "14:30")), ("cust-42", local(1, "08:59"))

    assert await as_of(any_store, any_company.reader, telco, unknown, before) == {unknown: None, before: {}}


async def test_one_call_answers_each_visitor_and_time_once_reading_hits_only_between_first_and_last(any_store, any_company, telco):
    later, between, unknown = ("cust-42", local(3, "14:00")), ("cust-42", local(1, "09:05")), ("cust-77", local(1, "09:05"))

    trips = any_store.round_trips
    only_states = await as_of(any_store, any_company.reader, telco, later, unknown, later)
    assert any_store.round_trips - trips == 1  # the visitors, in one read
    trips = any_store.round_trips
    with_history = await as_of(any_store, any_company.reader, telco, later, between, unknown)
    assert any_store.round_trips - trips == 2  # and the 09:00 hit

    assert only_states == {later: {"evar1": "search", "evar2": "fibre-1000"}, unknown: None}
    assert with_history == {
        later: {"evar1": "search", "evar2": "fibre-1000"},
        between: {"evar1": "search", "evar2": "fibre-500"},
        unknown: None,
    }


async def test_another_company_reads_no_state_of_the_visitor_even_given_the_suite(any_store, any_company, telco):
    other = await make_company(any_store, "Globex")
    call = ("cust-42", local(3, "14:00"))

    assert await as_of(any_store, other.reader, telco, call) == {call: None}
