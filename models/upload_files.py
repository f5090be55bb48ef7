"""The offline upload file: bytes as they stream in, to lines, to checked rows.

- `FileChecker` is fed an upload chunk by chunk (`feed`, then `finish`) and returns a
  `FileCheck`: the encoding it found, the counts a job reports and the problems.
- `read_rows` reads a stored file again, told the encoding its check found, and yields
  every `ParsedRow` and `LineProblem` in file order.
The rows themselves are checked by `models.upload_rows`, which the row API shares.

Memory stays bounded by a chunk, the longest line kept (64K characters) and the day set,
whatever the file size. Decisions the rules leave open:
- Blank lines are ignored like comments (and counted as lines): exports often end with
  one or separate blocks with them, and a blank line holds no data to lose. A line of
  only tabs or spaces is not blank: it is a row, and its problems are reported.
- No quoting: the format has no escape for a tab or a line break in a value, so a `"` is
  part of a value. Lines end with `\\n`, `\\r\\n` or a lone `\\r`.
- Encoding: without a byte-order mark the file is taken as UTF-8 until a byte says it is
  not, then the whole file is ISO-8859-1. Only in a mixed file, whose text before that
  byte held non-ASCII UTF-8, can the checker (which read that text as UTF-8) and the
  reader (which reads it all as ISO-8859-1) differ, and then only on byte limits. A file
  with a UTF-8 byte-order mark that is not valid UTF-8 fails, as does broken UTF-16.
- A file with a header and no rows passes with 0 rows: a nightly export of a quiet day
  must not fail (and lock) its data source.
"""

import codecs
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from itertools import chain
from typing import cast

from models.data_sources import DataSource
from models.upload_rows import Layout, LineProblem, ParsedRow, RowChecker, Severity, check_header, file_problem

MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_KEPT_PROBLEMS = 1000  # a check keeps this many row problems; its counts stay exact
LONGEST_LINE = 65_536  # characters kept of one line; a longer one is surely too long
_HEAD_BYTES = 64  # bytes looked at to find the encoding
# Lines checked together: enough to pay for the column passes, few enough that the rows
# made are used and dropped before the garbage collector has to look at them.
_BATCH_LINES = 512
_LEAST_PUSH = 64 * 1024  # bytes gathered before they are decoded and split


class Encoding(str, Enum):
    UTF_8 = "UTF_8"
    UTF_8_BOM = "UTF_8_BOM"
    ISO_8859_1 = "ISO_8859_1"
    UTF_16_LE = "UTF_16_LE"
    UTF_16_BE = "UTF_16_BE"


# codec, byte-order mark, and the name messages use
_CODECS = {
    Encoding.UTF_8: ("utf-8", b"", "UTF-8"),
    Encoding.UTF_8_BOM: ("utf-8", codecs.BOM_UTF8, "UTF-8"),
    Encoding.ISO_8859_1: ("latin-1", b"", "ISO-8859-1"),
    Encoding.UTF_16_LE: ("utf-16-le", codecs.BOM_UTF16_LE, "UTF-16"),
    Encoding.UTF_16_BE: ("utf-16-be", codecs.BOM_UTF16_BE, "UTF-16"),
}


