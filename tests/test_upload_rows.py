"""The header and row rules of offline uploads, shared by files and the row API."""

import random
from datetime import UTC, datetime, timedelta

import pytest

from models.data_sources import Column, DataSource, SourceType
from models.upload_rows import MAX_DAYS, LineProblem, ParsedRow, RowChecker, Severity, check_header

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
NEW_YORK = "America/New_York"


def source(type_: SourceType, dimensions: list[str], metrics: list[str]) -> DataSource:
    return DataSource(
        id="ds-1",
        company_id="c-1",
        rsid="furniture",
        name="Leads",
        type=type_,
        created_at=NOW,
        dimensions=tuple(Column(h, h) for h in dimensions),
        metrics=tuple(Column(h, h) for h in metrics),
    )


def checker(*names: str, time_zone: str = NEW_YORK, now: datetime = NOW, days=()) -> RowChecker:
    layout, problems = check_header(list(names))
    assert problems == []
    return RowChecker(layout, time_zone, now, days)


def codes(problems) -> list[tuple]:
    return [(p.line, p.column, p.code) for p in problems]


def one(names: tuple[str, ...], fields: list[str], **kwargs) -> tuple[ParsedRow | None, list[LineProblem]]:
    row, problems = checker(*names, **kwargs).check_fields(2, fields)
    return row, list(problems)


BASIC = ("Date", "Evar 1", "Event 1")


# --- the header --------------------------------------------------------------------------


def test_headers_ignore_case_but_need_their_spaces():
    layout, problems = check_header(["DATE", "evar 12", "TRACKING code", "event 7", "price"])
    assert problems == []
    assert [h.key for h in layout.headers] == ["date", "evar12", "trackingCode", "event7", "revenue"]
    _, problems = check_header(["Date", "eVar1", "Event 1"])
    assert [(p.line, p.column, p.code, p.message) for p in problems] == [
        (1, 2, "UNKNOWN_HEADER", "unknown header 'eVar1' (the valid form is 'Evar 1')")
    ]
    assert all(p.fails_file and p.severity is Severity.ERROR for p in problems)


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("Event01", "Event 1"),
        ("trackingcode", "Tracking Code"),
        ("Cart Add s", "Cart Adds"),
        ("marketingchanneldetail", "Marketing Channel Detail"),
    ],
)
def test_an_unknown_header_names_the_valid_spelling_when_one_is_close(text, valid):
    _, problems = check_header(["Date", "Evar 1", text])
    assert problems[0].column == 3
    assert problems[0].message == f"unknown header '{text}' (the valid form is '{valid}')"


def test_an_unknown_header_without_a_close_spelling_says_how_headers_look():
    _, problems = check_header(["Date", "Colour", "Evar 251", "", "Event 1"])
    assert codes(problems) == [(1, 2, "UNKNOWN_HEADER"), (1, 3, "UNKNOWN_HEADER"), (1, 4, "UNKNOWN_HEADER")]
    assert "'Colour'" in problems[0].message and "keep their spaces" in problems[0].message
    assert problems[2].message == "this column has no header."


def test_date_must_be_the_first_column():
    _, problems = check_header(["Evar 1", "Date", "Event 1"])
    assert codes(problems) == [(1, 1, "DATE_NOT_FIRST")]
    assert problems[0].message == "the first column must be 'Date'; it is column 2."
    _, problems = check_header(["Evar 1", "Event 1"], line=3)
    assert codes(problems) == [(3, 1, "DATE_NOT_FIRST")]


def test_a_header_listed_twice_fails_the_file():
    _, problems = check_header(["Date", "Evar 1", "Event 1", "EVAR 1"])
    assert codes(problems) == [(1, 4, "DUPLICATE_HEADER")]
    assert problems[0].message == "'Evar 1' is listed twice (columns 2 and 4)."


