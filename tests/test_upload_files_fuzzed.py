"""models/upload_files.py, fuzzed (hypothesis): arbitrary bytes and near-valid files (a
valid file with bytes changed, dropped or put in), in arbitrary chunks. Every file gets a
FileCheck whose counts add up and whose problems say where, the same however it is cut
into chunks; read again, a file that passed yields its rows and never a problem that
fails it. Never an exception."""

from datetime import UTC, datetime

from hypothesis import event, given
from hypothesis import strategies as st

from models.data_sources import Column, DataSource, SourceType
from models.upload_files import Encoding, FileCheck, check_file, read_rows
from models.upload_rows import LineProblem, ParsedRow, Severity

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
ZONE = "America/New_York"
VALID = (
    "# Generic Data Source (Transaction ID) template file (ds_id: ds-1)\n"
    "#\tDeal stage\tDeal closed\tRevenue\tTransaction\n"
    "Date\tEvar 3\tEvent 5\tPrice\ttransactionID\n"
    "11/09/2026/15/00/00\tclosed-won\t1\t1200\tlead_100\n"
    "11/10/2026\tclosed-lost\t0\t300.50\tlead_999\n"
    "11/11/2026\tcafé\t2\t-4\tlead_7,lead_8\n"
).encode()
SOURCE = DataSource(
    "ds-1", "c-1", "shop", "Leads", SourceType.GENERIC_TRANSACTION_ID, NOW,
    (Column("Evar 3", "Deal stage"), Column("transactionID", "Transaction")), (Column("Event 5", "Deal closed"), Column("Price", "Revenue")),
)  # fmt: skip
# Bytes the format gives meaning to, so that mutations hit separators, line ends and encodings.
SPECIAL = st.sampled_from(
    [b"\t", b"\n", b"\r", b"\r\n", b"#", b";", b",", b"\xff\xfe", b"\xef\xbb\xbf", b"\xe9", b"\x00", b"/", b" ", b"9"]
)


@st.composite
def near_valid(draw) -> bytes:
    """The valid file with a few bytes changed, dropped or put in."""
    data = bytearray(VALID)
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(data)))
        change = draw(st.sampled_from(["replace", "drop", "insert"]))
        piece = draw(st.one_of(SPECIAL, st.binary(min_size=1, max_size=3)))
        if change == "replace" and at < len(data):
            data[at : at + len(piece)] = piece
        elif change == "drop":
            del data[at : at + draw(st.integers(1, 8))]
        else:
            data[at:at] = piece
    return bytes(data)


FILES = st.one_of(st.binary(max_size=2048), near_valid(), st.just(VALID))


def cut(data: bytes, sizes: list[int]) -> list[bytes]:
    """`data` in chunks of these sizes (the last one taking what is left)."""
    chunks, start = [], 0
    for size in sizes:
        chunks.append(data[start : start + size])
        start += size
    return [*chunks, data[start:]]


def assert_well_formed(check: FileCheck, size: int) -> None:
    assert check.size == size
    assert 0 <= check.skipped_rows <= check.rows <= check.lines
    assert 0 <= check.rows_to_ingest <= check.rows
    kept = len(check.problems) + check.problems_left_off
    assert kept == check.error_count + check.warning_count
    assert sum(p.severity is Severity.ERROR for p in check.problems) <= check.error_count
    assert check.failed == any(p.fails_file for p in check.problems)
    for problem in check.problems:
        assert_problem(problem, check.lines)
    if not check.failed:
        assert check.encoding is not None and check.layout is not None


def assert_problem(problem: LineProblem, lines: int) -> None:
    assert problem.code and problem.code == problem.code.upper() and problem.message
    assert 0 <= problem.line <= max(lines, 1) + 1
    assert problem.column is None or problem.column >= 1


@given(data=FILES, sizes=st.lists(st.integers(0, 300), max_size=6))
def test_every_file_gets_a_check_whose_counts_add_up_however_it_is_cut(data, sizes):
    whole = check_file([data], ZONE, NOW, SOURCE)
    in_pieces = check_file(cut(data, sizes), ZONE, NOW, SOURCE)

    assert_well_formed(whole, len(data))
    assert in_pieces == whole


@given(data=FILES, sizes=st.lists(st.integers(1, 300), max_size=6))
def test_a_file_read_again_yields_the_rows_its_check_counted(data, sizes):
    check = check_file([data], ZONE, NOW, SOURCE)
    event("the file failed" if check.failed else f"the file passed, {min(check.rows_to_ingest, 3)}+ rows to ingest")
    if check.failed:
        return  # no row is read from a failed file

    items = list(read_rows(cut(data, sizes), check.encoding or Encoding.UTF_8, ZONE, NOW, SOURCE))

    rows = [item for item in items if isinstance(item, ParsedRow)]
    problems = [item for item in items if isinstance(item, LineProblem)]
    assert not any(p.fails_file for p in problems)
    assert len(rows) == check.rows_to_ingest
    assert [(p.line, p.column, p.code) for p in problems] == [(p.line, p.column, p.code) for p in check.problems]
    assert all(row.at.tzinfo is not None and row.at <= NOW and len(row.day) == 10 for row in rows)
    assert [row.line for row in rows] == sorted(row.line for row in rows)


@given(data=st.binary(max_size=4096), encoding=st.sampled_from(list(Encoding)))
def test_reading_any_bytes_in_any_encoding_yields_rows_and_problems_only(data, encoding):
    items = list(read_rows([data], encoding, ZONE, NOW, None))

    assert all(isinstance(item, ParsedRow | LineProblem) for item in items)
    for item in items:
        if isinstance(item, LineProblem):
            assert_problem(item, data.count(b"\n") + data.count(b"\r") + 1)
