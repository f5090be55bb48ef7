"""Benchmark: offline ingestion, section by section, each beside its floor in the same run.

Builds upload files on the fly, about 50 MB and 600,000+ rows in all, and prints:

- parsing: csv.reader's rows/s over the same bytes (decoded the same way, streamed), our
  checker's (`FileChecker`, fed 255 KB chunks as an upload arrives) and our reader's
  (`read_rows`, every row parsed), each as a share of csv.reader's, also with the garbage
  collector off, and the peak memory growth of checking and reading (tracemalloc, in a
  separate untimed pass);
- linking: parse + check + link as a worker does it (reads only) and its store calls,
  beside csv.reader's rate and beside csv.reader plus a raw read of the documents the rows
  link to;
- end to end: upload to SUCCESS beside a raw insert_many of the same row documents into
  the same store, the store round trips per 10,000 rows, and the process's memory growth.

Rates are rows per second of CPU time (the best of several rounds for parsing), as the
machine is shared; end to end is wall-clock time.

The rows are split into one file per data source type, as real uploads are: a third of
the rows in a Transaction ID file (each row with its id), a tenth in a Visitor ID file,
the rest in a summary file. One file with both id columns cannot stand in for them: an
empty visitorID is refused, so the rows without one would all be errors. Dates are half
MM/DD/YYYY, half with a time that changes every row (no two alike), over 60 days.

Add a section by writing `def section(files, args) -> None` and listing it in SECTIONS.

    python bench/ingest.py             # ~50 MB
    python bench/ingest.py --smoke     # ~5,000 rows, for CI
    python bench/ingest.py --profile   # also the top of a cProfile of the checker
    python bench/ingest.py --store mongodb://host:port   # on MongoDB (a fresh database)
"""

import argparse
import asyncio
import cProfile
import csv
import gc
import io
import pstats
import resource
import threading
import time
import tracemalloc
from collections import Counter, deque
from dataclasses import dataclass
from datetime import UTC, datetime

from models import store as collections
from models.companies import Caller, Role
from models.data_sources import CATALOGUE, DataSource, SourceType
from models.fields import Kind, by_header
from models.jobs import Job, JobStatus
from models.keys import snapshot_key, visitor_key
from models.profiles import Persisted, VisitorState
from models.store import Store
from models.upload_files import MAX_FILE_BYTES, Encoding, FileChecker, read_rows
from models.upload_rows import LineProblem, ParsedRow
from resolvers import data_sources, processing, report_suites, uploads

CHUNK = 255 * 1024
TIME_ZONE = "America/New_York"
NOW = datetime(2026, 6, 1, tzinfo=UTC)
BASE_COLUMNS = ["Date", "Evar 1", "Evar 2", "Tracking Code", "Event 1", "Price"]
KINDS = {"summary": (None, 0.57), "transaction": ("transactionID", 1 / 3), "visitor": ("visitorID", 0.1)}
BYTES_PER_ROW = 58  # about, to size the row counts from the target bytes
RSID, COMPANY = "bench", "bench-company"
ADMIN = Caller(COMPANY, Role.ADMIN, "bench-admin")
UPLOADER = Caller(COMPANY, Role.UPLOADER, "bench-uploader")


@dataclass
class File:
    kind: str
    data: bytes
    rows: int

    def chunks(self):
        for start in range(0, len(self.data), CHUNK):
            yield self.data[start : start + CHUNK]


def make_file(kind: str, id_column: str | None, rows: int, offset: int) -> File:
    """Rows of one data source type; `offset` keeps ids and times apart across files."""
    header = BASE_COLUMNS + ([id_column] if id_column else [])
    lines = [f"# {kind} data source (bench)", "\t".join(header)]
    for n in range(offset, offset + rows):
        day = f"{4 + n % 60 // 30:02d}/{1 + n % 30:02d}/2026"
        seconds = n * 37 % 86400
        date = day if n % 2 else f"{day}/{seconds // 3600:02d}/{seconds // 60 % 60:02d}/{seconds % 60:02d}"
        fields = [date, f"campaign-{n % 40}", f"product {n % 900}", f"tc_{n % 150}", str(n % 3 + 1), f"{n % 5000 / 100:.2f}"]
        if id_column == "transactionID":
            fields.append(f"order_{n}")
        elif id_column == "visitorID":
            fields.append(f"cust-{n % 50000}")
        lines.append("\t".join(fields))
    data = ("\n".join(lines) + "\n").encode()
    assert len(data) <= MAX_FILE_BYTES
    return File(kind, data, rows)