def test_a_data_source_takes_only_its_template_columns():
    leads = source(SourceType.GENERIC_TRANSACTION_ID, ["Evar 3", "transactionID"], ["Event 5", "Price"])
    layout, problems = check_header(["Date", "Evar 3", "Event 5", "Price", "transactionID"], leads)
    assert problems == [] and layout is not None
    _, problems = check_header(["Date", "Evar 3", "Evar 4", "Event 5", "transactionID"], leads)
    assert codes(problems) == [(1, 3, "NOT_IN_TEMPLATE")]
    assert (
        problems[0].message
        == "'Evar 4' is not a column of this data source; its template has: Date, Evar 3, transactionID, Event 5, Price."
    )


@pytest.mark.parametrize(
    ("type_", "dimensions", "id_header"),
    [
        (SourceType.GENERIC_TRANSACTION_ID, ["Evar 3", "transactionID"], "transactionID"),
        (SourceType.CALL_CENTER_VISITOR_ID, ["Evar 4", "visitorID"], "visitorID"),
    ],
)
def test_an_id_source_file_needs_its_id_column(type_, dimensions, id_header):
    _, problems = check_header(["Date", dimensions[0], "Event 5"], source(type_, dimensions, ["Event 5"]))
    assert codes(problems) == [(1, None, "MISSING_ID_COLUMN")]
    assert f"'{id_header}' column" in problems[0].message


def test_a_header_needs_a_dimension_and_a_metric_column():
    assert codes(check_header(["Date", "Event 1"])[1]) == [(1, None, "NO_DIMENSION_COLUMN")]
    assert codes(check_header(["Date", "Evar 1"])[1]) == [(1, None, "NO_METRIC_COLUMN")]
    assert check_header(["Date", "visitorID", "Event 1"])[1] == []  # an id is a dimension


def test_a_header_of_too_many_columns_is_refused_in_one_problem():
    _, problems = check_header(["Date"] + [f"x{i}" for i in range(400)])
    assert codes(problems) == [(1, None, "TOO_MANY_COLUMNS")]


# --- rows --------------------------------------------------------------------------------


def test_a_good_row_carries_its_instant_day_and_values_by_catalogue_key():
    names = ("Date", "Evar 3", "Tracking Code", "Product", "Event 5", "Price", "Quantity", "transactionID")
    row, problems = one(names, ["03/09/2026/15/00/00", "closed-won", "", "sofa", "1", "-12.5", "", "lead_100"])
    assert problems == []
    assert row == ParsedRow(
        line=2,
        at=datetime(2026, 3, 9, 19, 0, tzinfo=UTC),  # 15:00 EDT
        day="2026-03-09",
        dimensions={"evar3": "closed-won", "products": "sofa"},  # the empty tracking code is no value
        metrics={"event5": 1.0, "revenue": -12.5},
        transaction_id="lead_100",
        visitor_id=None,
    )


def test_a_date_without_a_time_is_noon_in_the_report_suites_time_zone():
    row, _ = one(BASIC, ["03/10/2026", "red", "1"])
    assert row.at == datetime(2026, 3, 10, 16, 0, tzinfo=UTC) and row.day == "2026-03-10"
    row, _ = one(BASIC, ["03/10/2026", "red", "1"], time_zone="Asia/Tokyo")
    assert row.at == datetime(2026, 3, 10, 3, 0, tzinfo=UTC) and row.day == "2026-03-10"


def test_the_day_is_the_report_suites_not_utcs():
    row, _ = one(BASIC, ["09/07/2026/23/30/00", "red", "1"])
    assert row.at == datetime(2026, 9, 8, 3, 30, tzinfo=UTC)
    assert row.day == "2026-09-07"


def test_daylight_saving_gaps_take_the_offset_before_the_change_and_repeats_the_first():
    gap, _ = one(BASIC, ["03/08/2026/02/30/00", "red", "1"])  # 02:00 EST -> 03:00 EDT
    assert gap.at == datetime(2026, 3, 8, 7, 30, tzinfo=UTC) and gap.day == "2026-03-08"
    fold, _ = one(BASIC, ["11/01/2026/01/30/00", "red", "1"])  # 01:00-02:00 happens twice
    assert fold.at == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)  # the first, in EDT
    after, _ = one(BASIC, ["11/01/2026/03/00/00", "red", "1"])
    assert after.at == datetime(2026, 11, 1, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "date",
    [
        "09/31/2026",
        "02/29/2025",
        "13/01/2026",
        "00/10/2026",
        "9/7/2026",
        "2026-09-07",
        "09/07/2026/24/00/00",
        "09/07/2026/12/60/00",
        "09/07/2026/12/00",
        "09/07/2026 12:00:00",
        "",
        "O9/07/2026",
        "09/07/2026/12/00/00/",
        "01/01/1969",
        "\uff109/07/2026",
    ],
)
def test_a_date_that_is_not_a_real_one_in_the_format_is_an_error_on_column_1(date):
    row, problems = one(BASIC, [date, "red", "1"])
    assert row is None
    assert codes(problems) == [(2, 1, "INVALID_DATE")]


