"""Rows of an offline upload: the header check and the row checks, for files and the row API.

A file's lines (see `models.upload_files`) and the row API's pre-split rows meet here:
`check_header` turns column names into a `Layout`, and a `RowChecker` checks rows
against it. `RowChecker.check_fields` (the row API) and `check_line` (one file line) run
the reference checks, `_check`; `check_lines` (a file's chunk of lines) gives the same
outcome faster: it screens whole columns with C-level passes and sends every row it
cannot prove good through `_check`.

Decisions the rules leave open:
- A local time that does not exist (in a daylight-saving gap) is read with the offset in
  force before the change (02:30 on a spring-forward night is 03:30 summer time, as
  PEP 495 defines); a time that happens twice is its first occurrence. Rejecting them
  would skip rows the user cannot easily fix.
- Row and value sizes are counted in bytes of UTF-8, as values are stored.
- An empty dimension or metric value is no value; an empty transactionID makes a summary
  row; an empty visitorID is refused like the placeholders `0` or `NULL`.
- The semicolon rule applies to every dimension column, ids included.
- Days count toward the 90-day limit when a row is to be ingested (skipped rows add none).
- Messages name columns, never a row's values (they may be customer data); a header is
  named, as it is the template's wording.
"""

import math
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum
from itertools import compress, count, repeat
from operator import contains, itemgetter, not_, setitem
from typing import NamedTuple, TypeVar
from zoneinfo import ZoneInfo

from models.data_sources import MAX_COLUMNS, DataSource
from models.fields import DATE, MAX_ID_BYTES, MAX_VALUE_BYTES, TRANSACTION_ID, VISITOR_ID, Field, Kind, by_header
from models.hits import EARLIEST, PLACEHOLDER_IDS, check_id

MAX_ROW_BYTES = 4096
MAX_DAYS = 90
MAX_ROWS_PER_CALL = 10_000  # the row API's limit a call
DATE_HEADER = Field("date", Kind.DIMENSION, DATE)
_CACHE_SIZE = 4096  # date texts and days remembered, so memory stays bounded
_SMALL_BATCH = 8  # fewer lines than this are checked one by one
_T = TypeVar("_T")
_V = TypeVar("_V")


class Severity(str, Enum):
    ERROR = "ERROR"
    WARNING = "WARNING"


@dataclass(frozen=True, slots=True)
class LineProblem:
    """What is wrong and where: a 1-based line and column (None: the whole line).

    A row with any problem is skipped. A problem that `fails_file` means no row of the
    file (or job) is ingested at all.
    """

    line: int
    column: int | None
    code: str
    message: str
    severity: Severity = Severity.ERROR
    fails_file: bool = False

    def __str__(self) -> str:
        where = f"line {self.line}" if self.column is None else f"line {self.line}, column {self.column}"
        return f"{where}: {self.message}"


class ParsedRow(NamedTuple):
    """A row that passed every check, ready to be linked and written.

    A named tuple: a file makes hundreds of thousands, and a tuple is the cheapest to make.
    """

    line: int
    at: datetime  # UTC, whole seconds
    day: str  # YYYY-MM-DD in the report suite's calendar
    dimensions: dict[str, str]  # by catalogue key (evar3, trackingCode, ...), ids left out
    metrics: dict[str, float]  # by catalogue key (event5, revenue, ...)
    transaction_id: str | None = None
    visitor_id: str | None = None


_new_tuple = tuple.__new__  # ParsedRows made from 7-tuples, without Python-level code
# A ParsedRow's fields in order, as `_make_rows` takes them.
_RowFields = tuple[int, datetime, str, dict[str, str], dict[str, float], str | None, str | None]


def _make_rows(values: Iterable[_RowFields]) -> list[ParsedRow]:
    return list(map(_new_tuple, repeat(ParsedRow), values))


def file_problem(line: int, column: int | None, code: str, message: str) -> LineProblem:
    """A problem that fails the whole file or job."""
    return LineProblem(line, column, code, message, Severity.ERROR, True)


# --- the header -------------------------------------------------------------------------


@dataclass(frozen=True)
class Layout:
    """A header that passed its checks: the catalogue header of each column, Date first."""

    headers: tuple[Field, ...]

    @property
    def names(self) -> tuple[str, ...]:
        """The columns as the catalogue spells them."""
        return tuple(h.header or "" for h in self.headers)


