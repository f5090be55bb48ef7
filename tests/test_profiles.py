"""models/profiles.py: visitor state, hit by hit: visits, eVar expiration and allocation,
and the values in force at each hit (what its events are credited to)."""

from datetime import UTC, datetime, timedelta

from models.hits import CheckedHit, HitIn, StoredHit, check_hit
from models.profiles import VisitorState, apply_hit, needs_history, values_as_of
from models.report_suites import Allocation, EvarSetting, Expiration, ReportSuite

START = datetime(2031, 3, 2, 15, 0, tzinfo=UTC)


def suite(*settings: EvarSetting, visit_timeout_minutes: int = 30) -> ReportSuite:
    base = ReportSuite("rs", "company", "RS", START, visit_timeout_minutes=visit_timeout_minutes)
    return base.with_evars(list(settings))


def hit(at: timedelta, index: int = 0, events: dict | None = None, **values: str) -> CheckedHit:
    """A hit `at` after START carrying `values` (evar1=..., pageName=...)."""
    return CheckedHit(index, "v-1", START + at, dict(values), events or {}, (), None)


def play(rs: ReportSuite, *hits: CheckedHit) -> tuple[VisitorState, list]:
    """Apply hits in order from a new visitor; the final state and each AppliedHit."""
    state = VisitorState("rs", "company", "v-1")
    applied = []
    for h in hits:
        state, a = apply_hit(rs, state, h)
        applied.append(a)
    return state, applied


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


def hours(n: float) -> timedelta:
    return timedelta(hours=n)


def days(n: float) -> timedelta:
    return timedelta(days=n)


# --- visits ---------------------------------------------------------------------------


def test_the_first_hit_starts_visit_1_and_the_visitor_history():
    state, [a] = play(suite(), hit(minutes(0)))
    assert a.visit_number == 1
    assert a.seq == 1
    assert state.visit_count == 1
    assert state.seq == 1
    assert state.first_seen == state.last_seen == START


def test_a_gap_under_the_timeout_continues_the_visit_and_equal_to_it_starts_a_new_one():
    state, applied = play(
        suite(),
        hit(minutes(0)),
        hit(minutes(29)),  # 29 min gap: same visit
        hit(minutes(58)),  # 29 min after the last hit, 58 after the first: still the same visit
        hit(minutes(88)),  # exactly 30 min: new visit
        hit(minutes(88 + 29) + timedelta(seconds=59)),  # just under: continues
        hit(minutes(200)),  # long gap: new visit
    )
    assert [a.visit_number for a in applied] == [1, 1, 1, 2, 2, 3]
    assert [a.seq for a in applied] == [1, 2, 3, 4, 5, 6]
    assert state.visit_count == 3
    assert state.first_seen == START
    assert state.last_seen == START + minutes(200)


def test_the_visit_timeout_is_the_report_suites():
    rs = suite(visit_timeout_minutes=5)
    _, applied = play(rs, hit(minutes(0)), hit(minutes(4)), hit(minutes(9)), hit(minutes(15)))
    assert [a.visit_number for a in applied] == [1, 1, 2, 3]


def test_hits_at_the_same_moment_are_one_visit():
    _, applied = play(suite(), hit(minutes(0)), hit(minutes(0)))
    assert [a.visit_number for a in applied] == [1, 1]


def test_visits_continue_from_a_stored_state():
    rs = suite()
    state, _ = play(rs, hit(minutes(0)), hit(minutes(60)))
    again = VisitorState.from_doc(state.to_doc())
    after, a = apply_hit(rs, again, hit(minutes(70)))
    assert (a.seq, a.visit_number) == (3, 2)
    after, a = apply_hit(rs, after, hit(minutes(120)))
    assert (a.seq, a.visit_number) == (4, 3)
    assert after.first_seen == START


# --- eVar expiration ------------------------------------------------------------------


def test_visit_expiration_is_the_default_the_value_persists_in_the_visit_and_is_gone_in_the_next():
    state, applied = play(
        suite(),
        hit(minutes(0), evar1="email"),
        hit(minutes(10)),
        hit(minutes(45)),  # 35 min gap: visit 2
    )
    assert [a.in_force.get("evar1") for a in applied] == ["email", "email", None]
    assert "evar1" not in state.values


