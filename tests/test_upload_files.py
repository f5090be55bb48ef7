"""Upload files: encodings, lines, chunks, file limits, and the worked examples."""

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from models import upload_files
from models.data_sources import Column, DataSource, SourceType
from models.upload_files import LONGEST_LINE, MAX_FILE_BYTES, Encoding, FileChecker, check_file, read_rows
from models.upload_rows import MAX_DAYS, LineProblem, ParsedRow, RowChecker, Severity, check_header

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
NEW_YORK = "America/New_York"

EXAMPLE_4_FAILS = "Date\teVar1\tEvent 1\n09/07/2026\tred\t1\n"
EXAMPLE_4_HALF = (
    "Date\tEvar 1\tEvent 1\n09/07/2026\tred\t1\n09/07/2026\tblue;green\t2\n09/31/2026\tred\t1\n09/08/2026\tred\tx\n09/08/2026\tred\n"
)
EXAMPLE_1 = (
    "# Generic Data Source (Transaction ID) template file (ds_id: ds-1)\n"
    "#\tDeal stage\tDeal closed\tRevenue\tTransaction\n"
    "Date\tEvar 3\tEvent 5\tPrice\ttransactionID\n"
    "03/09/2026/15/00/00\tclosed-won\t1\t1200\tlead_100\n"
    "03/10/2026\tclosed-won\t1\t300\tlead_999\n"
)
EXAMPLE_2 = (
    "Date\tEvar 4\tEvent 2\tvisitorID\n04/03/2026/14/00/00\tretention-call\t1\tcust-42\n04/03/2026/14/30/00\tretention-call\t1\tcust-77\n"
)


@pytest.fixture(params=["gathered", "each chunk"])
def chunking(request, monkeypatch):
    """Chunks as the file layer gathers them (64 KB at least), or each one as it comes."""
    if request.param == "each chunk":
        monkeypatch.setattr(upload_files, "_LEAST_PUSH", 1)


def source(type_: SourceType, dimensions: list[str], metrics: list[str]) -> DataSource:
    return DataSource(
        "ds-1", "c-1", "furniture", "Feed", type_, NOW, tuple(Column(h, h) for h in dimensions), tuple(Column(h, h) for h in metrics)
    )


def check(data: bytes | str, chunk: int | None = None, **kwargs):
    data = data.encode() if isinstance(data, str) else data
    return check_file(_chunks(data, chunk), NEW_YORK, NOW, **kwargs)


def read(data: bytes | str, encoding: Encoding = Encoding.UTF_8, chunk: int | None = None, **kwargs) -> list:
    data = data.encode() if isinstance(data, str) else data
    return list(read_rows(_chunks(data, chunk), encoding, NEW_YORK, NOW, **kwargs))


def _chunks(data: bytes, size: int | None):
    size = size or 255 * 1024
    return [data[i : i + size] for i in range(0, len(data), size)]


def same_but_size(a, b) -> bool:
    return replace(a, size=0) == replace(b, size=0)


def where(problems) -> list[tuple]:
    return [(p.line, p.column, p.code) for p in problems]


def rows_of(items) -> list[ParsedRow]:
    return [item for item in items if isinstance(item, ParsedRow)]


# --- the worked examples -------------------------------------------------------------------


def test_example_4_a_misspelt_header_fails_the_file_before_any_row():
    result = check(EXAMPLE_4_FAILS)
    assert result.failed and result.rows_to_ingest == 0
    assert [str(p) for p in result.problems] == ["line 1, column 2: unknown header 'eVar1' (the valid form is 'Evar 1')"]
    assert result.problems[0].code == "UNKNOWN_HEADER" and result.error_count == 1
    assert read(EXAMPLE_4_FAILS) == list(result.problems)