class _Decoder:
    """Bytes to text for one file, from its first bytes on.

    Told no encoding, it finds one: a byte-order mark (UTF-8, UTF-16 LE or BE); NUL bytes
    at the start without a mark (UTF-16 without a BOM: refused); else UTF-8 until a byte
    is not, from which on the whole file is ISO-8859-1. `decode` returns the text and,
    when the bytes cannot be decoded, the problem's code and message (after the text
    that came before the bad byte).
    """

    def __init__(self, encoding: Encoding | None) -> None:
        self.encoding = encoding
        self._finding = encoding is None
        self._head = b""
        self._decoder: codecs.IncrementalDecoder | None = None

    def decode(self, data: bytes, final: bool) -> tuple[str, tuple[str, str] | None]:
        decoder = self._decoder
        if decoder is None:
            self._head += data
            if len(self._head) < _HEAD_BYTES and not final:
                return "", None
            data, self._head = self._head, b""
            if self._finding:
                self.encoding = _encoding_of(data)
            if self.encoding is None:
                message = "the file looks like UTF-16 without a byte-order mark (BOM); save it as UTF-8, or as UTF-16 with a BOM."
                return "", ("UTF16_WITHOUT_BOM", message)
            data, decoder = self._start(data, self.encoding)
        try:
            return decoder.decode(data, final), None
        except UnicodeDecodeError as error:
            return self._undecodable(error, final)

    def _start(self, head: bytes, encoding: Encoding) -> tuple[bytes, codecs.IncrementalDecoder]:
        """The decoder for `encoding`, and `head` without its byte-order mark."""
        codec, bom, _ = _CODECS[encoding]
        self._decoder = codecs.getincrementaldecoder(codec)()
        return head.removeprefix(bom) if bom else head, self._decoder

    def _undecodable(self, error: UnicodeDecodeError, final: bool) -> tuple[str, tuple[str, str] | None]:
        encoding = self.encoding
        assert encoding is not None, "a decoder runs only once the encoding is known"
        if self._finding and encoding is Encoding.UTF_8:
            # Not UTF-8 after all: ISO-8859-1 from here on, bytes held back included.
            self.encoding = Encoding.ISO_8859_1
            self._decoder = codecs.getincrementaldecoder("latin-1")()
            return self._decoder.decode(error.object, final), None
        codec, _, name = _CODECS[encoding]
        before = error.object[: error.start].decode(codec)
        return before, ("INVALID_ENCODING", f"the file is not valid {name} from this line on; save it again as {name}.")


def _encoding_of(head: bytes) -> Encoding | None:
    """The encoding the first bytes show; None for UTF-16 without a byte-order mark."""
    if head.startswith(codecs.BOM_UTF8):
        return Encoding.UTF_8_BOM
    if head.startswith(codecs.BOM_UTF16_LE):
        return Encoding.UTF_16_LE
    if head.startswith(codecs.BOM_UTF16_BE):
        return Encoding.UTF_16_BE
    if b"\x00" in head[:_HEAD_BYTES]:
        return None
    return Encoding.UTF_8


