"""Benchmark: late linking and deleting a job's data, on the embedded store (or the
MongoDB that --uri names). Round trips must not grow with the rows stored: late linking
reads rows only for ids some row waits for, and deletion works a batch of rows at a time.

A job of N rows is uploaded and processed: every tenth row names one of 100 transactions
collected before, 1,000 rows wait for 1,000 transactions not collected yet, the rest name
none. Then it times one collectHits call of 1,000 hits whose ids no row waits for (what
late linking costs collection), one of 1,000 hits whose ids the 1,000 rows wait for (each
linked late), and deleteJobData. Times are wall-clock, the best of three, on a fresh store
each time, as the machine is shared.

    python bench/undo_and_late_links.py            # 10,000 and 100,000 rows
    python bench/undo_and_late_links.py --smoke    # 2,000 rows, for CI
"""

import argparse
import asyncio
import time
from collections.abc import AsyncIterator, Awaitable
from datetime import UTC, datetime, timedelta

from models.companies import Caller, Role
from models.data_sources import CATALOGUE, SourceType
from models.hits import HitIn
from models.store import Store
from resolvers import api_keys, collection, data_sources, job_deletion, jobs, processing, report_suites, uploads

RSID = "bench"
WAITING = 1000  # rows waiting for a transaction each, and hits then collected for them


async def _setup(store: Store) -> tuple[Caller, str]:
    company, _ = await api_keys.create_company(store, "Bench")
    admin = Caller(company["_id"], Role.ADMIN, "bench-admin")
    await report_suites.create(store, admin, RSID, "Bench")
    await report_suites.set_recording(store, admin, RSID, True)
    entry = CATALOGUE[SourceType.GENERIC_TRANSACTION_ID]
    source = await data_sources.create(
        store, admin, RSID, "Orders", entry.category, SourceType.GENERIC_TRANSACTION_ID,
        [("Evar 1", None), ("transactionID", None)], [("Event 1", None)],
    )  # fmt: skip
    return admin, source.id


def _hit(n: int, transaction_id: str, at: datetime) -> HitIn:
    return HitIn(f"v-{n}", (at + timedelta(seconds=n)).isoformat(), evars=((2, "online"),), transaction_id=transaction_id)


def _file(rows: int, day: datetime) -> bytes:
    lines = ["Date\tEvar 1\tEvent 1\ttransactionID"]
    for n in range(rows):
        transaction_id = f"late-{n}" if n < WAITING else f"order-{n % 100}" if n % 10 == 0 else ""
        lines.append(f"{day:%m/%d/%Y}\tc{n % 7}\t1\t{transaction_id}")
    return ("\n".join(lines) + "\n").encode()


async def _pieces(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def one_round(rows: int, uri: str | None) -> tuple[float, int, float, int, float, int]:
    """Seconds and round trips of: a call of ids nothing waits for, a call linking 1,000 rows
    late, and deleteJobData, for a job of `rows`."""
    store = Store.connect(uri, database=f"bench{time.time_ns()}")
    try:
        await store.create_indexes()
        admin, source_id = await _setup(store)
        day = datetime.now(UTC) - timedelta(days=1)
        await collection.collect_hits(store, admin, RSID, [_hit(n, f"order-{n}", day) for n in range(100)])
        job = await uploads.upload_file(store, admin, source_id, "orders.txt", _pieces(_file(rows, day)))
        worker = processing.Worker(store)
        while await worker.run_once():
            pass

        async def timed(work: Awaitable[object]) -> tuple[float, int]:
            before, started = store.round_trips, time.perf_counter()
            await work
            return time.perf_counter() - started, store.round_trips - before

        later = day + timedelta(hours=1)
        nothing_waits = await timed(collection.collect_hits(store, admin, RSID, [_hit(n, f"new-{n}", later) for n in range(WAITING)]))
        later += timedelta(hours=1)
        linked = await timed(collection.collect_hits(store, admin, RSID, [_hit(n, f"late-{n}", later) for n in range(WAITING)]))
        (done,) = await jobs.get_many(store, admin, [job.id])
        assert done is not None and done.late_linked == WAITING, done
        removed = await timed(job_deletion.delete_job_data(store, admin, job.id))
        return *nothing_waits, *linked, *removed
    finally:
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="1,000 rows: checks the benchmark runs")
    parser.add_argument("--uri", help="a MongoDB URI instead of the embedded store")
    args = parser.parse_args()
    sizes = [2_000] if args.smoke else [10_000, 100_000]
    for rows in sizes:
        rounds = [asyncio.run(one_round(rows, args.uri)) for _ in range(1 if args.smoke else 3)]
        quiet_s, quiet_trips, late_s, late_trips, delete_s, delete_trips = (min(figures) for figures in zip(*rounds, strict=True))
        print(f"undo: {rows:>7,} rows stored  1,000 hits, no row waiting       {quiet_s * 1000:7.0f} ms  {quiet_trips:3} round trips")
        print(f"undo: {rows:>7,} rows stored  1,000 hits linking 1,000 rows   {late_s * 1000:7.0f} ms  {late_trips:3} round trips")
        print(f"undo: {rows:>7,} rows stored  deleteJobData                    {delete_s * 1000:7.0f} ms  {delete_trips:3} round trips")


if __name__ == "__main__":
    main()