def test_example_4_a_half_failing_file_counts_as_a_job_does():
    result = check(EXAMPLE_4_HALF)
    assert (result.rows, result.skipped_rows, result.error_count, result.warning_count) == (5, 4, 3, 1)
    assert not result.failed and result.rows_to_ingest == 1
    assert [(p.line, p.column, p.code, p.severity) for p in result.problems] == [
        (3, 2, "SEMICOLON", Severity.WARNING),
        (4, 1, "INVALID_DATE", Severity.ERROR),
        (5, 3, "INVALID_NUMBER", Severity.ERROR),
        (6, None, "FIELD_COUNT", Severity.ERROR),
    ]
    assert result.problems[3].message == "2 fields where the header has 3."
    items = read(EXAMPLE_4_HALF)
    assert [item.line for item in items] == [2, 3, 4, 5, 6]  # rows and problems in file order
    assert rows_of(items) == [ParsedRow(2, datetime(2026, 9, 7, 16, 0, tzinfo=UTC), "2026-09-07", {"evar1": "red"}, {"event1": 1.0})]
    assert [i for i in items if isinstance(i, LineProblem)] == list(result.problems)


def test_example_1_a_transaction_id_file_with_its_template_comments():
    leads = source(SourceType.GENERIC_TRANSACTION_ID, ["Evar 3", "transactionID"], ["Event 5", "Price"])
    result = check(EXAMPLE_1, source=leads)
    assert (result.rows, result.skipped_rows, result.problems, result.lines) == (2, 0, (), 5)
    assert result.days == {"2026-03-09", "2026-03-10"}
    assert read(EXAMPLE_1, source=leads) == [
        ParsedRow(
            4,
            datetime(2026, 3, 9, 19, 0, tzinfo=UTC),
            "2026-03-09",
            {"evar3": "closed-won"},
            {"event5": 1.0, "revenue": 1200.0},
            "lead_100",
        ),
        ParsedRow(
            5,
            datetime(2026, 3, 10, 16, 0, tzinfo=UTC),
            "2026-03-10",
            {"evar3": "closed-won"},
            {"event5": 1.0, "revenue": 300.0},
            "lead_999",
        ),
    ]


def test_example_2_a_visitor_id_file():
    calls = source(SourceType.CALL_CENTER_VISITOR_ID, ["Evar 4", "visitorID"], ["Event 2"])
    assert check(EXAMPLE_2, source=calls).problems == ()
    rows = read(EXAMPLE_2, source=calls)
    assert [(r.at, r.visitor_id, r.dimensions, r.metrics) for r in rows] == [
        (datetime(2026, 4, 3, 18, 0, tzinfo=UTC), "cust-42", {"evar4": "retention-call"}, {"event2": 1.0}),
        (datetime(2026, 4, 3, 18, 30, tzinfo=UTC), "cust-77", {"evar4": "retention-call"}, {"event2": 1.0}),
    ]


def test_a_file_for_a_template_refuses_other_columns():
    leads = source(SourceType.GENERIC_TRANSACTION_ID, ["Evar 3", "transactionID"], ["Event 5", "Price"])
    result = check("Date\tEvar 3\tEvent 5\n03/09/2026\tclosed-won\t1\n", source=leads)
    assert result.failed and where(result.problems) == [(1, None, "MISSING_ID_COLUMN")]


# --- encodings -----------------------------------------------------------------------------

TEXT = "Date\tEvar 1\tEvent 1\n09/07/2026\tcafé\t1\n09/08/2026\tthé ☕\t2\n"


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (TEXT.encode(), Encoding.UTF_8),
        (b"\xef\xbb\xbf" + TEXT.encode(), Encoding.UTF_8_BOM),
        (TEXT.encode("utf-16"), Encoding.UTF_16_LE),  # with its BOM, little-endian here
        (b"\xfe\xff" + TEXT.encode("utf-16-be"), Encoding.UTF_16_BE),
    ],
)
def test_utf8_with_or_without_a_bom_and_utf16_with_one_are_read(data, encoding):
    result = check(data)
    assert result.encoding is encoding and result.problems == () and result.rows == 2
    assert [r.dimensions["evar1"] for r in read(data, encoding)] == ["café", "thé ☕"]


