"""Benchmark: the embedded store's memory per stored hit, measured with tracemalloc.

Collects N hits (as bench/collect.py makes them: N/10 visitors, a fifth carrying a
transaction id) into a fresh embedded store and prints the memory the store holds
afterwards per hit (hits, visitor states, snapshots and indexes together), beside the
BSON size of the same documents: what MongoDB would store before compression.

    python bench/memory.py            # 50,000 hits
    python bench/memory.py --smoke    # a small size, for CI
"""

import argparse
import asyncio
import gc
import tracemalloc

import bson
from benchlib import stores
from collect import make_hits, recent_start

from models import store as collections
from models.store import Store
from resolvers import collection
from resolvers.collection import MAX_HITS_PER_CALL


async def measure(count: int) -> tuple[float, float]:
    """(traced bytes per hit the store holds, BSON bytes per hit of its documents)."""
    hits = make_hits(count, max(count // 10, 1), recent_start())
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    store = Store.connect(None)
    admin = await stores.recording_suite(store)
    for start in range(0, count, MAX_HITS_PER_CALL):
        await collection.collect_hits(store, admin, "bench", hits[start : start + MAX_HITS_PER_CALL])
    gc.collect()
    held = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    encoded = 0
    for name in (collections.HITS, collections.VISITORS, collections.SNAPSHOTS):
        encoded += sum(len(bson.encode(doc)) for doc in await store.find_many(name, {}))
    store.close()
    return held / count, encoded / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hits", type=int, default=50_000)
    parser.add_argument("--smoke", action="store_true", help="2,000 hits: checks the benchmark runs")
    args = parser.parse_args()
    count = 2_000 if args.smoke else args.hits
    held, encoded = asyncio.run(measure(count))
    print(
        f"memory: {count:,} hits in the embedded store: {held:,.0f} bytes per hit held, {encoded:,.0f} bytes per hit as BSON (x{held / encoded:.1f})"
    )


if __name__ == "__main__":
    main()