def check_header(names: Sequence[str], source: DataSource | None = None, line: int = 1) -> tuple[Layout | None, list[LineProblem]]:
    """Check a header's column names; every problem fails the file.

    `source` limits the columns to its template and requires its id column; without one,
    any catalogue column is taken. The row API passes its `columns` list with `line=0`
    (it is no row of the job).
    """
    if len(names) > MAX_COLUMNS + 1:
        message = f"the header has {len(names)} columns; a data source has at most {MAX_COLUMNS} besides Date."
        return None, [file_problem(line, None, "TOO_MANY_COLUMNS", message)]
    allowed = _template_headers(source)
    problems: list[LineProblem] = []
    headers: list[Field] = []
    first_column: dict[str, int] = {}
    for column, text in enumerate(names, 1):
        header = _catalogue_header(text)
        if header is None or header.header is None:  # (a field found by its header has one)
            problems.append(file_problem(line, column, "UNKNOWN_HEADER", _unknown_header_message(text)))
        elif header.header in first_column:
            message = f"'{header.header}' is listed twice (columns {first_column[header.header]} and {column})."
            problems.append(file_problem(line, column, "DUPLICATE_HEADER", message))
        elif allowed is not None and header.header not in allowed:
            message = f"'{header.header}' is not a column of this data source; its template has: {', '.join(allowed)}."
            problems.append(file_problem(line, column, "NOT_IN_TEMPLATE", message))
        else:
            first_column[header.header] = column
            headers.append(header)
    if not names or _catalogue_header(names[0]) is not DATE_HEADER:
        message = "the first column must be 'Date'" + (f"; it is column {first_column[DATE]}." if DATE in first_column else ".")
        problems.append(file_problem(line, 1, "DATE_NOT_FIRST", message))
    if not problems:
        problems = _check_shape(headers, source, line)
    return (None, problems) if problems else (Layout(tuple(headers)), [])


def _template_headers(source: DataSource | None) -> list[str] | None:
    if source is None:
        return None
    return [DATE] + [c.header for c in source.dimensions] + [c.header for c in source.metrics]


def _catalogue_header(text: str) -> Field | None:
    if text.strip().lower() == DATE.lower():
        return DATE_HEADER
    return by_header(text)


def _unknown_header_message(text: str) -> str:
    if not text.strip():
        return "this column has no header."
    shown = text if len(text) <= 40 else text[:40] + "..."
    valid = _close_header(text)
    if valid:
        return f"unknown header '{shown}' (the valid form is '{valid}')"
    return f"unknown header '{shown}'; headers keep their spaces, as in 'Evar 1' or 'Event 1'."


_SQUASHED_NAMES = {
    name.replace(" ", "").lower(): name
    for name in [
        DATE,
        "Category",
        "Marketing Channel",
        "Marketing Channel Detail",
        "Product",
        "Tracking Code",
        "transactionID",
        "visitorID",
        "Zip",
        "Orders",
        "Price",
        "Quantity",
        "Cart Adds",
        "Cart Removes",
        "Cart Views",
        "Cart Opens",
        "Checkouts",
    ]
}


def _close_header(text: str) -> str | None:
    """The catalogue header `text` means once spaces and case are ignored, if any."""
    squashed = text.replace(" ", "").lower()
    for prefix in ("evar", "event"):
        number = squashed.removeprefix(prefix)
        if number != squashed and number.isascii() and number.isdigit():
            header = by_header(f"{prefix} {int(number)}")
            return header.header if header else None
    return _SQUASHED_NAMES.get(squashed)


def _check_shape(headers: list[Field], source: DataSource | None, line: int) -> list[LineProblem]:
    problems: list[LineProblem] = []
    names = {h.header for h in headers}
    id_header = source.entry.id_header if source else None
    if source and id_header and id_header.header not in names:
        message = f"a {source.entry.label} file needs the '{id_header.header}' column."
        problems.append(file_problem(line, None, "MISSING_ID_COLUMN", message))
    if not any(h.kind is Kind.DIMENSION for h in headers[1:]):
        problems.append(file_problem(line, None, "NO_DIMENSION_COLUMN", "the header has no dimension column besides Date."))
    if not any(h.kind is Kind.METRIC for h in headers):
        problems.append(file_problem(line, None, "NO_METRIC_COLUMN", "the header has no metric column."))
    return problems


# --- dates ------------------------------------------------------------------------------

_NOON = timedelta(hours=12)
_DATE_FORMAT = "the Date must be MM/DD/YYYY or MM/DD/YYYY/HH/mm/SS, e.g. 03/09/2026 or 03/09/2026/15/00/00."
_TOO_EARLY = ("INVALID_DATE", f"the Date is before {EARLIEST.date().isoformat()}: not a real date for this data.")
_FUTURE = ("FUTURE_DATE", "the Date is in the future.")
# A date text read: (UTC instant, local day, None), or (None, None, (code, message)).
_Date = tuple[datetime, str, None] | tuple[None, None, tuple[str, str]]
# A day text read: (day, UTC midnight or None on a daylight-saving day, naive midnight,
# None), or (None, None, None, (code, message)).
_Day = tuple[str, datetime | None, datetime, None] | tuple[None, None, None, tuple[str, str]]