def test_a_date_in_the_future_is_an_error():
    now = datetime(2026, 9, 7, 15, 0, tzinfo=UTC)  # 11:00 in New York
    assert codes(one(BASIC, ["09/07/2026", "red", "1"], now=now)[1]) == [(2, 1, "FUTURE_DATE")]  # noon is still to come
    assert one(BASIC, ["09/07/2026/11/00/00", "red", "1"], now=now)[1] == []
    assert codes(one(BASIC, ["09/07/2026/11/00/01", "red", "1"], now=now)[1]) == [(2, 1, "FUTURE_DATE")]


@pytest.mark.parametrize(("text", "value"), [("3", 3.0), ("-1", -1.0), ("19.99", 19.99), ("1e3", 1000.0), (" 2 ", 2.0), (".5", 0.5)])
def test_metrics_are_numbers_and_may_be_negative(text, value):
    row, problems = one(BASIC, ["09/07/2026", "red", text])
    assert problems == [] and row.metrics == {"event1": value}


@pytest.mark.parametrize("text", ["x", "1,5", "nan", "inf", "-Infinity", "1_000", "\uff11", "1e999", "0x10"])
def test_a_metric_that_is_not_a_finite_number_is_an_error_naming_its_column(text):
    row, problems = one(BASIC, ["09/07/2026", "red", text])
    assert row is None
    assert codes(problems) == [(2, 3, "INVALID_NUMBER")]
    assert "'Event 1' must be a number" in problems[0].message


def test_a_row_needs_a_metric_value_and_an_empty_one_is_no_value():
    names = ("Date", "Evar 1", "Event 1", "Event 2")
    row, problems = one(names, ["09/07/2026", "red", "", "2"])
    assert problems == [] and row.metrics == {"event2": 2.0}
    assert codes(one(names, ["09/07/2026", "red", "", ""])[1]) == [(2, None, "NO_METRIC_VALUE")]


def test_a_row_needs_a_dimension_value_and_an_id_counts_as_one():
    names = ("Date", "Evar 1", "Event 1", "transactionID")
    assert codes(one(names, ["09/07/2026", "", "1", ""])[1]) == [(2, None, "NO_DIMENSION_VALUE")]
    row, problems = one(names, ["09/07/2026", "", "1", "t-1"])
    assert problems == [] and row.dimensions == {} and row.transaction_id == "t-1"


def test_a_semicolon_in_a_dimension_skips_the_row_with_a_warning_on_its_column():
    names = ("Date", "Evar 1", "Evar 2", "Event 1", "transactionID")
    row, problems = one(names, ["09/07/2026", "red", "blue;green", "1", "a;b"])
    assert row is None
    assert [(p.column, p.code, p.severity) for p in problems] == [(3, "SEMICOLON", Severity.WARNING), (5, "SEMICOLON", Severity.WARNING)]
    assert "green" not in problems[0].message  # messages never repeat a row's values


def test_dimension_values_are_at_most_255_bytes_and_ids_100():
    names = ("Date", "Evar 1", "Event 1", "transactionID")
    assert one(names, ["09/07/2026", "é" * 127 + "a", "1", "t" * 100])[1] == []
    _row, problems = one(names, ["09/07/2026", "é" * 128, "1", "é" * 51])
    assert codes(problems) == [(2, 2, "TOO_LONG"), (2, 4, "TOO_LONG")]
    assert problems[0].message == "'Evar 1' is at most 255 bytes of UTF-8, not 256."