def make_files(target_bytes: int) -> list[File]:
    total_rows = target_bytes // BYTES_PER_ROW
    files, offset = [], 0
    for kind, (id_column, share) in KINDS.items():
        rows = int(total_rows * share)
        files.append(make_file(kind, id_column, rows, offset))
        offset += rows
    return files


def csv_rows(file: File) -> int:
    """csv.reader over the same bytes, decoded as they stream; the data rows it read."""
    reader = csv.reader(io.TextIOWrapper(io.BytesIO(file.data), encoding="utf-8", newline=""), delimiter="\t")
    deque(reader, maxlen=0)  # consumed in C, as read_rows is
    return reader.line_num - 2  # the comment and the header


def check(file: File) -> int:
    checker = FileChecker(TIME_ZONE, NOW)
    for chunk in file.chunks():
        checker.feed(chunk)
    result = checker.finish()
    assert not result.problems, result.problems[:3]
    return result.rows


def read(file: File) -> int:
    """The rows read_rows yields; consumed in C (Counter over their types), so the figure is
    the reader's own, not a Python loop's around it."""
    kinds = Counter(map(type, read_rows(file.chunks(), Encoding.UTF_8, TIME_ZONE, NOW)))
    assert not kinds[LineProblem], kinds
    return kinds[ParsedRow]


def rates(files: list[File], runs: dict, repeats: int) -> dict[str, float]:
    """Rows per second of CPU time of each run, the best of `repeats` rounds.

    The machine is shared: the runs take turns within a round, so that a busy spell
    slows them alike, and the best round of each stands.
    """
    best = dict.fromkeys(runs, float("inf"))
    rows = sum(f.rows for f in files)
    for _ in range(repeats):
        for name, run in runs.items():
            began = time.process_time()
            assert sum(run(f) for f in files) == rows
            best[name] = min(best[name], time.process_time() - began)
    return {name: rows / seconds for name, seconds in best.items()}


def read_without_gc(file: File) -> int:
    gc.disable()
    try:
        return read(file)
    finally:
        gc.enable()


def peak_growth(files: list[File], run) -> int:
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    for f in files:
        run(f)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak - base


def parse_and_check(files: list[File], args) -> None:
    runs = {"csv": csv_rows, "check": check, "read": read, "read_without_gc": read_without_gc}
    rate = rates(files, runs, 1 if args.smoke else 5)
    csv_rate = rate["csv"]
    print(f"ingest: csv.reader(delimiter='\\t')  {csv_rate:>10,.0f} rows/s")
    for name, label in (
        ("check", "FileChecker (check)"),
        ("read", "read_rows (parse + check)"),
        ("read_without_gc", "read_rows, gc disabled"),
    ):
        print(f"ingest: {label:27}{rate[name]:>11,.0f} rows/s  {rate[name] / csv_rate:6.0%} of csv.reader")
    growth = {name: peak_growth(files, run) for name, run in (("check", check), ("read", read))}
    largest = max(len(f.data) for f in files)
    print(
        f"ingest: peak memory growth         check {growth['check'] / 1e6:.1f} MB, read {growth['read'] / 1e6:.1f} MB (largest file {largest / 1e6:.1f} MB)"
    )
    if args.profile:
        profile = cProfile.Profile()
        profile.runcall(lambda: [check(f) for f in files])
        pstats.Stats(profile).sort_stats("tottime").print_stats(12)