class _Dates:
    """Date texts to (UTC instant, local day, problem), in the report suite's time zone.

    Files repeat their dates (at most 90 days, often the same timestamps), so a text is
    remembered once parsed; and a timestamp seen for the first time is put together from
    its day, minutes and seconds, each remembered once checked. Every cache is bounded.
    """

    def __init__(self, zone: ZoneInfo, now: datetime) -> None:
        self._zone = zone
        self._now = now
        self._by_text: dict[str, _Date] = {}
        self._days: dict[str, _Day] = {}
        # Good parts only, so at most _CACHE_SIZE days (without a daylight-saving change),
        # 1,441 minute parts ("/HH/mm" or "" for noon) and 61 second parts ("/SS" or "").
        self._midnights: dict[str, datetime] = {}
        self._day_texts: dict[str, str] = {}
        self._minutes: dict[str, timedelta] = {"": _NOON}
        self._seconds: dict[str, timedelta] = {"": timedelta(0)}
        self._past_days: set[str] = set()  # of the days above, those wholly before now

    def parse(self, text: str) -> _Date:
        """(at, day, None) for a good date, else (None, None, (code, message))."""
        parsed = self._by_text.get(text)
        if parsed is None:
            if len(self._by_text) >= _CACHE_SIZE:
                self._by_text.clear()
            parsed = self._by_text[text] = self._assemble(text) or self._parse(text)
        return parsed

    def column(self, texts: Sequence[str], bad: set[int], rows_wanted: bool) -> tuple[list[datetime | None], list[str | None], set[str]]:
        """The instants and days (if `rows_wanted`) and the set of days of many date texts.

        Rows whose date is bad go in `bad` (their instant and day are None). Each distinct
        text is put together from parts checked before; when one cannot be (a new part, or
        a bad date), every distinct text goes through `parse` (which learns new parts for
        the next time).
        """
        distinct = set(texts)
        if not rows_wanted and self._known_and_past(distinct):  # no instant needed, nor made
            return [], [], set(map(self._day_texts.__getitem__, set(map(_DAY, distinct))))
        midnights, minutes, seconds = self._midnights, self._minutes, self._seconds
        try:
            if not set(map(len, distinct)) <= _DATE_LENGTHS:
                raise KeyError
            table = {text: midnights[text[:10]] + minutes[text[10:16]] + seconds[text[16:]] for text in distinct}
            if max(table.values()) > self._now or min(table.values()) < EARLIEST:
                raise KeyError
        except KeyError:
            return self._column_carefully(texts, distinct, bad, rows_wanted)
        day_texts = self._day_texts
        day_set = set(map(day_texts.__getitem__, set(map(_DAY, distinct))))
        if not rows_wanted:
            return [], [], day_set
        return list(map(table.__getitem__, texts)), list(map(day_texts.__getitem__, map(_DAY, texts))), day_set

    def _known_and_past(self, distinct: set[str]) -> bool:
        """Every text is a good date of a day wholly past, from parts checked before."""
        return (
            set(map(len, distinct)) <= _DATE_LENGTHS
            and not set(map(_DAY, distinct)).difference(self._past_days)
            and not set(map(_MINUTES, distinct)).difference(self._minutes)
            and not set(map(_SECONDS, distinct)).difference(self._seconds)
        )

    def _column_carefully(
        self, texts: Sequence[str], distinct: set[str], bad: set[int], rows_wanted: bool
    ) -> tuple[list[datetime | None], list[str | None], set[str]]:
        table = {text: self.parse(text) for text in distinct}
        wrong = {text for text, parsed in table.items() if parsed[2]}
        if wrong:
            _mark(texts, wrong.__contains__, bad)
        day_set = {parsed[1] for parsed in table.values() if parsed[2] is None}
        if not rows_wanted:
            return [], [], day_set
        parsed = list(map(table.__getitem__, texts))
        return list(map(_FIRST, parsed)), list(map(_SECOND, parsed)), day_set

    def _assemble(self, text: str) -> _Date | None:
        """A good date from parts checked before, or None for `_parse` to judge it."""
        if len(text) != 19 and len(text) != 10:
            return None
        midnight = self._midnights.get(text[:10])
        minutes = self._minutes.get(text[10:16])
        seconds = self._seconds.get(text[16:])
        if midnight is None or minutes is None or seconds is None:
            return None
        at = midnight + minutes + seconds
        if at > self._now or at < EARLIEST:
            return None
        return at, self._day_texts[text[:10]], None

    def _parse(self, text: str) -> _Date:
        if not text:
            return None, None, ("INVALID_DATE", "the Date is missing; " + _DATE_FORMAT)
        time_of_day = _NOON if len(text) == 10 else self._time_of_day(text)
        if time_of_day is None:
            return None, None, ("INVALID_DATE", _DATE_FORMAT)
        day = self._day(text[:10])
        if day[3] is not None:
            return None, None, day[3]
        day_text, midnight, naive, _ = day
        if midnight is not None:
            at = midnight + time_of_day
        else:  # a day with a daylight-saving change: zoneinfo places the time (fold=0)
            at = (naive + time_of_day).replace(tzinfo=self._zone).astimezone(UTC)
            day_text = at.astimezone(self._zone).date().isoformat()
        if at < EARLIEST:
            return None, None, _TOO_EARLY
        if at > self._now:
            return None, None, _FUTURE
        return at, day_text, None

    def _time_of_day(self, text: str) -> timedelta | None:
        """The time into the day of MM/DD/YYYY/HH/mm/SS, or None when the form is wrong."""
        if len(text) != 19 or text[10] != "/" or text[13] != "/" or text[16] != "/":
            return None
        hours, minutes, seconds = text[11:13], text[14:16], text[17:19]
        if not _digits(hours + minutes + seconds):
            return None
        h, m, s = int(hours), int(minutes), int(seconds)
        if h > 23 or m > 59 or s > 59:
            return None
        self._minutes[text[10:16]] = timedelta(hours=h, minutes=m)
        self._seconds[text[16:]] = timedelta(seconds=s)
        return timedelta(hours=h, minutes=m, seconds=s)

    def _day(self, text: str) -> _Day:
        """(day, UTC midnight or None on a daylight-saving day, naive midnight, problem)."""
        known = self._days.get(text)
        if known is None:
            if len(self._days) >= _CACHE_SIZE:
                self._days.clear()
            known = self._days[text] = self._new_day(text)
            if known[1] is not None and len(self._midnights) < _CACHE_SIZE:
                day_text, midnight = known[0], known[1]
                self._midnights[text] = midnight
                self._day_texts[text] = day_text
                if midnight >= EARLIEST and midnight + timedelta(days=1) <= self._now:
                    self._past_days.add(text)
        return known

    def _new_day(self, text: str) -> _Day:
        if not (len(text) == 10 and text[2] == "/" and text[5] == "/" and _digits(text[:2] + text[3:5] + text[6:])):
            return None, None, None, ("INVALID_DATE", _DATE_FORMAT)
        month, day, year = int(text[:2]), int(text[3:5]), int(text[6:])
        try:
            naive = datetime(year, month, day)
            next_midnight = naive + timedelta(days=1)
        except (ValueError, OverflowError):
            return None, None, None, ("INVALID_DATE", "the Date is not a real calendar day.")
        if year < EARLIEST.year:
            return None, None, None, _TOO_EARLY
        local = naive.replace(tzinfo=self._zone)
        steady = local.utcoffset() == next_midnight.replace(tzinfo=self._zone).utcoffset()
        midnight = local.astimezone(UTC) if steady else None
        return f"{year:04d}-{month:02d}-{day:02d}", midnight, naive, None