@pytest.mark.parametrize(
    ("visitor", "code"),
    [
        ("0", "PLACEHOLDER_ID"),
        ("NULL", "PLACEHOLDER_ID"),
        ("", "PLACEHOLDER_ID"),
        ("  ", "PLACEHOLDER_ID"),
        (" undefined ", "PLACEHOLDER_ID"),
        ("a\x01b", "INVALID"),
        ("v" * 101, "TOO_LONG"),
    ],
)
def test_a_visitor_id_must_name_one_real_person(visitor, code):
    row, problems = one(("Date", "Evar 4", "Event 2", "visitorID"), ["04/03/2026", "call", "1", visitor])
    assert row is None
    assert codes(problems) == [(2, 4, code)]
    assert len(visitor) < 5 or visitor not in problems[0].message  # (only 0, NULL, ... are named)


def test_a_visitor_id_is_kept_apart_from_the_dimensions():
    row, problems = one(("Date", "Evar 4", "Event 2", "visitorID"), ["04/03/2026/14/00/00", "retention-call", "1", "cust-42"])
    assert problems == []
    assert row.visitor_id == "cust-42" and row.dimensions == {"evar4": "retention-call"} and row.transaction_id is None


def test_every_problem_of_a_row_is_reported_in_column_order():
    names = ("Date", "Evar 1", "Event 1", "Event 2")
    _row, problems = one(names, ["09/31/2026", "a;b", "x", "y"])
    assert codes(problems) == [(2, 1, "INVALID_DATE"), (2, 2, "SEMICOLON"), (2, 3, "INVALID_NUMBER"), (2, 4, "INVALID_NUMBER")]


def test_a_row_has_the_headers_number_of_fields():
    rows = checker(*BASIC)
    assert [(p.code, p.message) for p in rows.check_fields(2, ["09/08/2026", "red"])[1]] == [
        ("FIELD_COUNT", "2 fields where the header has 3.")
    ]
    assert codes(rows.check_line(7, "09/08/2026\tred\t1\t")[1]) == [(7, None, "FIELD_COUNT")]


def test_a_row_is_at_most_4096_bytes():
    names = ["Date"] + [f"Evar {n}" for n in range(1, 31)] + ["Event 1"]
    rows = checker(*names)
    fields = ["09/08/2026"] + ["x" * 135] * 29 + ["x" * (4096 - 10 - 31 - 29 * 135 - 1), "1"]
    assert len("\t".join(fields).encode()) == 4096
    assert rows.check_fields(2, fields)[1] == ()
    fields[1] = "é" + fields[1][1:]
    assert codes(rows.check_fields(3, fields)[1]) == [(3, None, "ROW_TOO_LONG")]
    assert codes(rows.check_line(4, "\t".join(fields))[1]) == [(4, None, "ROW_TOO_LONG")]


def test_the_row_api_refuses_what_a_file_line_cannot_hold():
    rows = checker(*BASIC)
    assert codes(rows.check_fields(5, ["09/08/2026", "red\tblue", "1"])[1]) == [(5, 2, "INVALID_TEXT")]
    assert codes(rows.check_fields(5, ["09/08/2026", "red\ud800", "1"])[1]) == [(5, None, "INVALID_TEXT")]


def test_more_than_90_days_fails_the_job_at_the_row_of_the_91st():
    rows = checker(*BASIC)
    start = datetime(2026, 1, 1)
    for i in range(MAX_DAYS):
        assert rows.check_fields(i + 1, [(start + timedelta(days=i)).strftime("%m/%d/%Y"), "red", "1"])[1] == ()
    assert rows.check_fields(91, ["09/31/2026", "red", "1"])[0] is None  # a skipped row adds no day
    row, problems = rows.check_fields(92, ["06/01/2026", "red", "1"])
    assert row is not None and codes(problems) == [(92, 1, "TOO_MANY_DAYS")] and problems[0].fails_file
    assert rows.failed
    assert rows.check_fields(93, ["06/02/2026", "red", "1"])[1] == ()  # said once