async def _seeded_store(files: list[File], uri: str | None) -> tuple[Store, dict[str, DataSource]]:
    """A store holding what the rows link to: a snapshot for every transaction id and a
    visitor for every visitor id (inserted raw: this measures ingestion, not collection),
    and one data source per file, all of one company."""
    store = Store.connect(uri, database=f"bench{time.time_ns()}")
    await store.create_indexes()
    await report_suites.create(store, ADMIN, RSID, "Bench", time_zone=TIME_ZONE)
    snapshots, visitors = [], {}
    for file in files:
        for line in file.data.decode().splitlines()[2:]:
            last = line.rsplit("\t", 1)[-1]
            if file.kind == "transaction":
                snapshots.append(_snapshot_doc(last))
            elif file.kind == "visitor":
                visitors[last] = _visitor_doc(last)
    await store.insert_many(collections.SNAPSHOTS, snapshots)
    await store.insert_many(collections.VISITORS, list(visitors.values()))
    sources = {}
    for file in files:
        type_name = {
            "summary": SourceType.GENERIC_SUMMARY,
            "transaction": SourceType.GENERIC_TRANSACTION_ID,
            "visitor": SourceType.CALL_CENTER_VISITOR_ID,
        }[file.kind]
        header = file.data.split(b"\n", 2)[1].decode().split("\t")[1:]
        kinds = {h: getattr(by_header(h), "kind", None) for h in header}
        dimensions = [(h, None) for h in header if kinds[h] is Kind.DIMENSION]
        metrics = [(h, None) for h in header if kinds[h] is Kind.METRIC]
        entry = CATALOGUE[type_name]
        sources[file.kind] = await data_sources.create(store, ADMIN, RSID, file.kind, entry.category, type_name, dimensions, metrics)
    return store, sources


def _snapshot_doc(transaction_id: str) -> dict:
    recorded = datetime(2026, 3, 1, tzinfo=UTC)
    # Far-off expiry: the embedded store's TTL monitor goes by the real clock.
    return {
        "_id": snapshot_key(COMPANY, RSID, transaction_id), "rsid": RSID, "companyId": COMPANY, "transactionId": transaction_id,
        "visitorId": "v-" + transaction_id, "hitId": "h", "values": {"evar3": "lead", "trackingCode": "spring"},
        "visitNumber": 1, "recordedAt": recorded, "expiresAt": datetime(2030, 1, 1, tzinfo=UTC), "linkedRowCount": 0, "version": 1,
    }  # fmt: skip


def _visitor_doc(visitor_id: str) -> dict:
    seen = datetime(2026, 3, 1, tzinfo=UTC)  # before every row: the state as of a row is the visitor's last
    state = VisitorState(RSID, COMPANY, visitor_id, seq=1, visit_count=1, first_seen=seen, last_seen=seen,
                         values={"evar4": Persisted("search", seen, 1)}, version=1)  # fmt: skip
    return state.to_doc()


async def _link_file(store: Store, source: DataSource, file: File) -> int:
    """Parse, check and link one file as a worker does, writing nothing: the rows linked."""
    suite = await report_suites.get(store, ADMIN, RSID)
    target = processing.target(COMPANY, "bench", source, file.data.split(b"\n", 2)[1].decode().split("\t"))
    items = _aiter(read_rows(file.chunks(), Encoding.UTF_8, TIME_ZONE, NOW))
    linked = 0
    async for parsed, _problems, _skipped in processing.batches(items, processing.BATCH_ROWS):
        batch = await processing.link_rows(store.company(COMPANY), suite, target, parsed, NOW)
        linked += len(batch.rows)
    return linked


async def _aiter(items):
    for item in items:
        yield item


async def _upload_and_process(store: Store, source: DataSource, file: File) -> Job:
    async def pieces():
        for chunk in file.chunks():
            yield chunk

    job = await uploads.upload_file(store, UPLOADER, source.id, f"{file.kind}.txt", pieces())
    worker = processing.Worker(store)
    while await worker.run_once():
        pass
    done = await store.find_one(collections.JOBS, {"_id": job.id})
    assert done is not None
    return Job.from_doc(done)


def parse_check_link(files: list[File], args) -> None:
    """Parse + check + link rows/s (reads only) beside csv.reader's, and beside the floor of
    linking: csv.reader over the file plus a raw `_id $in` read of the documents the rows
    link to (snapshots, visitor states), a batch at a time, from the same store."""
    csv_rate = rates(files, {"csv": csv_rows}, 1 if args.smoke else 3)["csv"]
    rows = sum(f.rows for f in files)

    async def run() -> tuple[float, int, float]:
        store, sources = await _seeded_store(files, args.store)
        store.round_trips = 0
        began = time.process_time()
        for file in files:
            assert await _link_file(store, sources[file.kind], file) == file.rows
        seconds = time.process_time() - began
        trips = store.round_trips
        began = time.process_time()
        await _read_linked_raw(store, files)
        reads = time.process_time() - began
        store.close()
        return seconds, trips, reads

    seconds, trips, reads = asyncio.run(run())
    floor = rows / (rows / csv_rate + reads)
    print(
        f"ingest: parse + check + link       {rows / seconds:>11,.0f} rows/s  {rows / seconds / csv_rate:6.0%} of csv.reader  ({trips} store calls)"
    )
    print(
        f"ingest: csv.reader + raw reads     {floor:>11,.0f} rows/s  (the linked documents read by _id, {reads:.1f} s): ours is {rows / seconds / floor:.0%} of it"
    )


