"""models/upload_rows.py, fuzzed (hypothesis): arbitrary headers, and arbitrary rows (and
near-valid ones) through RowChecker, as the row API sends them and as file lines. Each is a
checked row or problems that say where, with a stable code; the same row checked as fields
and as a line gets the same answer. Never an exception."""

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from models.upload_rows import LineProblem, RowChecker, Severity, check_header

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
ZONE = "America/New_York"
COLUMNS = ["Date", "Evar 3", "Event 5", "Price", "visitorID"]
LAYOUT, _ = check_header(COLUMNS)
GOOD = ["11/09/2026/15/00/00", "closed-won", "1", "1200", "cust-42"]
# Text as it arrives: any Unicode (lone surrogates included, as JSON may carry them), and
# pieces the checks care about.
PIECES = st.sampled_from(
    ["", " ", "0", "-1", "1e400", "NaN", "inf", "1,5", "1.5", "12/31/2026", "02/30/2026", "01/01/1900", "13/01/2026",
     "11/09/2026/25/00/00", "null", "NULL", "undefined", ";", "a;b", "\t", "\n", "\r", "\ud800", "é", "x" * 300, "9" * 400]
)  # fmt: skip
TEXT = st.one_of(st.text(max_size=40), PIECES, st.text(alphabet=st.characters(codec="utf-8"), max_size=300))


def assert_answer(line: int, row, problems: list[LineProblem], width: int = len(COLUMNS)) -> None:
    """A row is skipped exactly when it has a problem of its own, an error or a warning (a
    problem that fails the job, the day limit, may come with a good row)."""
    assert (row is None) == any(not p.fails_file for p in problems)
    for problem in problems:
        assert problem.line == line and problem.code and problem.code == problem.code.upper() and problem.message
        assert problem.column is None or 1 <= problem.column <= max(width, len(COLUMNS))
    if row is not None:
        assert row.line == line and row.at.tzinfo is not None and row.at <= NOW
        assert set(row.dimensions) <= {"evar3"} and set(row.metrics) <= {"event5", "price", "revenue"}


@given(names=st.lists(st.one_of(TEXT, st.sampled_from([*COLUMNS, "eVar3", "Evar 251", "Event 0", "transactionID"])), max_size=8))
def test_any_header_is_a_layout_or_problems_that_fail_the_file(names):
    layout, problems = check_header(names)

    assert (layout is None) == bool(problems)
    assert all(p.fails_file and p.severity is Severity.ERROR and p.code for p in problems)
    if layout is not None:
        assert layout.names[0] == "Date" and len(layout.names) == len(names)


@given(fields=st.lists(TEXT, max_size=7), line=st.integers(1, 10**6))
def test_any_row_of_fields_is_a_checked_row_or_problems_that_say_where(fields, line):
    row, problems = RowChecker(LAYOUT, ZONE, NOW).check_fields(line, fields)

    assert row is not None or problems
    assert_answer(line, row, list(problems), len(fields))


@st.composite
def near_valid(draw) -> list[str]:
    fields = list(GOOD)
    for _ in range(draw(st.integers(1, 3))):
        fields[draw(st.integers(0, len(fields) - 1))] = draw(TEXT)
    return fields


@given(fields=near_valid())
def test_a_row_is_checked_alike_as_fields_and_as_a_file_line(fields):
    as_fields = RowChecker(LAYOUT, ZONE, NOW).check_fields(7, fields)
    assert_answer(7, as_fields[0], list(as_fields[1]))
    if not fits_a_line(fields):
        return  # a line cannot carry them: the row API refuses such a value alone

    as_line = RowChecker(LAYOUT, ZONE, NOW).check_line(7, "\t".join(fields))

    assert as_line[0] == as_fields[0]
    assert [(p.column, p.code) for p in as_line[1]] == [(p.column, p.code) for p in as_fields[1]]


def fits_a_line(fields: list[str]) -> bool:
    """No tab, line break or lone surrogate: the fields can be written as one file line."""
    return not any(c in "\t\n\r" or "\ud800" <= c <= "\udfff" for value in fields for c in value)


@given(rows=st.lists(st.one_of(near_valid(), st.just(GOOD)), min_size=8, max_size=40))
def test_a_batch_of_lines_is_checked_exactly_as_each_line_alone(rows):
    texts = ["\t".join(r) for r in rows if fits_a_line(r)]
    numbers = list(range(10, 10 + len(texts)))

    batched, skipped = RowChecker(LAYOUT, ZONE, NOW).check_lines(numbers, texts)  # columns screened at once past 8 lines
    one = RowChecker(LAYOUT, ZONE, NOW)
    alone = [one.check_line(n, t) for n, t in zip(numbers, texts, strict=True)]

    assert [item for item in batched if not isinstance(item, LineProblem)] == [row for row, _ in alone if row is not None]
    assert [(p.line, p.column, p.code) for p in batched if isinstance(p, LineProblem)] == [
        (p.line, p.column, p.code) for _, problems in alone for p in problems
    ]
    assert skipped == sum(row is None for row, _ in alone)
