"""Benchmark: hit collection, direct and through a running server, beside a raw insert.

Collects N hits over N/10 visitors in calls of 1,000, a fifth of them carrying a
transaction id, and prints:

- direct: hits/s of `collect_hits` called in-process, and store round trips per 1,000
  hits, for 10% of N and for N (round trips must not grow with N);
- raw: the rate of a bare `insert_many` of the same hit, snapshot and final visitor
  documents into a fresh database of the same store, in batches of 1,000: what the
  store itself can take, the ceiling for collection; and the same with each visitor's
  state inserted once per call that carries its hits, as collection must write it to be
  crash safe (the copies into collections of their own: a lower bound);
- http: hits/s through a server started in a subprocess (uvicorn on a free port), at
  concurrency 1 and 4, each client sending its own visitors' hits.

    python bench/collect.py                              # 100,000 hits on the embedded store
    python bench/collect.py --store mongodb://host:port  # the same on MongoDB (a fresh database)
    python bench/collect.py --smoke                      # a small size, for CI
"""

import argparse
import asyncio
import json
import time
from datetime import UTC, datetime, timedelta

import httpx
from benchlib import server, stores
from benchlib.hits import as_hit

from models import store as collections
from models.hits import HitIn
from models.store import Store
from resolvers import collection
from resolvers.collection import MAX_HITS_PER_CALL

COLLECT = """
mutation($input: CollectHitsInput!) {
  collectHits(input: $input) {
    collectedCount refusedCount
    outcomes { index collected alreadyCollected visitNumber errors { field code message } transactionIds { transactionId result } }
    userErrors { field code message }
  }
}"""


def hit_values(i: int, visitors: int, start: datetime, prefix: str = "") -> dict:
    """Hit `i` of a stream in time order, round-robin over the visitors; every fifth carries an id."""
    return {
        "visitorId": f"{prefix}visitor-{i % visitors}",
        "timestamp": (start + timedelta(seconds=i)).isoformat(),
        "evars": [{"number": 1, "value": f"campaign-{i % 7}"}, {"number": 2, "value": f"product-{i % 50}"}],
        "events": [{"number": 1, "value": 1.0}],
        "pageName": f"page-{i % 20}",
        "transactionId": f"{prefix}order-{i}" if i % 5 == 0 else None,
    }


def make_hits(count: int, visitors: int, start: datetime) -> list[HitIn]:
    return [as_hit(hit_values(i, visitors, start)) for i in range(count)]


def recent_start() -> datetime:
    # Recent times: the stores' TTL index drops snapshots whose expiry is past by the real clock.
    return datetime.now(UTC) - timedelta(days=3)


