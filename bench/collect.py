"""Benchmark: hit collection on the embedded store.

Collects N hits over N/10 visitors in calls of 1,000, a fifth of them carrying a
transaction id, and prints hits/s and store round trips per 1,000 hits for 10% of N and
for N. Round trips per 1,000 hits must not grow with N: reads and writes are batched by
call and visitor, not made per hit.

    python bench/collect.py            # 10,000 and 100,000 hits
    python bench/collect.py --smoke    # a small size, for CI
"""

import argparse
import asyncio
import time
from datetime import UTC, datetime, timedelta

from models.companies import Caller, Role
from models.hits import HitIn
from models.store import Store
from resolvers import collection, report_suites
from resolvers.collection import MAX_HITS_PER_CALL


def make_hits(count: int, visitors: int, start: datetime) -> list[HitIn]:
    """Hits in time order, round-robin over the visitors; every fifth carries an id."""
    return [
        HitIn(
            visitor_id=f"visitor-{i % visitors}",
            timestamp=(start + timedelta(seconds=i)).isoformat(),
            evars=((1, f"campaign-{i % 7}"), (2, f"product-{i % 50}")),
            events=(("event1", 1.0),),
            dimensions={"pageName": f"page-{i % 20}"},
            transaction_id=f"order-{i}" if i % 5 == 0 else None,
        )
        for i in range(count)
    ]


async def run(count: int) -> tuple[float, float]:
    """Collect `count` hits into a fresh store; returns (hits/s, round trips per 1,000 hits)."""
    store = Store.connect(None)
    await store.create_indexes()
    admin = Caller(company_id="bench", role=Role.ADMIN, key_id="bench")
    await report_suites.create(store, admin, "bench", "Bench")
    await report_suites.set_recording(store, admin, "bench", True)
    # Recent times: the embedded store's TTL index drops snapshots past by the real clock.
    hits = make_hits(count, max(count // 10, 1), datetime.now(UTC) - timedelta(days=3))
    store.round_trips = 0
    began = time.perf_counter()
    for start in range(0, count, MAX_HITS_PER_CALL):
        result = await collection.collect_hits(store, admin, "bench", hits[start : start + MAX_HITS_PER_CALL])
        assert all(o.collected for o in result.outcomes)
    elapsed = time.perf_counter() - began
    store.close()
    return count / elapsed, store.round_trips * 1000 / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hits", type=int, default=100_000)
    parser.add_argument("--smoke", action="store_true", help="2,000 hits: checks the benchmark runs")
    args = parser.parse_args()
    total = 2_000 if args.smoke else args.hits
    figures = [(n, *asyncio.run(run(n))) for n in (total // 10, total)]
    for n, rate, trips in figures:
        print(f"collect: {n:>7} hits  {rate:8.0f} hits/s  {trips:6.2f} round trips per 1,000 hits")
    small, large = figures[0][2], figures[1][2]
    print(f"collect: round trips per 1,000 hits, {figures[1][0]} vs {figures[0][0]} hits: x{large / small:.2f}")


if __name__ == "__main__":
    main()
