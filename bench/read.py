"""Benchmark: reading nested pages, and the server's responsiveness meanwhile.

Loads N hits over N/10 visitors (a fifth carrying a transaction id), for N = 50,000 and
then 500,000, and prints for each query below its latency (median of 5), its store
calls, and the latency of bare batched finds of the same documents (by `_id`, one per
collection): what the store alone takes to hand them over.

    visitors(first: 100) { edges { node { visitorId hits(first: 10) { edges { node { id timestamp } } } } } }
    the same, each hit with `visitNumber values { dimension value }` too ("nested+values")
    transactions(first: 100) { edges { node { visitor { visitorId } } } }

Targets: the same store calls at both sizes; latency at most 2x the bare finds; latency
growing at most 1.5x from the smaller size to the larger. Beside them, the floor of the
GraphQL layer: graphql-core alone executing the same query over its own answer already in
memory (a schema of the same shape, default resolvers, no store, no Strawberry).

Then it starts a server in a subprocess, loads the smaller size over HTTP, and prints the
worst /healthz latency (polled every few ms) while the nested query and a call of 1,000
hits run at once (target: under 100 ms).

    python bench/read.py                              # on the embedded store
    python bench/read.py --store mongodb://host:port  # on MongoDB (fresh databases)
    python bench/read.py --smoke                      # small sizes, for CI
"""

import argparse
import asyncio
import json
import statistics
import time
from datetime import UTC, datetime, timedelta

import httpx
from benchlib import server, stores
from benchlib.hits import as_hit
from graphql import build_schema, execute_sync, parse

from graph.context import Context
from graph.schema import schema
from models import store as collections
from models.companies import Caller
from models.keys import visitor_key
from models.store import Store
from resolvers import collection
from resolvers.collection import MAX_HITS_PER_CALL

HITS_PER_VISITOR = 10
NESTED = '{ reportSuite(rsid: "bench") { visitors(first: 100) { edges { node { visitorId hits(first: 10) { edges { node { id timestamp } } } } } } } }'
# The same with each hit's values: 5,000 more objects to build and serialise.
NESTED_VALUES = NESTED.replace("id timestamp", "id timestamp visitNumber values { dimension value }")
TRANSACTIONS = '{ reportSuite(rsid: "bench") { transactions(first: 100) { edges { node { visitor { visitorId } } } } } }'
COLLECT = "mutation($input: CollectHitsInput!) { collectHits(input: $input) { collectedCount refusedCount } }"
RUNS = 5
# The shape of the queries above, for graphql-core alone: its default resolvers read the answer's dicts.
FLOOR_SCHEMA = build_schema("""
type Query { reportSuite(rsid: String): Suite }
type Suite { visitors(first: Int): Visitors transactions(first: Int): Transactions }
type Visitors { edges: [VisitorEdge] }
type VisitorEdge { node: Visitor }
type Visitor { visitorId: String hits(first: Int): Hits }
type Hits { edges: [HitEdge] }
type HitEdge { node: Hit }
type Hit { id: ID timestamp: String visitNumber: Int values: [Value] }
type Value { dimension: String value: String }
type Transactions { edges: [TransactionEdge] }
type TransactionEdge { node: Transaction }
type Transaction { visitor: Visitor }
""")