def test_a_file_that_is_not_utf8_is_read_as_iso_8859_1_as_a_whole(chunking):
    data = ("Date\tEvar 1\tEvent 1\n" + "09/07/2026\tplain\t1\n" * 5000).encode() + b"09/08/2026\tcaf\xe9\t2\n"
    result = check(data, chunk=4096)  # the byte that decides comes in a late chunk
    assert result.encoding is Encoding.ISO_8859_1 and result.problems == () and result.rows == 5001
    assert rows_of(read(data, result.encoding))[-1].dimensions == {"evar1": "café"}


def test_utf16_without_a_bom_is_refused_with_a_clear_message():
    for data in (TEXT.encode("utf-16-le"), TEXT.encode("utf-16-be")):
        result = check(data)
        assert result.failed and result.encoding is None and result.rows == 0
        assert where(result.problems) == [(1, None, "UTF16_WITHOUT_BOM")]
        assert "UTF-16 without a byte-order mark" in result.problems[0].message


def test_a_file_marked_utf8_that_is_not_fails_at_the_line_of_the_bad_byte(chunking):
    data = b"\xef\xbb\xbf" + TEXT.encode() + b"09/09/2026\tcaf\xe9\t3\n"
    result = check(data)
    assert result.failed and result.rows == 2
    assert where(result.problems) == [(4, None, "INVALID_ENCODING")]


def test_broken_utf16_fails():
    result = check(TEXT.encode("utf-16") + b"\x00")  # an odd byte at the end
    assert result.failed and where(result.problems) == [(4, None, "INVALID_ENCODING")]
    result = check("Date\tEvar 1\tEvent 1\n".encode("utf-16") + b"\x00\xd8" + "\t1\n".encode("utf-16-le"))  # a lone surrogate
    assert result.failed and where(result.problems) == [(2, None, "INVALID_ENCODING")]


# --- lines and chunks ----------------------------------------------------------------------


@pytest.mark.parametrize("ending", ["\n", "\r\n", "\r"])
def test_lines_end_with_lf_crlf_or_a_lone_cr(ending, chunking):
    data = EXAMPLE_4_HALF.replace("\n", ending)
    assert same_but_size(check(data), check(EXAMPLE_4_HALF))
    assert same_but_size(check(data, chunk=1), check(EXAMPLE_4_HALF))
    assert read(data, chunk=1) == read(EXAMPLE_4_HALF)


def test_the_last_line_needs_no_line_break(chunking):
    assert same_but_size(check(EXAMPLE_4_HALF.rstrip("\n")), check(EXAMPLE_4_HALF))


def test_comments_are_ignored_anywhere_and_blank_lines_too_but_both_count_as_lines(chunking):
    data = "# a template\n\n#\tfriendly\tnames\nDate\tEvar 1\tEvent 1\n# between\n09/07/2026\tred\t1\n\n#09/31/2026\tno\tx\n09/31/2026\tred\t1\n# end"
    result = check(data)
    assert (result.rows, result.lines) == (2, 10)
    assert where(result.problems) == [(9, 1, "INVALID_DATE")]
    assert [r.line for r in rows_of(read(data))] == [6]


def test_only_a_hash_first_makes_a_comment():
    result = check("Date\tEvar 1\tEvent 1\n #09/07/2026\tred\t1\n\t\t\n")
    assert where(result.problems) == [
        (2, 1, "INVALID_DATE"),
        (3, 1, "INVALID_DATE"),
        (3, None, "NO_DIMENSION_VALUE"),
        (3, None, "NO_METRIC_VALUE"),
    ]