_FIRST = itemgetter(0)
_SECOND = itemgetter(1)
_DAY = itemgetter(slice(0, 10))
_MINUTES = itemgetter(slice(10, 16))
_SECONDS = itemgetter(slice(16, None))
_DATE_LENGTHS = {10, 19}  # MM/DD/YYYY and MM/DD/YYYY/HH/mm/SS


def _digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


def _mark(values: Iterable[_T], is_bad: Callable[[_T], object], bad: set[int]) -> None:
    """Add to `bad` the positions of the values `is_bad` says so of."""
    bad.update(compress(count(), map(is_bad, values)))


def _mark_true(flags: Iterable[bool], bad: set[int]) -> None:
    bad.update(compress(count(), flags))


# --- rows -------------------------------------------------------------------------------


def _getter(indexes: Sequence[int]) -> Callable[[Sequence[str]], tuple[str, ...]]:
    """fields -> tuple of the fields at `indexes` (itemgetter returns a bare value for one)."""
    if len(indexes) == 1:
        index = indexes[0]
        return lambda fields: (fields[index],)
    if not indexes:
        return lambda fields: ()
    return itemgetter(*indexes)


class RowChecker:
    """Checks rows against one header layout and keeps the distinct days seen.

    Line numbers are the caller's: physical file lines (comments, blank lines and the
    header counted), or for the row API the row's 1-based position in the job across its
    calls. `days` seeds the days of a job's earlier calls (the limit is per job).
    """

    def __init__(self, layout: Layout, time_zone: str, now: datetime, days: Iterable[str] = ()) -> None:
        self.layout = layout
        self._dates = _Dates(ZoneInfo(time_zone), now)
        self._days: set[str] = set(days)
        self._days_failed = len(self._days) > MAX_DAYS
        headers = layout.headers
        self._width = len(headers)
        ids = (TRANSACTION_ID, VISITOR_ID)
        self._dimension_indexes = [i for i, h in enumerate(headers) if i and h.kind is Kind.DIMENSION and h not in ids]
        self._dimension_keys = tuple(headers[i].key for i in self._dimension_indexes)
        self._dimension_values = _getter(self._dimension_indexes)
        self._metric_indexes = [i for i, h in enumerate(headers) if h.kind is Kind.METRIC]
        self._metric_keys = tuple(headers[i].key for i in self._metric_indexes)
        self._metric_values = _getter(self._metric_indexes)
        self._transaction = headers.index(TRANSACTION_ID) if TRANSACTION_ID in headers else None
        self._visitor = headers.index(VISITOR_ID) if VISITOR_ID in headers else None
        # Every dimension column, ids included, for the semicolon and length checks; the
        # visitor id's length is checked with the rest of it (`check_id`), so not here.
        self._all_dimensions = tuple((i, h.header, _byte_limit(h)) for i, h in enumerate(headers) if i and h.kind is Kind.DIMENSION)

    @property
    def days(self) -> frozenset[str]:
        """The distinct days of the rows to ingest so far (at most MAX_DAYS + 1 kept)."""
        return frozenset(self._days)

    @property
    def failed(self) -> bool:
        """The rows checked so far span more than MAX_DAYS days."""
        return self._days_failed

    def check_fields(self, line: int, fields: Sequence[str]) -> tuple[ParsedRow | None, Sequence[LineProblem]]:
        """One row given as fields (the row API), checked exactly as a file line is.

        Returns the row (None when it is skipped) and its problems; a problem that fails
        the job may come with a good row (the day past the limit).
        """
        for column, value in enumerate(fields, 1):
            if "\t" in value or "\n" in value or "\r" in value:
                return None, [LineProblem(line, column, "INVALID_TEXT", "a value holds a tab or line break, which a row cannot carry.")]
        text = "\t".join(fields)
        try:
            size = len(text.encode())
        except UnicodeEncodeError:  # a lone surrogate, such as "\ud800" in JSON
            return None, [LineProblem(line, None, "INVALID_TEXT", "the row is not valid Unicode text.")]
        if size > MAX_ROW_BYTES:
            return None, [_too_long(line)]
        if len(fields) != self._width:
            return None, [_field_count(line, len(fields), self._width)]
        return self._check(line, list(fields))

    def check_line(self, line: int, text: str) -> tuple[ParsedRow | None, Sequence[LineProblem]]:
        """One data line of a file (without its line break), as `check_fields`."""
        if len(text) > MAX_ROW_BYTES // 4 and (len(text) > MAX_ROW_BYTES or len(text.encode()) > MAX_ROW_BYTES):
            return None, [_too_long(line)]
        fields = text.split("\t")
        if len(fields) != self._width:
            return None, [_field_count(line, len(fields), self._width)]
        return self._check(line, fields)

    def _check(self, line: int, fields: list[str]) -> tuple[ParsedRow | None, Sequence[LineProblem]]:
        """The reference checks of a row of the right width and size."""
        problems: list[LineProblem] = []
        at, day, date_problem = self._dates.parse(fields[0])
        if date_problem:
            problems.append(LineProblem(line, 1, *date_problem))
        values = self._dimension_values(fields)
        dimensions = {key: value for key, value in zip(self._dimension_keys, values, strict=False) if value}
        transaction_id = visitor_id = None
        if self._transaction is not None:
            transaction_id = fields[self._transaction] or None
        problems += self._check_dimension_texts(line, fields)
        metrics = self._metrics(line, fields, problems)
        if self._visitor is not None:
            visitor_id = fields[self._visitor]
            problems += self._check_visitor(line, self._visitor + 1, visitor_id)
        if not (dimensions or transaction_id or visitor_id):
            problems.append(LineProblem(line, None, "NO_DIMENSION_VALUE", "the row has no dimension value; it needs at least one."))
        if not metrics and not any(p.code == "INVALID_NUMBER" for p in problems):
            problems.append(LineProblem(line, None, "NO_METRIC_VALUE", "the row has no metric value; it needs at least one."))
        if problems:
            problems.sort(key=_by_column)
            return None, problems
        assert at is not None and day is not None, "a date without a problem has both"
        row = ParsedRow(line, at, day, dimensions, metrics, transaction_id, visitor_id)
        if day in self._days or self._days_failed:
            return row, ()
        return row, self._add_day(line, day)

    def _add_day(self, line: int, day: str) -> Sequence[LineProblem]:
        self._days.add(day)
        if len(self._days) <= MAX_DAYS:
            return ()
        self._days_failed = True
        return [
            file_problem(
                line, 1, "TOO_MANY_DAYS", f"a file or job holds at most {MAX_DAYS} distinct days; this row's date is day {MAX_DAYS + 1}."
            )
        ]

    def _check_dimension_texts(self, line: int, fields: list[str]) -> list[LineProblem]:
        problems = []
        for index, name, limit in self._all_dimensions:
            value = fields[index]
            if ";" in value:
                message = f"'{name}' holds a semicolon, which dimension values cannot carry; the row is skipped."
                problems.append(LineProblem(line, index + 1, "SEMICOLON", message, Severity.WARNING))
            elif limit and len(value) * 4 > limit and len(value.encode()) > limit:
                message = f"'{name}' is at most {limit} bytes of UTF-8, not {len(value.encode())}."
                problems.append(LineProblem(line, index + 1, "TOO_LONG", message))
        return problems

    def _metrics(self, line: int, fields: list[str], problems: list[LineProblem]) -> dict[str, float]:
        metrics = {}
        for key, index, value in zip(self._metric_keys, self._metric_indexes, self._metric_values(fields), strict=False):
            if not value:
                continue  # an empty metric is no value
            number = _number(value)
            if number is None:
                name = self.layout.headers[index].header
                problems.append(LineProblem(line, index + 1, "INVALID_NUMBER", f"'{name}' must be a number, such as 3, -1 or 19.99."))
            else:
                metrics[key] = number
        return metrics

    def _check_visitor(self, line: int, column: int, value: str) -> list[LineProblem]:
        if _plain_visitor(value):
            return []
        found = check_id("visitorID", "visitorID", value)
        if not found:
            return []
        message = {
            "PLACEHOLDER_ID": "visitorID is empty or a placeholder (such as 0 or NULL), not an id; send the real one.",
            "INVALID": "visitorID holds a control character.",
        }.get(found[0].code, f"visitorID is at most {MAX_ID_BYTES} bytes of UTF-8.")
        return [LineProblem(line, column, found[0].code, message)]

    # --- many lines at once ---------------------------------------------------------------

    def check_lines(
        self, numbers: Sequence[int], texts: Sequence[str], rows_wanted: bool = True
    ) -> tuple[Sequence[ParsedRow | LineProblem], int]:
        """Many file lines at once, with exactly the outcome of `check_line` on each.

        Returns the problems and (if `rows_wanted`) the rows, in line order, and how many
        rows were skipped. Whole columns are screened at once; a row the screen cannot
        vouch for goes through `check_line`.
        """
        if len(texts) < _SMALL_BATCH:
            return self._one_by_one(numbers, texts, range(len(texts)), rows_wanted)
        screen = _Screen(self, texts, rows_wanted)
        if not self._days_failed:
            possible = self._days | screen.good_days | self._suspect_days(texts, screen.suspects)
            if len(possible) > MAX_DAYS:  # the limit may be passed: find where, row by row
                return self._one_by_one(numbers, texts, range(len(texts)), rows_wanted)
            self._days |= screen.good_days
        if not screen.suspects:
            return (_make_rows(zip(numbers, *screen.values, strict=False)) if rows_wanted else []), 0
        return self._merge(numbers, texts, screen, rows_wanted)

    def _suspect_days(self, texts: Sequence[str], suspects: set[int]) -> set[str]:
        """Days the suspect rows would add if they turned out good."""
        days: set[str] = set()
        for i in suspects:
            day = self._dates.parse(texts[i].partition("\t")[0])[1]
            if day:
                days.add(day)
        return days

    def _one_by_one(
        self, numbers: Sequence[int], texts: Sequence[str], positions: Iterable[int], rows_wanted: bool
    ) -> tuple[list[ParsedRow | LineProblem], int]:
        out: list[ParsedRow | LineProblem] = []
        skipped = 0
        for i in positions:
            row, problems = self.check_line(numbers[i], texts[i])
            if row is None:
                skipped += 1
            out += problems
            if rows_wanted and row is not None:
                out.append(row)
        return out, skipped

    def _merge(
        self, numbers: Sequence[int], texts: Sequence[str], screen: "_Screen", rows_wanted: bool
    ) -> tuple[list[ParsedRow | LineProblem], int]:
        suspects = sorted(screen.suspects)
        if not rows_wanted:
            return self._one_by_one(numbers, texts, suspects, False)
        made = _make_rows(zip(map(numbers.__getitem__, screen.candidates), *screen.values, strict=False))
        good = {i: row for i, row in zip(screen.candidates, made, strict=False) if i not in screen.suspects}
        out: list[ParsedRow | LineProblem] = []
        skipped = 0
        for i in range(len(texts)):
            row = good.get(i)
            if row is None:
                more, skips = self._one_by_one(numbers, texts, (i,), True)
                out += more
                skipped += skips
            else:
                out.append(row)
        return out, skipped