def hit_values(i: int, visitors: int, start: datetime, prefix: str = "v") -> dict:
    """Hit `i`: each call of 1,000 holds all ten hits of a hundred visitors, in time order."""
    visitor = (i // (HITS_PER_VISITOR * 100)) * 100 + i % 100
    return {
        "visitorId": f"{prefix}-{visitor % visitors:07d}",
        "timestamp": (start + timedelta(seconds=i)).isoformat(),
        "evars": [{"number": 1, "value": f"campaign-{i % 7}"}, {"number": 2, "value": f"product-{i % 50}"}],
        "pageName": f"page-{i % 20}",
        "transactionId": f"{prefix}-order-{i:08d}" if i % 5 == 0 else None,
    }


def start_time(count: int) -> datetime:
    # Recent times: the stores' TTL index drops snapshots whose expiry is past by the real clock.
    return datetime.now(UTC) - timedelta(seconds=count + 3600)


async def load(choice: str, count: int) -> tuple[Store, Caller]:
    store, _ = stores.connect(choice)
    admin = await stores.recording_suite(store)
    start, visitors = start_time(count), count // HITS_PER_VISITOR
    for first in range(0, count, MAX_HITS_PER_CALL):
        hits = [as_hit(hit_values(i, visitors, start)) for i in range(first, min(first + MAX_HITS_PER_CALL, count))]
        result = await collection.collect_hits(store, admin, "bench", hits)
        assert all(o.collected for o in result.outcomes)
    return store, admin


async def measure(store: Store, caller: Caller, query: str) -> tuple[float, int, dict, float]:
    """(median latency in s, store calls, the data, graphql-core's floor in s) of `query`."""
    latencies, calls, data = [], 0, {}
    for _ in range(RUNS):
        before, began = store.round_trips, time.perf_counter()
        result = await schema.execute(query, context_value=Context(store, caller))
        latencies.append(time.perf_counter() - began)
        assert result.errors is None, result.errors
        calls, data = store.round_trips - before, result.data or {}
    return statistics.median(latencies), calls, data, execution_floor(query, data)


def execution_floor(query: str, data: dict) -> float:
    """Median latency of graphql-core alone executing `query` (parsed once, as a server's
    cache would) from `data` in memory, at its fastest: synchronous, no awaitable checks."""
    document, latencies = parse(query), []
    for _ in range(RUNS):
        began = time.perf_counter()
        result = execute_sync(FLOOR_SCHEMA, document, root_value=data)
        latencies.append(time.perf_counter() - began)
        assert result.errors is None and result.data == data, result.errors
    return statistics.median(latencies)


async def bare(store: Store, wanted: dict[str, list[str]]) -> float:
    """Median latency of one `_id $in` find per collection of the documents in `wanted`."""
    latencies = []
    for _ in range(RUNS):
        began = time.perf_counter()
        for name, ids in wanted.items():
            assert len(await store.find_many(name, {"_id": {"$in": ids}})) == len(set(ids))
        latencies.append(time.perf_counter() - began)
    return statistics.median(latencies)


async def read_figures(choice: str, count: int) -> dict[str, tuple[float, int, float, float]]:
    """Per query: (latency, store calls, bare finds, graphql-core's floor), in s."""
    store, admin = await load(choice, count)
    figures = {}
    latency, calls, data, floor = await measure(store, admin, NESTED)
    visitors = data["reportSuite"]["visitors"]["edges"]
    assert len(visitors) == 100 and all(len(v["node"]["hits"]["edges"]) == 10 for v in visitors)
    hit_ids = [_raw_id(h["node"]["id"]) for v in visitors for h in v["node"]["hits"]["edges"]]
    visitor_ids = [visitor_key(admin.company_id, "bench", v["node"]["visitorId"]) for v in visitors]
    found = await bare(store, {collections.VISITORS: visitor_ids, collections.HITS: hit_ids})
    figures["nested"] = (latency, calls, found, floor)
    latency, calls, _, floor = await measure(store, admin, NESTED_VALUES)
    figures["nested+values"] = (latency, calls, found, floor)
    latency, calls, data, floor = await measure(store, admin, TRANSACTIONS)
    snapshots = await store.find_page(collections.SNAPSHOTS, {"rsid": "bench"}, "transactionId", False, None, 100)
    owners = list({visitor_key(admin.company_id, "bench", s["visitorId"]) for s in snapshots[0]})
    assert len(data["reportSuite"]["transactions"]["edges"]) == 100
    ids = [s["_id"] for s in snapshots[0]]
    found = await bare(store, {collections.SNAPSHOTS: ids, collections.VISITORS: owners})
    figures["transactions"] = (latency, calls, found, floor)
    store.close()
    return figures


def _raw_id(global_id: str) -> str:
    import base64

    return base64.b64decode(global_id).decode().split(":", 1)[1]


async def worst_healthz(choice: str, count: int) -> tuple[float, float]:
    """(worst, median) /healthz latency in s while the nested query and a 1,000-hit call run."""
    with server.running(stores.uri(choice), stores.fresh_database()) as running:
        headers = {"Authorization": f"Bearer {running['admin']}", "Content-Type": "application/json"}
        async with httpx.AsyncClient(base_url=running["url"], headers=headers, timeout=120) as http:
            start, visitors = start_time(count + 10 * MAX_HITS_PER_CALL), count // HITS_PER_VISITOR
            for first in range(0, count, MAX_HITS_PER_CALL):
                await _post_hits(http, [hit_values(i, visitors, start) for i in range(first, min(first + MAX_HITS_PER_CALL, count))])
            samples: list[float] = []
            for round_ in range(RUNS):
                more = [hit_values(count + round_ * MAX_HITS_PER_CALL + i, visitors, start, "late") for i in range(MAX_HITS_PER_CALL)]
                work = asyncio.gather(http.post("/graphql", content=json.dumps({"query": NESTED})), _post_hits(http, more))
                samples += await _poll_healthz(http, asyncio.ensure_future(work))
    return max(samples), statistics.median(samples)


async def _post_hits(http: httpx.AsyncClient, hits: list[dict]) -> None:
    body = json.dumps({"query": COLLECT, "variables": {"input": {"rsid": server.RSID, "hits": hits}}})
    payload = (await http.post("/graphql", content=body)).json()["data"]["collectHits"]
    assert payload["refusedCount"] == 0, payload


async def _poll_healthz(http: httpx.AsyncClient, work: asyncio.Future) -> list[float]:
    samples = []
    while not work.done():
        began = time.perf_counter()
        assert (await http.get("/healthz")).status_code == 200
        samples.append(time.perf_counter() - began)
        await asyncio.sleep(0.002)
    await work
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="50000,500000", help="hit counts, comma separated")
    parser.add_argument("--store", default=stores.EMBEDDED, help="'embedded' (the default), a MongoDB URI, or 'mongodb' for MONGODB_URI")
    parser.add_argument("--smoke", action="store_true", help="2,000 and 4,000 hits: checks the benchmark runs")
    args = parser.parse_args()
    sizes = [2_000, 4_000] if args.smoke else [int(s) for s in args.sizes.split(",")]
    print(f"read: on {stores.describe(args.store)}, {HITS_PER_VISITOR} hits a visitor")

    async def run() -> None:
        by_size = {}
        for count in sizes:
            by_size[count] = figures = await read_figures(args.store, count)
            for name, (latency, calls, found, floor) in figures.items():
                print(
                    f"read: {count:>7} hits  {name:<13} {latency * 1000:7.1f} ms  {calls:3d} store calls  "
                    f"bare finds {found * 1000:6.1f} ms  (x{latency / found:.1f})  "
                    f"graphql-core alone {floor * 1000:6.1f} ms  (x{floor / found:.1f} of the finds)"
                )
        small, large = by_size[sizes[0]], by_size[sizes[-1]]
        for name in small:
            print(
                f"read: {name:<13} {sizes[-1]} vs {sizes[0]} hits: latency x{large[name][0] / small[name][0]:.2f}, "
                f"store calls {small[name][1]} -> {large[name][1]}"
            )
        worst, median = await worst_healthz(args.store, sizes[0])
        print(f"read: /healthz during a nested query and a 1,000-hit call: worst {worst * 1000:.1f} ms, median {median * 1000:.1f} ms")

    asyncio.run(run())


if __name__ == "__main__":
    main()