def _mixed_file(rng: random.Random, rows: int) -> str:
    lines = ["# comment", "Date\tEvar 1\tEvar 2\tEvent 1\tPrice\ttransactionID"]
    start = datetime(2026, 3, 1)
    for i in range(rows):
        at = start + timedelta(seconds=rng.randrange(40 * 86400))
        date = at.strftime("%m/%d/%Y/%H/%M/%S") if i % 2 else at.strftime("%m/%d/%Y")
        fields = [
            date,
            rng.choice(["red", "blé", "☕ cup", "", "a;b"]),
            f"p{i % 7}",
            rng.choice(["1", "", "x", "-2.5"]),
            f"{i}.5",
            rng.choice(["", f"t{i}"]),
        ]
        if i % 97 == 0:
            fields.pop()
        lines.append("\t".join(fields))
        if i % 300 == 0:
            lines.append(rng.choice(["", "# note"]))
    return rng.choice(["\n", "\r\n"]).join(lines) + "\n"


@pytest.mark.parametrize("seed", range(4))
def test_any_chunking_gives_the_same_check_and_the_same_rows(seed, chunking):
    rng = random.Random(seed)
    text = _mixed_file(rng, 3000)
    data = (b"\xef\xbb\xbf" + text.encode()) if seed == 1 else text.encode("utf-16") if seed == 2 else text.encode()
    whole = check(data)
    assert whole.rows == 3000 and whole.problems and not whole.failed
    checker = FileChecker(NEW_YORK, NOW)
    position = 0
    while position < len(data):
        size = rng.choice([1, 2, 3, 7, 64, 1000, 40000])
        checker.feed(data[position : position + size])
        position += size
    assert checker.finish() == whole
    assert read(data, whole.encoding, chunk=rng.choice([1, 3, 1001])) == read(data, whole.encoding)


def test_a_file_fed_one_byte_at_a_time_checks_as_a_whole(chunking):
    data = EXAMPLE_1.encode("utf-16")
    assert check(data, chunk=1) == check(data)
    assert read(data, Encoding.UTF_16_LE, chunk=1) == read(data, Encoding.UTF_16_LE)


def test_the_reader_and_the_checker_report_the_same_problems():
    text = _mixed_file(random.Random(9), 2000)
    result = check(text)
    items = read(text, result.encoding)
    assert [i for i in items if isinstance(i, LineProblem)] == list(result.problems)
    assert len(rows_of(items)) == result.rows - result.skipped_rows


def test_rows_sent_through_the_row_api_meet_the_same_checks_as_a_file():
    text = _mixed_file(random.Random(4), 500)
    lines = text.replace("\r\n", "\n").split("\n")[:-1]
    header = lines[1]
    layout, _ = check_header(header.split("\t"))
    api = RowChecker(layout, NEW_YORK, NOW)
    found = []
    for number, line in enumerate(lines, 1):
        if number > 2 and line and not line.startswith("#"):
            row, problems = api.check_fields(number, line.split("\t"))  # numbered as the file's lines
            found += list(problems) + ([row] if row else [])
    assert found == read(text)


# --- the file's limits ---------------------------------------------------------------------


def _days_file(days: int) -> str:
    start = datetime(2026, 1, 1)
    return "Date\tEvar 1\tEvent 1\n" + "".join(
        f"{(start + timedelta(days=i % days)).strftime('%m/%d/%Y')}\tred\t1\n" for i in range(3 * days)
    )


def test_a_file_holds_at_most_90_days():
    assert check(_days_file(MAX_DAYS)).problems == ()
    result = check(_days_file(MAX_DAYS + 1))
    assert result.failed and result.rows_to_ingest == 0 and len(result.days) == MAX_DAYS + 1
    assert where(result.problems) == [(MAX_DAYS + 2, 1, "TOO_MANY_DAYS")]
    assert read(_days_file(MAX_DAYS + 1))[MAX_DAYS] == result.problems[0]  # before the row that passes the limit