async def direct(choice: str, count: int) -> tuple[float, float, Store]:
    """Collect `count` hits into a fresh store; returns (hits/s, round trips per 1,000 hits, the store)."""
    store, _ = stores.connect(choice)
    admin = await stores.recording_suite(store)
    hits = make_hits(count, max(count // 10, 1), recent_start())
    store.round_trips = 0
    began = time.perf_counter()
    for start in range(0, count, MAX_HITS_PER_CALL):
        result = await collection.collect_hits(store, admin, "bench", hits[start : start + MAX_HITS_PER_CALL])
        assert all(o.collected for o in result.outcomes)
    elapsed = time.perf_counter() - began
    return count / elapsed, store.round_trips * 1000 / count, store


def calls_per_visitor(count: int) -> int:
    """The calls that carry a visitor's hits (each writes its state once): its ten hits,
    round-robin, land in ten calls, or in every call if there are fewer."""
    return min(10, -(-count // MAX_HITS_PER_CALL))


async def raw_insert(choice: str, source: Store, count: int, state_writes: int = 1) -> float:
    """Hits/s of inserting the documents `source` holds for `count` hits into a fresh database;
    with `state_writes` above 1, the visitors' states that many times (the copies into fresh
    collections of their own: a lower bound of writing each state once per call)."""
    docs = {name: await source.find_many(name, {}) for name in (collections.HITS, collections.SNAPSHOTS, collections.VISITORS)}
    target, _ = stores.connect(choice)
    await target.create_indexes()
    began = time.perf_counter()
    for name, batch in docs.items():
        assert not await target.insert_many(name, batch)
    for copy in range(1, state_writes):
        assert not await target.insert_many(f"{collections.VISITORS}_{copy}", docs[collections.VISITORS])
    elapsed = time.perf_counter() - began
    target.close()
    return count / elapsed


async def over_http(url: str, key: str, rsid: str, count: int, clients: int) -> float:
    """Hits/s of `clients` concurrent clients sending `count` hits in all, each its own visitors."""
    per_client = count // clients
    start = recent_start()
    bodies = [
        [
            json.dumps(
                {
                    "query": COLLECT,
                    "variables": {
                        "input": {
                            "rsid": rsid,
                            "hits": [
                                hit_values(i, max(per_client // 10, 1), start, f"c{clients}-{c}-")
                                for i in range(first, min(first + MAX_HITS_PER_CALL, per_client))
                            ],
                        }
                    },
                }
            ).encode()
            for first in range(0, per_client, MAX_HITS_PER_CALL)
        ]
        for c in range(clients)
    ]
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}

    async def client(calls: list[bytes]) -> None:
        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=120) as http:
            for body in calls:
                response = await http.post("/graphql", content=body)
                payload = response.json()["data"]["collectHits"]
                assert payload["refusedCount"] == 0 and not payload["userErrors"], payload

    began = time.perf_counter()
    await asyncio.gather(*(client(calls) for calls in bodies))
    return per_client * clients / (time.perf_counter() - began)


async def http_rates(choice: str, count: int) -> dict[int, float]:
    """Hits/s at concurrency 1 and 4, each on a server of its own: on one server the second
    run would collect into a store already holding the first one's hits."""
    rates = {}
    for clients in (1, 4):
        with server.running(stores.uri(choice), stores.fresh_database()) as running:
            rates[clients] = await over_http(running["url"], running["uploader"], running["rsid"], count, clients)
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hits", type=int, default=100_000)
    parser.add_argument("--store", default=stores.EMBEDDED, help="'embedded' (the default), a MongoDB URI, or 'mongodb' for MONGODB_URI")
    parser.add_argument("--smoke", action="store_true", help="2,000 hits: checks the benchmark runs")
    args = parser.parse_args()
    total = 2_000 if args.smoke else args.hits
    print(f"collect: on {stores.describe(args.store)}, {total:,} hits over {total // 10:,} visitors in calls of {MAX_HITS_PER_CALL:,}")

    async def measure() -> None:
        figures = []
        for n in (total // 10, total):
            rate, trips, store = await direct(args.store, n)
            figures.append((n, rate, trips))
            print(f"collect: direct  {n:>7} hits  {rate:8.0f} hits/s  {trips:6.2f} round trips per 1,000 hits")
            if n == total:
                raw = await raw_insert(args.store, store, n)
                raw_per_call = await raw_insert(args.store, store, n, state_writes=calls_per_visitor(n))
            store.close()
        small, large = figures[0][2], figures[1][2]
        print(f"collect: round trips per 1,000 hits, {figures[1][0]} vs {figures[0][0]} hits: x{large / small:.2f}")
        direct_rate = figures[1][1]
        print(f"collect: raw insert_many of the same documents  {raw:8.0f} hits/s  (direct is {direct_rate / raw:.0%} of it)")
        print(
            f"collect: raw, each state inserted {calls_per_visitor(total)} times (once per call, as crash safety writes it)  "
            f"{raw_per_call:8.0f} hits/s  (direct is {direct_rate / raw_per_call:.0%} of it)"
        )
        for clients, rate in (await http_rates(args.store, total)).items():
            print(f"collect: http, {clients} client{'s' if clients > 1 else ' '}  {rate:8.0f} hits/s  ({rate / direct_rate:.0%} of direct)")

    asyncio.run(measure())


if __name__ == "__main__":
    main()