def test_hit_expiration_keeps_the_value_on_its_hit_only_and_does_not_persist_it():
    rs = suite(EvarSetting(7, Expiration.HIT))
    after_it, [on_it] = play(rs, hit(minutes(0), evar7="clicked", evar1="kept"))
    assert on_it.in_force == {"evar7": "clicked", "evar1": "kept"}
    assert set(after_it.values) == {"evar1"}  # not in the profile, even right after its hit

    _, applied = play(rs, hit(minutes(0), evar7="clicked"), hit(minutes(1)))
    assert "evar7" not in applied[1].in_force


def test_never_expiration_survives_visits_and_long_gaps():
    rs = suite(EvarSetting(2, Expiration.NEVER))
    state, applied = play(
        rs,
        hit(minutes(0), evar2="gold"),
        hit(days(1)),
        hit(days(400)),
    )
    assert [a.visit_number for a in applied] == [1, 2, 3]
    assert [a.in_force.get("evar2") for a in applied] == ["gold", "gold", "gold"]
    assert state.values["evar2"].value == "gold"


def test_days_expiration_keeps_the_value_before_n_days_across_visits_and_drops_it_after():
    rs = suite(EvarSetting(3, Expiration.DAYS, days=7))
    _, applied = play(
        rs,
        hit(minutes(0), evar3="promo"),
        hit(days(3)),  # another visit, within 7 days
        hit(days(7) - minutes(1)),  # still within
        hit(days(7) + minutes(1)),  # more than 7 days after it was set: gone
    )
    assert [a.visit_number for a in applied] == [1, 2, 3, 3]
    assert [a.in_force.get("evar3") for a in applied] == ["promo", "promo", "promo", None]


def test_days_expiration_with_most_recent_counts_from_the_latest_setting():
    rs = suite(EvarSetting(3, Expiration.DAYS, days=2))
    _, applied = play(
        rs,
        hit(minutes(0), evar3="a"),
        hit(days(1), evar3="a"),  # set again: its two days start over
        hit(days(2) + hours(12)),  # 1.5 days after the second setting
        hit(days(3) + hours(1)),  # more than 2 days after it
    )
    assert [a.in_force.get("evar3") for a in applied] == ["a", "a", "a", None]


def test_each_evar_expires_by_its_own_setting():
    rs = suite(EvarSetting(1, Expiration.HIT), EvarSetting(2, Expiration.NEVER), EvarSetting(4, Expiration.DAYS, days=1))
    _, applied = play(
        rs,
        hit(minutes(0), evar1="h", evar2="n", evar3="v", evar4="d"),
        hit(minutes(5)),
        hit(hours(2)),  # next visit
        hit(days(2)),
    )
    assert applied[0].in_force == {"evar1": "h", "evar2": "n", "evar3": "v", "evar4": "d"}
    assert applied[1].in_force == {"evar2": "n", "evar3": "v", "evar4": "d"}
    assert applied[2].in_force == {"evar2": "n", "evar4": "d"}
    assert applied[3].in_force == {"evar2": "n"}


# --- allocation -----------------------------------------------------------------------


def test_most_recent_allocation_takes_each_new_value():
    _, applied = play(
        suite(),
        hit(minutes(0), evar1="email"),
        hit(minutes(1), evar1="search"),
        hit(minutes(2)),
    )
    assert [a.in_force["evar1"] for a in applied] == ["email", "search", "search"]


def test_original_allocation_keeps_the_first_value_until_it_expires_then_a_new_one_takes():
    rs = suite(EvarSetting(5, allocation=Allocation.ORIGINAL))  # expires with the visit
    state, applied = play(
        rs,
        hit(minutes(0), evar5="first"),
        hit(minutes(1), evar5="second"),  # ignored: the original holds
        hit(minutes(2)),
        hit(minutes(60), evar5="third"),  # new visit: the original has expired, a new one takes
        hit(minutes(61), evar5="fourth"),
    )
    assert [a.in_force["evar5"] for a in applied] == ["first", "first", "first", "third", "third"]
    assert state.values["evar5"].value == "third"
    assert state.values["evar5"].set_at == START + minutes(60)