def test_a_file_over_50_mb_fails_without_being_read_further():
    checker = FileChecker(NEW_YORK, NOW)
    checker.feed(b"Date\tEvar 1\tEvent 1\n09/07/2026\tred\t1\n#")
    megabyte = b"x" * (1024 * 1024)
    for _ in range(49):
        checker.feed(megabyte)  # one comment line, 50 MB long: kept cut, so memory stays small
    assert not checker.failed
    checker.feed(megabyte)
    checker.feed(megabyte)
    assert checker.failed
    checker.feed(b"\n09/31/2026\tred\t1\n")  # ignored
    result = checker.finish()
    assert result.failed and result.size > MAX_FILE_BYTES and result.rows == 1
    assert where(result.problems) == [(3, None, "FILE_TOO_LARGE")]


def test_a_line_longer_than_kept_is_still_one_row_too_long(chunking):
    data = "Date\tEvar 1\tEvent 1\n09/07/2026\t" + "x" * (LONGEST_LINE * 2) + "\t1\n09/07/2026\tred\t1\n"
    for chunk in (None, 1000):
        result = check(data, chunk=chunk)
        assert (result.rows, where(result.problems)) == (2, [(2, None, "ROW_TOO_LONG")])
    assert where(check("Date\t" + "x" * LONGEST_LINE + "\n").problems) == [(1, None, "HEADER_TOO_LONG")]


def test_a_line_cut_while_carried_stays_too_long_when_it_ends_soon_after(monkeypatch):
    monkeypatch.setattr(upload_files, "_LEAST_PUSH", 1)
    checker = FileChecker(NEW_YORK, NOW)
    checker.feed(b"Date\tEvar 1\tEvent 1\n09/07/2026\t" + b"x" * (LONGEST_LINE + 10))
    checker.feed(b"\t1\n")
    assert where(checker.finish().problems) == [(2, None, "ROW_TOO_LONG")]


def test_a_file_without_a_header_fails_and_a_header_alone_passes():
    for data in ("", "# only a comment\n", "\n\n"):
        result = check(data)
        assert result.failed and [p.code for p in result.problems] == ["NO_HEADER"]
    result = check("Date\tEvar 1\tEvent 1\n")
    assert not result.failed and result.rows == 0 and result.problems == ()


def test_a_check_keeps_so_many_row_problems_but_counts_them_all():
    data = "Date\tEvar 1\tEvent 1\n" + "09/31/2026\tred\t1\n" * 1500
    result = check(data, max_problems=1000)
    assert (result.error_count, len(result.problems), result.problems_left_off) == (1500, 1000, 500)
    assert result.problems[-1].line == 1001


def test_a_finished_check_takes_no_more_bytes():
    checker = FileChecker(NEW_YORK, NOW)
    checker.feed(EXAMPLE_4_HALF.encode())
    assert checker.finish() is checker.finish()
    with pytest.raises(RuntimeError):
        checker.feed(b"more")


@pytest.mark.parametrize("seed", range(30))
def test_arbitrary_bytes_give_a_check_result_never_an_exception(seed, chunking):
    rng = random.Random(seed)
    alphabet = [
        b"\t",
        b"\n",
        b"\r",
        b"#",
        b";",
        b"/",
        b"0",
        b"1",
        b"9",
        b"\x00",
        b"\xff",
        b"\xfe",
        b"\xef\xbb\xbf",
        b"\xe9",
        b"\xd8",
        b"Date\t",
        b"Evar 1\t",
        b"Event 1",
        b"visitorID\t",
        b"09/07/2026",
    ]
    data = b"".join(rng.choice(alphabet) if rng.random() < 0.7 else bytes([rng.randrange(256)]) for _ in range(rng.randrange(2000)))
    if seed % 3 == 0:
        data = b"Date\tEvar 1\tEvent 1\tvisitorID\n" + data
    result = check(data, chunk=rng.choice([1, 5, 100, 4096]))
    assert result.error_count + result.warning_count >= len(result.problems)
    for encoding in Encoding:
        for item in read(data, encoding):
            assert isinstance(item, ParsedRow | LineProblem)
