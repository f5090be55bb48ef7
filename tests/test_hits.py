"""models/hits.py: the checks every online hit passes before it touches a visitor: ids,
timestamps, transaction ids, eVar and event numbers."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from models.hits import MAX_ID_BYTES, HitIn, check_hit, check_id, split_transaction_ids

NOW = datetime(2031, 3, 2, 15, 30, tzinfo=UTC)
EARLIER = "2031-03-02T10:05:00-05:00"  # 15:05 UTC, before NOW


def hit(**fields) -> HitIn:
    return HitIn(**({"visitor_id": "v-1", "timestamp": EARLIER} | fields))


def codes(problems) -> list[tuple[str | None, str]]:
    return [(p.field, p.code) for p in problems]


# --- a good hit ---------------------------------------------------------------------


def test_a_good_hit_passes_with_its_time_values_events_and_ids():
    checked, problems = check_hit(
        4,
        hit(
            evars=((1, "email"), (250, "last")),
            events=(("event1", 1.0), ("event1000", 2.0), ("orders", 1.0), ("revenue", 9.5)),
            dimensions={"pageName": "home", "trackingCode": "spring-sale"},
            transaction_id="lead_100",
        ),
        NOW,
    )
    assert problems == []
    assert checked.index == 4
    assert checked.visitor_id == "v-1"
    assert checked.at == datetime(2031, 3, 2, 15, 5, tzinfo=UTC)
    assert checked.values == {"evar1": "email", "evar250": "last", "pageName": "home", "trackingCode": "spring-sale"}
    assert checked.events == {"event1": 1.0, "event1000": 2.0, "orders": 1.0, "revenue": 9.5}
    assert checked.transaction_ids == ("lead_100",)
    assert checked.raw_transaction_id == "lead_100"


def test_a_hit_without_a_transaction_id_has_none():
    checked, problems = check_hit(0, hit(), NOW)
    assert problems == []
    assert checked.transaction_ids == ()
    assert checked.raw_transaction_id is None


# --- visitor ids ----------------------------------------------------------------------


@pytest.mark.parametrize("placeholder", ["0", "NULL", "null", "Null", "", " ", "\t \n", " 0 ", "undefined"])
def test_a_placeholder_visitor_id_is_refused_so_strangers_are_not_merged(placeholder):
    checked, problems = check_hit(3, hit(visitor_id=placeholder), NOW)
    assert checked is None
    assert codes(problems) == [("hits.3.visitorId", "PLACEHOLDER_ID")]


@pytest.mark.parametrize("real", ["00", "0a", "nullable", "cust-0", "v"])
def test_ids_that_only_look_like_placeholders_are_taken(real):
    assert check_id("hits.0.visitorId", "visitorId", real) == []


def test_a_visitor_id_is_at_most_100_bytes_counted_in_utf8():
    assert check_id("f", "visitorId", "a" * MAX_ID_BYTES) == []
    assert check_id("f", "visitorId", "é" * 50) == []  # 50 characters, 100 bytes
    assert codes(check_id("f", "visitorId", "a" * (MAX_ID_BYTES + 1))) == [("f", "TOO_LONG")]
    # 51 characters, far under 100, but 102 bytes
    assert codes(check_id("f", "visitorId", "é" * 51)) == [("f", "TOO_LONG")]
    assert codes(check_id("f", "visitorId", "€" * 34)) == [("f", "TOO_LONG")]  # 102 bytes


def test_a_too_long_visitor_id_on_a_hit_names_its_field():
    checked, problems = check_hit(7, hit(visitor_id="ü" * 51), NOW)
    assert checked is None
    assert codes(problems) == [("hits.7.visitorId", "TOO_LONG")]


# --- timestamps ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "timestamp",
    ["2031-03-02T10:05:00", "2031-03-02", "yesterday", "", "03/02/2031", "2031-02-30T10:00:00Z", "2031-03-02T25:00:00Z"],
)
def test_a_timestamp_without_an_offset_or_unparsable_is_refused(timestamp):
    checked, problems = check_hit(2, hit(timestamp=timestamp), NOW)
    assert checked is None
    assert codes(problems) == [("hits.2.timestamp", "INVALID_TIMESTAMP")]


def test_a_timestamp_with_z_or_any_offset_is_taken():
    for text, expected in [
        ("2031-03-02T15:05:00Z", datetime(2031, 3, 2, 15, 5, tzinfo=UTC)),
        ("2031-03-02T15:05:00+00:00", datetime(2031, 3, 2, 15, 5, tzinfo=UTC)),
        ("2031-03-03T00:05:00+09:00", datetime(2031, 3, 2, 15, 5, tzinfo=UTC)),
    ]:
        checked, problems = check_hit(0, hit(timestamp=text), NOW)
        assert problems == []
        assert checked.at == expected


def test_a_timestamp_in_the_future_is_refused_beyond_five_minutes_of_slack():
    five_ahead = (NOW + timedelta(minutes=5)).isoformat()
    checked, problems = check_hit(0, hit(timestamp=five_ahead), NOW)
    assert problems == []

    just_over = (NOW + timedelta(minutes=5, seconds=1)).isoformat()
    checked, problems = check_hit(5, hit(timestamp=just_over), NOW)
    assert checked is None
    assert codes(problems) == [("hits.5.timestamp", "FUTURE_TIMESTAMP")]


def test_the_future_is_judged_in_absolute_time_whatever_the_offset():
    # 11:00 at -05:00 is 16:00 UTC: 30 minutes after NOW although "11:00" < "15:30".
    ahead = datetime(2031, 3, 2, 11, 0, tzinfo=timezone(timedelta(hours=-5))).isoformat()
    assert codes(check_hit(0, hit(timestamp=ahead), NOW)[1]) == [("hits.0.timestamp", "FUTURE_TIMESTAMP")]
    # 00:20 the next day at +09:00 is 15:20 UTC: in the past.
    behind = "2031-03-03T00:20:00+09:00"
    assert check_hit(0, hit(timestamp=behind), NOW)[1] == []


# --- transaction ids ----------------------------------------------------------------


def test_comma_separated_transaction_ids_are_split_trimmed_and_deduplicated():
    ids, problems = split_transaction_ids("t", "call_1, lead_1,call_1 ,, lead_2")
    assert problems == []
    assert ids == ("call_1", "lead_1", "lead_2")  # first-seen order kept


def test_a_single_transaction_id_is_one_id():
    assert split_transaction_ids("t", "lead_100") == (("lead_100",), [])


def test_no_transaction_id_means_none():
    assert split_transaction_ids("t", None) == ((), [])


@pytest.mark.parametrize("empty", ["", " ", ",", " , ,"])
def test_a_transaction_id_holding_no_id_is_refused(empty):
    ids, problems = split_transaction_ids("hits.1.transactionId", empty)
    assert ids == ()
    assert codes(problems) == [("hits.1.transactionId", "INVALID")]


def test_transaction_ids_are_at_most_100_bytes_in_all():
    fits = "a" * 49 + "," + "b" * 50  # 100 bytes
    assert split_transaction_ids("t", fits) == (("a" * 49, "b" * 50), [])
    # each id is short, but together with the comma they make 101 bytes
    ids, problems = split_transaction_ids("hits.0.transactionId", "a" * 50 + "," + "b" * 50)
    assert ids == ()
    assert codes(problems) == [("hits.0.transactionId", "TOO_LONG")]


def test_transaction_id_length_counts_utf8_bytes():
    assert split_transaction_ids("t", "é" * 50)[1] == []  # 100 bytes
    ids, problems = split_transaction_ids("t", "é" * 50 + ",x")  # 52 characters, 102 bytes
    assert ids == ()
    assert codes(problems) == [("t", "TOO_LONG")]


def test_a_hit_with_a_bad_transaction_id_is_refused_with_its_field():
    checked, problems = check_hit(9, hit(transaction_id="x" * 101), NOW)
    assert checked is None
    assert codes(problems) == [("hits.9.transactionId", "TOO_LONG")]


def test_a_hit_keeps_the_raw_transaction_value_and_its_split_ids():
    checked, problems = check_hit(0, hit(transaction_id="call_1,lead_1"), NOW)
    assert problems == []
    assert checked.transaction_ids == ("call_1", "lead_1")
    assert checked.raw_transaction_id == "call_1,lead_1"


# --- eVars and events ---------------------------------------------------------------


@pytest.mark.parametrize("number", [0, -1, 251, 1000])
def test_an_evar_number_outside_1_to_250_is_refused(number):
    checked, problems = check_hit(1, hit(evars=((number, "x"),)), NOW)
    assert checked is None
    assert codes(problems) == [("hits.1.evars", "INVALID")]
    assert str(number) in problems[0].message


def test_evar_1_and_250_are_taken():
    checked, problems = check_hit(0, hit(evars=((1, "a"), (250, "b"))), NOW)
    assert problems == []
    assert checked.values == {"evar1": "a", "evar250": "b"}


def test_an_evar_given_twice_on_one_hit_is_refused():
    checked, problems = check_hit(2, hit(evars=((3, "a"), (4, "b"), (3, "c"))), NOW)
    assert checked is None
    assert codes(problems) == [("hits.2.evars", "DUPLICATE")]
    assert "evar3" in problems[0].message


def test_an_evar_value_is_at_most_255_bytes():
    assert check_hit(0, hit(evars=((1, "é" * 127),)), NOW)[1] == []  # 254 bytes
    checked, problems = check_hit(0, hit(evars=((1, "é" * 128),)), NOW)  # 256 bytes
    assert checked is None
    assert codes(problems) == [("hits.0.evars", "TOO_LONG")]


def test_a_named_dimension_value_is_at_most_255_bytes():
    checked, problems = check_hit(0, hit(dimensions={"pageName": "p" * 256}), NOW)
    assert checked is None
    assert codes(problems) == [("hits.0.pageName", "TOO_LONG")]


@pytest.mark.parametrize("name", ["event0", "event1001", "event-1"])
def test_an_event_number_outside_1_to_1000_is_refused(name):
    checked, problems = check_hit(6, hit(events=((name, 1.0),)), NOW)
    assert checked is None
    assert codes(problems) == [("hits.6.events", "INVALID")]


def test_an_event_given_twice_is_refused():
    checked, problems = check_hit(0, hit(events=(("event5", 1.0), ("event5", 2.0))), NOW)
    assert checked is None
    assert codes(problems) == [("hits.0.events", "DUPLICATE")]


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_an_event_value_must_be_finite(value):
    checked, problems = check_hit(0, hit(events=(("revenue", value),)), NOW)
    assert checked is None
    assert codes(problems) == [("hits.0.events", "INVALID")]


def test_negative_event_values_are_taken():
    checked, problems = check_hit(0, hit(events=(("revenue", -12.5), ("event2", -1.0))), NOW)
    assert problems == []
    assert checked.events == {"revenue": -12.5, "event2": -1.0}


def test_every_problem_of_a_hit_is_reported_at_once():
    checked, problems = check_hit(
        3,
        hit(
            visitor_id="NULL",
            timestamp="not a time",
            evars=((0, "x"),),
            events=(("event1001", 1.0),),
            transaction_id="t" * 101,
        ),
        NOW,
    )
    assert checked is None
    assert sorted(codes(problems)) == sorted(
        [
            ("hits.3.visitorId", "PLACEHOLDER_ID"),
            ("hits.3.timestamp", "INVALID_TIMESTAMP"),
            ("hits.3.evars", "INVALID"),
            ("hits.3.events", "INVALID"),
            ("hits.3.transactionId", "TOO_LONG"),
        ]
    )


# --- input that cannot be handled must be refused, never raise ------------------------------


def test_a_timestamp_whose_utc_time_is_before_year_1_is_refused_not_raised():
    # 00:00 on 0001-01-01 at +01:00 is 23:00 UTC on the day before year 1: no such datetime.
    checked, problems = check_hit(2, hit(timestamp="0001-01-01T00:00:00+01:00"), NOW)
    assert checked is None
    assert codes(problems) == [("hits.2.timestamp", "INVALID_TIMESTAMP")]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"visitor_id": "v-\ud800"}, "hits.0.visitorId"),
        ({"evars": ((1, "red\udfff"),)}, "hits.0.evars"),
        ({"dimensions": {"pageName": "home\ud83d"}}, "hits.0.pageName"),
        ({"transaction_id": "lead_\udc00"}, "hits.0.transactionId"),
    ],
)
def test_a_value_that_is_not_valid_unicode_is_refused_not_raised(fields, field):
    # A lone UTF-16 surrogate ("\ud800" in JSON) parses to a str that has no UTF-8 form.
    checked, problems = check_hit(0, hit(**fields), NOW)
    assert checked is None
    assert [p.field for p in problems] == [field]


def test_more_evars_or_events_than_a_hit_can_name_are_refused_unread():
    evars = tuple((n % 250 + 1, "x") for n in range(251))
    events = tuple((f"event{n}", 1.0) for n in range(1, 1010))

    checked, problems = check_hit(4, hit(evars=evars, events=events), NOW)

    assert checked is None
    assert codes(problems) == [("hits.4.evars", "TOO_MANY"), ("hits.4.events", "TOO_MANY")]


def test_a_hit_reports_ten_problems_and_counts_the_rest():
    evars = tuple((n, "x" * 256) for n in range(1, 31))

    _, problems = check_hit(0, hit(evars=evars), NOW)

    assert len(problems) == 11
    assert codes(problems[:10]) == [("hits.0.evars", "TOO_LONG")] * 10
    assert (problems[10].code, problems[10].message) == ("MORE_PROBLEMS", "... and 20 more problems with this hit.")


def test_a_hit_carries_at_most_ten_transaction_ids():
    ten = ",".join(f"t{n}" for n in range(10))

    assert check_hit(0, hit(transaction_id=ten), NOW)[0].transaction_ids == tuple(f"t{n}" for n in range(10))
    _, problems = check_hit(0, hit(transaction_id=ten + ",t10"), NOW)
    assert codes(problems) == [("hits.0.transactionId", "TOO_MANY")]


def test_a_visitor_id_with_a_control_character_is_refused():
    _, problems = check_hit(0, hit(visitor_id="v-1\x00"), NOW)

    assert codes(problems) == [("hits.0.visitorId", "INVALID")]


def test_an_empty_value_sets_nothing():
    checked, _ = check_hit(0, hit(evars=((1, ""), (2, "sofa")), dimensions={"pageName": "", "zip": "10001"}), NOW)

    assert checked.values == {"evar2": "sofa", "zip": "10001"}