async def _read_linked_raw(store: Store, files: list[File]) -> None:
    """Read, by `_id` in batches of BATCH_ROWS, the snapshot of every transaction row and
    the visitor state of every visitor-ID row: what linking has to read at least."""
    keys = {"transaction": (collections.SNAPSHOTS, snapshot_key), "visitor": (collections.VISITORS, visitor_key)}
    for file in files:
        if file.kind not in keys:
            continue
        collection, key = keys[file.kind]
        ids = [key(COMPANY, RSID, line.rsplit("\t", 1)[-1]) for line in file.data.decode().splitlines()[2:]]
        for start in range(0, len(ids), processing.BATCH_ROWS):
            await store.find_many(collection, {"_id": {"$in": ids[start : start + processing.BATCH_ROWS]}})


def end_to_end(files: list[File], args) -> None:
    """Upload to SUCCESS beside a raw insert_many of the same row documents into the same store."""

    async def ours() -> tuple[float, int, int, list[dict]]:
        store, sources = await _seeded_store(files, args.store)
        store.round_trips = 0
        began = time.perf_counter()
        with _PeakMemory() as memory:
            for file in files:
                job = await _upload_and_process(store, sources[file.kind], file)
                assert job.status is JobStatus.SUCCESS and job.counts.rows == file.rows, job
        seconds = time.perf_counter() - began
        trips, growth = store.round_trips, memory.growth
        docs = await store.find_many(collections.ROWS, {})
        store.close()
        return seconds, trips, growth, docs

    async def raw(docs: list[dict]) -> float:
        store = Store.connect(args.store, database=f"raw{time.time_ns()}")
        await store.create_indexes()
        began = time.perf_counter()
        await store.insert_many(collections.ROWS, docs)
        seconds = time.perf_counter() - began
        store.close()
        return seconds

    seconds, trips, growth, docs = asyncio.run(ours())
    rows = sum(f.rows for f in files)
    raw_seconds = asyncio.run(raw(docs))
    print(
        f"ingest: upload to SUCCESS          {rows / seconds:>11,.0f} rows/s  {raw_seconds / seconds:6.0%} of a raw insert_many ({rows / raw_seconds:,.0f} rows/s)"
    )
    print(
        f"ingest: store round trips          {trips * 10_000 / rows:11.1f} per 10,000 rows; peak RSS growth {growth / 1e6:,.0f} MB ({'embedded' if args.store is None else 'wire'} store)"
    )


class _PeakMemory:
    """The most the process's resident memory grew while the block ran, sampled every 20 ms
    (the peak so far, ru_maxrss, would hide a growth below an earlier peak)."""

    def __enter__(self) -> "_PeakMemory":
        self.start = self.peak = _resident()
        self._done = threading.Event()
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()
        return self

    def _sample(self) -> None:
        while not self._done.wait(0.02):
            self.peak = max(self.peak, _resident())

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._sampler.join()
        self.peak = max(self.peak, _resident())

    @property
    def growth(self) -> int:
        return self.peak - self.start


def _resident() -> int:
    """The process's resident memory now, in bytes (Linux)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize()


SECTIONS = [parse_and_check, parse_check_link, end_to_end]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--megabytes", type=float, default=50)
    parser.add_argument("--smoke", action="store_true", help="~5,000 rows: checks the benchmark runs")
    parser.add_argument("--profile", action="store_true", help="print the top of a cProfile of the checker")
    parser.add_argument("--store", default=None, metavar="URI", help="a MongoDB URI (default: the embedded store)")
    args = parser.parse_args()
    target = 5_000 * BYTES_PER_ROW if args.smoke else int(args.megabytes * 1_000_000)
    files = make_files(target)
    sizes = ", ".join(f"{f.kind} {f.rows:,} rows {len(f.data) / 1e6:.1f} MB" for f in files)
    print(f"ingest: {sum(f.rows for f in files):,} rows, {sum(len(f.data) for f in files) / 1e6:.1f} MB ({sizes})")
    for section in SECTIONS:
        section(files, args)


if __name__ == "__main__":
    main()