class _File:
    """One file's bytes in, its rows and problems out, in file order.

    Shared by the checker (which only counts rows) and the reader (which wants them).
    Lines split on \\n, \\r\\n or a lone \\r, also across chunks; a line longer than
    LONGEST_LINE characters is kept cut to LONGEST_LINE + 1, which is still too long for
    every use, so memory stays bounded and the outcome does not depend on the chunks.
    """

    def __init__(self, decoder: _Decoder, source: DataSource | None, time_zone: str, now: datetime, rows_wanted: bool) -> None:
        self.decoder = decoder
        self.source, self.time_zone, self.now = source, time_zone, now
        self.rows_wanted = rows_wanted
        self.size = 0
        self.lines = 0
        self.rows = 0
        self.skipped_rows = 0
        self.rows_checker: RowChecker | None = None
        self.failed = False
        self.stopped = False  # nothing more is read: the header, encoding or size failed
        self._pending = bytearray()
        self._carry = ""
        self._cr = False  # the text so far ended with \r: a \n may follow in the next chunk

    def push(self, data: bytes, final: bool = False) -> Iterator[Sequence[ParsedRow | LineProblem]]:
        """The rows (if wanted) and problems the new bytes complete, in file order.

        They come a batch of lines at a time, so that rows are used and dropped before
        the next batch is made (fewer live objects: less work for the garbage collector).
        """
        if self.stopped:
            return
        self.size += len(data)
        if self.size > MAX_FILE_BYTES:
            message = f"a file is at most {MAX_FILE_BYTES // (1024 * 1024)} MB ({MAX_FILE_BYTES:,} bytes)."
            yield [self._stop(file_problem(self.lines + 1, None, "FILE_TOO_LARGE", message))]
            return
        # Small chunks wait for more: a line carried over many tiny chunks would otherwise
        # be copied once per chunk.
        self._pending += data
        if len(self._pending) < _LEAST_PUSH and not final:
            return
        data = bytes(self._pending)
        self._pending.clear()
        text, refused = self.decoder.decode(data, final)
        yield from self._handle(self._lines(text, final and not refused))
        if refused and not self.stopped:
            yield [self._stop(file_problem(self.lines + 1, None, *refused))]
        elif final and self.rows_checker is None and not self.stopped:
            yield [
                self._stop(
                    file_problem(max(self.lines, 1), None, "NO_HEADER", "the file has no header line (it is empty or only comments).")
                )
            ]

    def _stop(self, problem: LineProblem) -> LineProblem:
        self.failed = self.stopped = True
        return problem

    def _lines(self, text: str, final: bool) -> list[str]:
        """The lines `text` completes; the last, unfinished one is carried to the next chunk."""
        text = self._carry + ("\r" if self._cr else "") + text
        self._cr = not final and text.endswith("\r")
        if self._cr:
            text = text[:-1]
        if "\r" in text:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        lines = text.split("\n")
        carry = lines.pop()
        if final and carry:
            lines.append(carry)
            carry = ""
        self._carry = carry if len(carry) <= LONGEST_LINE else carry[: LONGEST_LINE + 1]
        return lines

    def _handle(self, lines: list[str]) -> Iterator[Sequence[ParsedRow | LineProblem]]:
        first = self.lines + 1
        self.lines += len(lines)
        start = 0
        if self.rows_checker is None:
            header_problems: list[LineProblem] = []
            start = self._find_header(lines, first, header_problems)
            if header_problems:
                yield header_problems
            if self.stopped or self.rows_checker is None:
                return
        data = lines[start:] if start else lines
        numbers: Sequence[int]
        if "" in data or ("\n" + "\n".join(data)).find("\n#") >= 0:
            numbers = [first + start + i for i, text in enumerate(data) if text and text[0] != "#"]
            data = [text for text in data if text and text[0] != "#"]  # comments and blank lines go
        else:
            numbers = range(first + start, first + start + len(data))
        checker = self.rows_checker
        for start in range(0, len(data), _BATCH_LINES):
            batch = data[start : start + _BATCH_LINES]
            found, skipped = checker.check_lines(numbers[start : start + _BATCH_LINES], batch, self.rows_wanted)
            self.rows += len(batch)
            self.skipped_rows += skipped
            self.failed = self.failed or checker.failed
            yield found

    def _find_header(self, lines: list[str], first: int, out: list[LineProblem]) -> int:
        """Check the header if it is among `lines`; returns where the data lines start."""
        for i, text in enumerate(lines):
            if text and text[0] != "#":
                out += self._header(first + i, text)
                return i + 1
        return len(lines)

    def _header(self, number: int, text: str) -> list[LineProblem]:
        if len(text) > LONGEST_LINE:
            return [
                self._stop(file_problem(number, None, "HEADER_TOO_LONG", f"the header line is longer than {LONGEST_LINE:,} characters."))
            ]
        layout, problems = check_header(text.split("\t"), self.source, number)
        if layout is None:  # as good as `if problems`: check_header gives one or the other
            self.failed = self.stopped = True
            return problems
        self.rows_checker = RowChecker(layout, self.time_zone, self.now)
        return []


@dataclass(frozen=True)
class FileCheck:
    """What checking a whole file found: what a job reports before any row is ingested.

    `problems` are in file order; every problem that fails the file is kept, row problems
    up to `max_problems` (counts stay exact, `problems_left_off` says how many were not
    kept). `rows` counts data lines (not comments, blank lines or the header).
    """

    encoding: Encoding | None  # None when the file was refused before one was found
    size: int
    lines: int
    rows: int
    skipped_rows: int
    error_count: int
    warning_count: int
    failed: bool  # a problem fails the file: no row is ingested
    problems: tuple[LineProblem, ...]
    problems_left_off: int
    days: frozenset[str]
    layout: Layout | None

    @property
    def rows_to_ingest(self) -> int:
        return 0 if self.failed else self.rows - self.skipped_rows