# The values of a batch's candidate rows, column by column: instants, days, dimensions,
# metrics, transaction ids, visitor ids (None or missing values where a row is bad).
_Columns = tuple[
    list[datetime | None], list[str | None], list[dict[str, str]], list[dict[str, float | None]], Iterable[str | None], Iterable[str | None]
]


class _Screen:
    """The columns of many lines checked at once, with C-level passes over each column.

    `suspects` holds the positions of the rows it cannot vouch for (every check that
    could fail marks them); every other row is good, and `values` (instants, days,
    dimensions, metrics, transaction ids, visitor ids: one item per candidate row) holds
    what `RowChecker._check` would give it.
    """

    def __init__(self, checker: RowChecker, texts: Sequence[str], rows_wanted: bool) -> None:
        self.suspects: set[int] = set()
        self.good_days: set[str] = set()
        self.values: _Columns | tuple[()] = ()
        self.candidates = self._candidates(checker, texts)
        if not self.candidates:
            return
        bad: set[int] = set()  # positions among the candidates
        columns = self._columns
        ats, days, day_set = checker._dates.column(columns[0], bad, rows_wanted)
        dimensions = self._dimensions(checker, columns, bad, rows_wanted)
        metrics = self._metrics(checker, columns, bad, rows_wanted)
        transaction_ids = self._transaction_ids(checker, columns, bad)
        visitor_ids = self._visitor_ids(checker, columns, bad)
        self._no_dimension(checker, columns, bad)
        self.good_days = day_set
        if bad:  # the days of good rows only
            self.suspects.update(self.candidates[i] for i in bad)
            dates = columns[0]
            self.good_days = {day for i in range(len(dates)) if i not in bad and (day := checker._dates.parse(dates[i])[1])}
        self.values = (ats, days, dimensions, metrics, transaction_ids, visitor_ids)

    def _candidates(self, checker: RowChecker, texts: Sequence[str]) -> list[int] | range:
        """Rows of the right size and width; `_columns` holds their fields, column by column."""
        width = checker._width
        longest = max(map(len, texts))
        if longest > MAX_ROW_BYTES // 4:
            _mark(texts, lambda text: len(text) > MAX_ROW_BYTES // 4, self.suspects)
        # The longest a value of a good row can be: its line less a date and the tabs.
        self.longest_value = longest - 10 - (width - 1)
        # A semicolon may be in a dimension (a warning) or a metric (an error): either way
        # `_check` words it.
        if ";" in "".join(texts):
            _mark_true(map(contains, texts, repeat(";")), self.suspects)
        tabs = list(map(str.count, texts, repeat("\t")))
        if tabs.count(width - 1) != len(tabs):
            _mark(tabs, (width - 1).__ne__, self.suspects)
        candidates = range(len(texts)) if not self.suspects else [i for i in range(len(texts)) if i not in self.suspects]
        if candidates:
            # One split of them all, sliced into columns: one list, not one a row.
            fields = "\t".join(texts if not self.suspects else map(texts.__getitem__, candidates)).split("\t")
            self._columns = [fields[i::width] for i in range(width)]
        return candidates

    def _dimensions(self, checker: RowChecker, columns: list[list[str]], bad: set[int], rows_wanted: bool) -> list[dict[str, str]]:
        values = [columns[i] for i in checker._dimension_indexes]
        for column in values if self.longest_value * 4 > MAX_VALUE_BYTES else ():
            if max(map(len, column)) * 4 > MAX_VALUE_BYTES:
                _mark(column, lambda value: len(value) * 4 > MAX_VALUE_BYTES, bad)
        if not rows_wanted:
            return []
        dicts = _dicts(checker._dimension_keys, values, len(columns[0]))
        if any("" in column for column in values):  # an empty value is no value
            _drop_missing(dicts, map(contains, zip(*values, strict=False), repeat("")))
        return dicts

    def _metrics(self, checker: RowChecker, columns: list[list[str]], bad: set[int], rows_wanted: bool) -> list[dict[str, float | None]]:
        numbers: list[Sequence[float | None]] = []
        missing = full_column = False
        for i in checker._metric_indexes:
            column, some_missing = _numbers(columns[i], bad, rows_wanted, self.longest_value)
            if column is None:  # every value is a good number (and no row is wanted)
                full_column = True
            else:
                numbers.append(column)
            missing = missing or some_missing
        if missing and not full_column:  # a row needs a metric: `_check` words what is wrong
            _mark(list(map(tuple.count, zip(*numbers, strict=False), repeat(None))), len(numbers).__eq__, bad)
        if not rows_wanted:
            return []
        dicts = _dicts(checker._metric_keys, numbers, len(columns[0]))
        if missing:
            _drop_missing(dicts, map(contains, zip(*numbers, strict=False), repeat(None)))
        return dicts

    def _transaction_ids(self, checker: RowChecker, columns: list[list[str]], bad: set[int]) -> Iterable[str | None]:
        if checker._transaction is None:
            return repeat(None)
        column = columns[checker._transaction]
        if self.longest_value * 4 > MAX_ID_BYTES and max(map(len, column)) * 4 > MAX_ID_BYTES:
            _mark(column, lambda value: len(value) * 4 > MAX_ID_BYTES, bad)
        return [value or None for value in column] if "" in column else column

    def _visitor_ids(self, checker: RowChecker, columns: list[list[str]], bad: set[int]) -> Iterable[str | None]:
        if checker._visitor is None:
            return repeat(None)
        column = columns[checker._visitor]
        if not _plain_visitors(column):
            _mark(column, lambda value: not _plain_visitor(value), bad)
        return column

    def _no_dimension(self, checker: RowChecker, columns: list[list[str]], bad: set[int]) -> None:
        """Rows whose every dimension (ids included) is empty are for `_check` to word."""
        dimensions = [columns[i] for i, _, _ in checker._all_dimensions]
        if all("" in column for column in dimensions):
            _mark_true(map(not_, map(any, zip(*dimensions, strict=False))), bad)


def _dicts(keys: Sequence[str], columns: Sequence[Sequence[_V]], rows: int) -> list[dict[str, _V]]:
    """One dict a row, of `keys` to the row's values; `columns` holds the values key by key.

    Filled a column at a time with C-level passes, as a file makes two dicts a row: copies
    of the first row's dict (so each starts at its final size), then `setitem` down each
    column. No code is generated; a generated dict display (eval) was about 25 ns a dict
    faster with 2 or 3 keys, some 1% of the reader's instructions.
    """
    if not rows:
        return []
    first = dict(zip(keys, [column[0] for column in columns], strict=True))
    dicts = list(map(dict.copy, repeat(first, rows)))
    for key, column in zip(keys, columns, strict=True):
        deque(map(setitem, dicts, repeat(key), column), maxlen=0)  # consumed in C
    return dicts


def _drop_missing(dicts: list[dict[str, _V]], has_missing: Iterable[bool]) -> None:
    """Leave the missing values (None or "") out of the dicts flagged."""
    for i in compress(count(), list(has_missing)):
        dicts[i] = {key: value for key, value in dicts[i].items() if value is not None and value != ""}


def _numbers(column: Sequence[str], bad: set[int], wanted: bool, longest: int) -> tuple[Sequence[float | None] | None, bool]:
    """The metric values of a column, None where empty or bad, and whether one is None.

    Bad values are marked in `bad`. The values are None instead of a list when they are
    not `wanted` and every one is a good number. `longest` bounds the length of a value.
    """
    distinct = set(column)
    if len(distinct) * 4 <= len(column):  # values repeat: parse each once
        table = {text: _number(text) if text else None for text in distinct}
        wrong = {text for text, number in table.items() if text and number is None}
        if wrong:
            _mark(column, wrong.__contains__, bad)
        return list(map(table.__getitem__, column)), None in table.values()
    if "" not in distinct:
        if not wanted and longest <= 300 and _plain_decimals(distinct):
            return None, False
        joined = "".join(distinct)
        if joined.isascii() and "_" not in joined:
            try:
                numbers = list(map(float, column))
            except ValueError:
                pass
            else:
                total = sum(numbers)
                if total - total == 0.0:  # every number is finite (a nan or inf would spread)
                    return numbers, False
    checked = [_number(text) if text else None for text in column]
    _mark(range(len(column)), lambda i: checked[i] is None and column[i] != "", bad)
    return checked, None in checked


_DIGITS = str.maketrans("", "", "0123456789")


def _plain_decimals(texts: set[str]) -> bool:
    """Every text is ASCII digits with at most one '.' (and a digit): a float, finite if short.

    Checked with three passes over them all, without parsing one.
    """
    if "." in texts:
        return False
    rest = ("\n".join(texts) + "\n").translate(_DIGITS)  # the separators and the dots
    return rest.replace(".\n", "\n") == "\n" * len(texts)


def _plain_visitors(values: Sequence[str]) -> bool:
    """`_plain_visitor` of every value, in a few passes over them all."""
    joined = " ".join(values)
    # Printable, a space is the only blank a value can hold; with no value starting or
    # ending with one (nor empty), stripping would change none, so only case is left.
    if not joined.isprintable() or "  " in joined or joined[:1] == " " or joined[-1:] == " ":
        return False
    spaced = joined.count(" ") != len(values) - 1  # some value holds a space inside
    plain = set(map(str.lower, values)) if spaced else set(joined.lower().split(" "))
    return "" not in plain and plain.isdisjoint(PLACEHOLDER_IDS) and max(map(len, values)) * 4 <= MAX_ID_BYTES


def _plain_visitor(value: str) -> bool:
    """The common visitor id, proven fine cheaply; anything else gets `check_id`."""
    plain = value.strip().lower()
    return bool(plain) and plain not in PLACEHOLDER_IDS and len(value) * 4 <= MAX_ID_BYTES and value.isprintable()


def _byte_limit(header: Field) -> int | None:
    if header is VISITOR_ID:
        return None
    return MAX_ID_BYTES if header is TRANSACTION_ID else MAX_VALUE_BYTES


def _number(text: str) -> float | None:
    """A metric's value: a finite decimal number in ASCII (no `_`, as Python would allow)."""
    if not text.isascii() or "_" in text:
        return None
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _too_long(line: int) -> LineProblem:
    return LineProblem(line, None, "ROW_TOO_LONG", f"a row is at most {MAX_ROW_BYTES} bytes of UTF-8.")


def _field_count(line: int, count: int, width: int) -> LineProblem:
    return LineProblem(line, None, "FIELD_COUNT", f"{count} fields where the header has {width}.")


def _by_column(problem: LineProblem) -> tuple[bool, int]:
    return problem.column is None, problem.column or 0