def test_days_of_earlier_calls_count_toward_the_limit():
    earlier = (
        {f"2026-01-{d:02d}" for d in range(1, 31)} | {f"2026-02-{d:02d}" for d in range(1, 29)} | {f"2026-03-{d:02d}" for d in range(1, 32)}
    )
    rows = checker(*BASIC, days=earlier | {"2026-04-01"})  # 90 days
    assert rows.check_fields(1, ["04/01/2026", "red", "1"])[1] == ()
    assert codes(rows.check_fields(2, ["04/02/2026", "red", "1"])[1]) == [(2, 1, "TOO_MANY_DAYS")]


# --- many lines at once: the same outcome as one by one ------------------------------------

SCREEN_NAMES = ("Date", "Evar 1", "Evar 2", "Tracking Code", "Event 1", "Price", "transactionID", "visitorID")


_BAD_VALUES = {
    0: [
        "09/31/2026",
        "",
        "1/2/2026",
        "03/08/2026/02/30/00",
        "11/01/2026/01/30/00",
        "12/31/2030",
        "01/01/1960",
        "03/08/2026/25/00/00",
        "03/08/2026/12/00",
    ],
    1: ["a;b", "é" * 128, "x" * 300, "é" * 60],
    4: ["x", "nan", "1_0", "inf", "\uff11", "1e400", " 3 ", "", ".", "1.2.3", "9" * 400, "-.5", "5.", "1..", "1.5\x0b"],
    6: ["t" * 101, "é" * 30, "a;b"],
    7: ["0", "NULL", "", " x", "a\x01", "v" * 30],
}


def _random_field(rng: random.Random, column: int, base: datetime, faults: float) -> str:
    """A good value, or now and then (`faults`: how often) one of each kind of bad one."""
    if rng.random() < 0.05 * faults:
        return rng.choice(_BAD_VALUES.get(column) or _BAD_VALUES[1 if column < 4 else 4])
    if column == 0:
        day = base + timedelta(days=rng.randrange(40), seconds=rng.randrange(86400))
        return day.strftime("%m/%d/%Y") if rng.random() < 0.5 else day.strftime("%m/%d/%Y/%H/%M/%S")
    if column in (1, 2, 3):
        return "" if rng.random() < 0.15 else f"v{rng.randrange(50)}"
    if column in (4, 5):
        return "" if rng.random() < 0.2 else rng.choice(["1", "2", f"{rng.randrange(10000) / 100}", "-4"])
    if column == 6:
        return "" if rng.random() < 0.5 else f"t-{rng.randrange(1000)}"
    return f"cust-{rng.randrange(100)}"


def _random_lines(rng: random.Random, count: int, faults: float) -> list[str]:
    base = datetime(2026, 2, 20)
    lines = []
    for _ in range(count):
        fields = [_random_field(rng, c, base, faults) for c in range(len(SCREEN_NAMES))]
        if rng.random() < 0.02 * faults:
            fields = fields[: rng.randrange(len(fields))] if rng.random() < 0.5 else [*fields, "extra"]
        if rng.random() < 0.005 * faults:
            fields[1] = "y" * 5000
        lines.append("\t".join(fields))
    return lines


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("faults", [1.0, 0.02, 0.0])
@pytest.mark.parametrize("rows_wanted", [True, False])
def test_checking_many_lines_at_once_gives_what_checking_one_by_one_gives(seed, faults, rows_wanted):
    rng = random.Random(seed)
    names = SCREEN_NAMES[: 5 + seed % 4]  # with and without the id columns
    lines = [line.split("\t") for line in _random_lines(rng, 700, faults)]
    lines = ["\t".join(fields[: len(names)] if len(fields) >= len(SCREEN_NAMES) else fields) for fields in lines]
    numbers = list(range(3, 3 + len(lines)))
    at_once, by_batch = checker(*names), checker(*names)
    expected, skipped = [], 0
    for number, line in zip(numbers, lines, strict=False):
        row, problems = at_once.check_line(number, line)
        skipped += row is None
        expected += problems
        if rows_wanted and row is not None:
            expected.append(row)
    found, found_skipped = [], 0
    for start in range(0, len(lines), 97):
        more, skips = by_batch.check_lines(numbers[start : start + 97], lines[start : start + 97], rows_wanted)
        found += more
        found_skipped += skips
    assert found == expected
    keys = [(list(row.dimensions), list(row.metrics)) for row in expected if isinstance(row, ParsedRow)]
    assert [(list(row.dimensions), list(row.metrics)) for row in found if isinstance(row, ParsedRow)] == keys  # stored in this order
    assert found_skipped == skipped
    assert by_batch.days == at_once.days