class FileChecker:
    """Checks an upload as its bytes stream in: `feed` each chunk, then `finish`.

    `time_zone` is the report suite's (IANA), `now` the time dates may not pass, `source`
    the data source whose template the columns must follow (None: any catalogue column).
    Once the file has failed on its size, encoding or header, further chunks are ignored.
    """

    def __init__(self, time_zone: str, now: datetime, source: DataSource | None = None, max_problems: int = MAX_KEPT_PROBLEMS) -> None:
        self._file = _File(_Decoder(None), source, time_zone, now, rows_wanted=False)
        self._max_problems = max_problems
        self._problems: list[LineProblem] = []
        self._left_off = 0
        self._errors = 0
        self._warnings = 0
        self._result: FileCheck | None = None

    @property
    def failed(self) -> bool:
        """The file has failed already (an upload may stop sending)."""
        return self._file.failed

    def feed(self, chunk: bytes) -> None:
        if self._result is not None:
            raise RuntimeError("the check is finished; start a new FileChecker for another file.")
        self._take(self._file.push(chunk))

    def finish(self) -> FileCheck:
        if self._result is None:
            self._take(self._file.push(b"", final=True))
            file = self._file
            checker = file.rows_checker
            self._result = FileCheck(
                encoding=file.decoder.encoding,
                size=file.size,
                lines=file.lines,
                rows=file.rows,
                skipped_rows=file.skipped_rows,
                error_count=self._errors,
                warning_count=self._warnings,
                failed=file.failed,
                problems=tuple(self._problems),
                problems_left_off=self._left_off,
                days=checker.days if checker else frozenset(),
                layout=checker.layout if checker else None,
            )
        return self._result

    def _take(self, batches: Iterator[Sequence[ParsedRow | LineProblem]]) -> None:
        # The file is read with rows_wanted=False: it yields problems only.
        for problem in cast(Iterator[LineProblem], chain.from_iterable(batches)):
            if problem.severity is Severity.ERROR:
                self._errors += 1
            else:
                self._warnings += 1
            if problem.fails_file or len(self._problems) < self._max_problems:
                self._problems.append(problem)
            else:
                self._left_off += 1


def check_file(
    chunks: Iterable[bytes], time_zone: str, now: datetime, source: DataSource | None = None, max_problems: int = MAX_KEPT_PROBLEMS
) -> FileCheck:
    """A whole file's check, for callers that have its chunks at hand."""
    checker = FileChecker(time_zone, now, source, max_problems)
    for chunk in chunks:
        checker.feed(chunk)
    return checker.finish()


class RowReader:
    """A stored file read again, a chunk at a time, for callers whose chunks come from the
    store one read at a time: `push` each chunk, then `finish`. Each yields the rows and
    problems the bytes so far complete, in file order, as `read_rows` does. `encoding` is
    the one its `FileCheck` found."""

    def __init__(self, encoding: Encoding, time_zone: str, now: datetime, source: DataSource | None = None) -> None:
        self._file = _File(_Decoder(encoding), source, time_zone, now, rows_wanted=True)

    @property
    def stopped(self) -> bool:
        """Nothing more is read: the file failed on its size or encoding."""
        return self._file.stopped

    def push(self, chunk: bytes) -> Iterator[ParsedRow | LineProblem]:
        return chain.from_iterable(self._file.push(chunk))

    def finish(self) -> Iterator[ParsedRow | LineProblem]:
        return chain.from_iterable(self._file.push(b"", final=True))


def read_rows(
    chunks: Iterable[bytes], encoding: Encoding, time_zone: str, now: datetime, source: DataSource | None = None
) -> Iterator[ParsedRow | LineProblem]:
    """Every row and problem of a stored file, in file order, a chunk in memory at a time.

    The checks are the checker's: a file that passed its check yields no problem that
    fails it. A problem that `fails_file` (header, size, encoding, the day limit) means
    none of the rows is to be ingested, including rows yielded before it (the day limit
    and the size come after rows).
    """
    reader = RowReader(encoding, time_zone, now, source)
    for chunk in chunks:
        yield from reader.push(chunk)
        if reader.stopped:
            return
    yield from reader.finish()