def test_original_allocation_with_days_expiration_waits_for_the_days():
    rs = suite(EvarSetting(6, Expiration.DAYS, days=7, allocation=Allocation.ORIGINAL))
    _, applied = play(
        rs,
        hit(minutes(0), evar6="a"),
        hit(days(6), evar6="b"),  # within 7 days of "a": "a" holds and is not renewed
        hit(days(7), evar6="c"),  # "a" expired: "c" takes
        hit(days(8)),
    )
    assert [a.in_force["evar6"] for a in applied] == ["a", "a", "c", "c"]


def test_original_allocation_with_never_expiration_keeps_the_first_value_for_good():
    rs = suite(EvarSetting(8, Expiration.NEVER, allocation=Allocation.ORIGINAL))
    _, applied = play(rs, hit(minutes(0), evar8="first"), hit(days(300), evar8="later"))
    assert [a.in_force["evar8"] for a in applied] == ["first", "first"]


# --- named dimensions -------------------------------------------------------------------


def test_tracking_code_persists_for_the_visit_and_the_most_recent_wins():
    _, applied = play(
        suite(),
        hit(minutes(0), trackingCode="spring-sale"),
        hit(minutes(5)),
        hit(minutes(10), trackingCode="newsletter"),
        hit(minutes(15)),
        hit(minutes(60)),  # next visit
    )
    assert [a.in_force.get("trackingCode") for a in applied] == ["spring-sale", "spring-sale", "newsletter", "newsletter", None]


def test_marketing_channel_and_detail_persist_for_the_visit():
    _, applied = play(
        suite(),
        hit(minutes(0), marketingChannel="Email", marketingChannelDetail="march"),
        hit(minutes(5)),
        hit(minutes(40)),
    )
    assert applied[1].in_force == {"marketingChannel": "Email", "marketingChannelDetail": "march"}
    assert applied[2].in_force == {}


def test_the_referrer_is_the_one_the_visit_came_from():
    _, applied = play(
        suite(),
        hit(minutes(0), referrer="https://search.example/"),
        hit(minutes(5), referrer="https://other.example/"),
        hit(minutes(60), referrer="https://news.example/"),
    )
    assert [a.in_force["referrer"] for a in applied] == ["https://search.example/", "https://search.example/", "https://news.example/"]


def test_page_name_category_products_and_zip_belong_to_their_hit_only():
    state, applied = play(
        suite(),
        hit(minutes(0), pageName="home", category="sofas", products="sofa-1", zip="10001"),
        hit(minutes(1)),
        hit(minutes(2), pageName="cart"),
    )
    assert applied[0].in_force == {"pageName": "home", "category": "sofas", "products": "sofa-1", "zip": "10001"}
    assert applied[1].in_force == {}
    assert applied[2].in_force == {"pageName": "cart"}
    assert state.values == {}


# --- what events are credited to --------------------------------------------------------


def test_a_hits_events_are_credited_to_the_values_in_force_at_that_hit():
    rs = suite(EvarSetting(9, Expiration.HIT))
    _, applied = play(
        rs,
        hit(minutes(0), pageName="home", trackingCode="spring-sale", evar1="email"),
        hit(minutes(5), events={"event1": 1.0}, pageName="lead-form", evar2="sofa", evar9="button"),
        hit(minutes(6), events={"orders": 1.0, "revenue": 120.0}, evar1="search"),
    )
    lead, order = applied[1], applied[2]
    assert lead.hit.events == {"event1": 1.0}
    assert lead.in_force == {"evar1": "email", "evar2": "sofa", "evar9": "button", "trackingCode": "spring-sale", "pageName": "lead-form"}
    # the next hit changed evar1: its revenue goes to "search", not "email"; the HIT eVar and page are gone
    assert order.in_force == {"evar1": "search", "evar2": "sofa", "trackingCode": "spring-sale"}


def test_in_force_is_per_hit_later_hits_do_not_change_an_earlier_ones_values():
    _, applied = play(suite(), hit(minutes(0), evar1="a"), hit(minutes(1), evar1="b"))
    assert applied[0].in_force == {"evar1": "a"}
    assert applied[1].in_force == {"evar1": "b"}