def test_checking_many_lines_at_once_finds_the_91st_day_where_one_by_one_does():
    start = datetime(2026, 1, 1)
    lines = [(start + timedelta(days=i % 95)).strftime("%m/%d/%Y") + "\tred\t1" for i in range(400)]
    lines[50] = "09/31/2026\tred\t1"
    by_batch = checker(*BASIC)
    found, _ = by_batch.check_lines(range(2, 402), lines, False)
    assert codes(found) == [(52, 1, "INVALID_DATE"), (93, 1, "TOO_MANY_DAYS")]


@pytest.mark.parametrize(
    ("column", "bad"),
    [
        (0, "03/02/2026/10/00"),
        (0, "12/31/2030/10/00/00"),
        (0, "12/31/2030"),
        (0, "01/01/1970/00/00/00"),
        (0, "03/02/2026/10/00/00 "),
        (0, "03/08/2026/02/30/00"),
        (3, "inf"),
        (3, "nan"),
        (3, "1e400"),
        (3, "1_5"),
        (3, "٣"),
        (3, ""),
        (3, "."),
        (3, "1.2.3"),
        (3, "9" * 400),
        (3, "1..5"),
        (3, ".5."),
        (1, ""),
        (1, "é" * 128),
    ],
)
@pytest.mark.parametrize("rows_wanted", [True, False])
def test_many_lines_at_once_judge_each_bad_value_as_one_by_one_even_once_warmed(column, bad, rows_wanted):
    """Clean columns (no empty value, unique times and prices) with one bad value, twice."""
    names = ("Date", "Evar 1", "Event 1", "Price")
    base = datetime(2026, 3, 2, 10, 0)
    lines = [[(base + timedelta(seconds=i)).strftime("%m/%d/%Y/%H/%M/%S"), f"v{i}", str(i % 3), f"{i}.25"] for i in range(300)]
    lines = ["\t".join(fields) for fields in lines]
    expected_checker, batch_checker = checker(*names), checker(*names)
    batch_checker.check_lines(range(300), lines, rows_wanted)  # every part of a good date is known now
    fields = lines[150].split("\t")
    fields[column] = bad
    lines[150] = "\t".join(fields)
    expected = []
    for number, line in enumerate(lines):
        row, problems = expected_checker.check_line(number, line)
        expected += list(problems) + ([row] if row and rows_wanted else [])
    assert batch_checker.check_lines(range(300), lines, rows_wanted)[0] == expected
    fine = bad in ("03/08/2026/02/30/00", "") and column != 1  # a DST-day time; a price left out
    assert any(isinstance(item, LineProblem) for item in expected) is not fine


@pytest.mark.parametrize(
    "visitors", [[""], ["0"], ["a b", "NULL"], ["x", " null"], ["ok", "ok "], ["a", "b", "Nil"], ["a\xa0"], ["é" * 26], ["é" * 51]]
)
def test_many_visitor_ids_at_once_find_each_placeholder(visitors):
    names = ("Date", "Evar 4", "Event 2", "visitorID")
    lines = [f"04/03/2026\tcall\t1\tcust-{i}" for i in range(20)] + [f"04/03/2026\tcall\t1\t{v}" for v in visitors]
    one_by_one = checker(*names)
    expected = []
    for number, line in enumerate(lines):
        row, problems = one_by_one.check_line(number, line)
        expected += list(problems) + ([row] if row else [])
    assert checker(*names).check_lines(range(len(lines)), lines, True)[0] == expected
    bad = {"", "0", "null", "nil"}
    assert [p.line for p in expected if isinstance(p, LineProblem)] == [
        20 + i for i, v in enumerate(visitors) if v.strip().lower() in bad or len(v.encode()) > 100
    ]