def test_the_profile_keeps_when_and_in_which_visit_each_value_was_set():
    state, _ = play(
        suite(EvarSetting(2, Expiration.NEVER)),
        hit(minutes(0), evar2="gold"),
        hit(minutes(90), evar1="search"),
    )
    assert state.values["evar2"].set_at == START
    assert state.values["evar2"].visit == 1
    assert state.values["evar1"].set_at == START + minutes(90)
    assert state.values["evar1"].visit == 2


def test_a_hit_from_check_hit_applies_as_sent():
    now = START + days(1)
    checked, problems = check_hit(
        0,
        HitIn("v-1", "2031-03-02T10:00:00-05:00", evars=((1, "email"),), events=(("event1", 1.0),), dimensions={"trackingCode": "x"}),
        now,
    )
    assert problems == []
    state, a = apply_hit(suite(), VisitorState("rs", "company", "v-1"), checked)
    assert a.in_force == {"evar1": "email", "trackingCode": "x"}
    assert a.hit.events == {"event1": 1.0}
    assert state.first_seen == START


def test_applying_a_hit_leaves_the_state_it_was_given_unchanged():
    rs = suite()
    before, _ = play(rs, hit(minutes(0), evar1="a"))
    snapshot = before.to_doc()
    apply_hit(rs, before, hit(minutes(1), evar1="b", evar2="c"))
    assert before.to_doc() == snapshot


def test_the_state_remembers_its_last_1000_hits_to_recognise_a_whole_call_sent_again():
    hits = [hit(minutes(n), index=n, page=f"p{n}") for n in range(1050)]

    state, _ = play(suite(), *hits)

    assert len(state.recent) == 1000
    assert state.seq_of(hits[1049].digest) == 1050
    assert state.seq_of(hits[50].digest) == 51
    assert state.seq_of(hits[49].digest) is None


# --- the state as of a time (offline rows with a visitor id) ------------------------------


def example_2(rs: ReportSuite) -> tuple[VisitorState, list]:
    """EXAMPLES.md example 2: evar1 and evar2 at 09:00 (here START), evar2 again at 09:10."""
    return play(
        rs,
        hit(minutes(0), evar1="search", evar2="fibre-500", evar3="button", pageName="plans"),
        hit(minutes(10), evar2="fibre-1000"),
    )


def test_as_of_the_last_hit_or_later_the_values_are_the_states_with_no_later_expiration_applied():
    rs = suite(EvarSetting(3, Expiration.HIT))
    state, _ = example_2(rs)

    expected = {"evar1": "search", "evar2": "fibre-1000"}
    assert values_as_of(rs, state, START + minutes(10), None) == expected
    assert values_as_of(rs, state, START + days(2), None) == expected  # the visit is long over: evar1 and evar2 kept


def test_between_two_hits_the_values_are_those_in_force_after_the_earlier_without_those_of_its_hit_alone():
    rs = suite(EvarSetting(3, Expiration.HIT))
    state, applied = example_2(rs)
    first = StoredHit.of(applied[0], "company", "rs", "2031-03-02")

    assert values_as_of(rs, state, START + minutes(5), first) == {"evar1": "search", "evar2": "fibre-500"}
    assert values_as_of(rs, state, START, first) == {"evar1": "search", "evar2": "fibre-500"}


def test_before_the_first_hit_or_for_a_visitor_without_hits_there_are_no_values():
    rs = suite()
    state, _ = example_2(rs)

    assert values_as_of(rs, state, START - timedelta(seconds=1), None) == {}
    assert values_as_of(rs, VisitorState("rs", "company", "v-2"), START, None) == {}


def test_between_two_hits_without_the_earlier_hit_stored_yet_there_is_nothing_to_credit():
    rs = suite()
    state, _ = example_2(rs)

    assert values_as_of(rs, state, START + minutes(5), None) == {}


def test_only_a_time_from_the_first_hit_up_to_before_the_last_needs_the_visitors_history():
    state, _ = example_2(suite())

    assert needs_history(state, START) is True
    assert needs_history(state, START + minutes(9)) is True
    assert needs_history(state, START - timedelta(seconds=1)) is False
    assert needs_history(state, START + minutes(10)) is False
    assert needs_history(VisitorState("rs", "company", "v-2"), START) is False
