"""Benchmark: reports on the embedded store, beside the bare aggregation they run.

For each size (100,000 and then 500,000 hits, with as many offline rows), stores hit and
row documents raw, as collection and processing would have written them: visitors of 10
hits in visits of 4, over 60 days, with a tracking code on most visits, campaigns, products
and page names, some with event1 or revenue; rows a third linked by transaction id (with
the snapshot's values merged), a tenth by visitor id, the rest summary rows. Then it times,
through the HTTP API (the ASGI app, no network), reports of one dimension (trackingCode) by
three metrics (revenue, event1, visits): TOTAL, DAY, VISIT and VISITOR participation, and a
TOTAL of summed metrics only (revenue, event1, occurrences). Beside each: the same pipeline
sent straight to the store's driver, so the ratio is what the API adds (target: at most
1.3). Last, how each latency grows from the smaller size to the larger, against the growth
of the data (target: no worse than linear). Latencies are the best of three runs up to
100,000 hits (the machine is shared), of one above (a run takes minutes there: mongomock
evaluates every expression of a pipeline in Python, at some 50 us a document).

    python bench/report.py            # 100,000 and 500,000 hits
    python bench/report.py --smoke    # 1,000 and 5,000, for CI
"""

import argparse
import asyncio
import gc
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

from graph.app import create_app
from models import reports
from models import store as collections
from models.companies import Caller, Role
from models.keys import hit_key
from models.reports import Granularity, Participation, ReportRequest
from models.store import Store
from resolvers import api_keys, report_suites

RSID = "bench"
FIRST_DAY = date(2026, 3, 1)
DAYS = [(FIRST_DAY + timedelta(days=d)).isoformat() for d in range(60)]
HITS_PER_VISITOR, HITS_PER_VISIT = 10, 4
QUERY = """
query($input: ReportInput!) {
  reportSuite(rsid: "bench") { report(input: $input) {
    report { rows { edges { node { value day metrics { metric online offline total } } } pageInfo { hasNextPage } } totals { metric total } }
    userErrors { field code message }
  } }
}"""


@dataclass(frozen=True)
class Case:
    name: str
    metrics: tuple[str, ...]
    granularity: Granularity = Granularity.TOTAL
    participation: Participation = Participation.NONE

    def request(self) -> ReportRequest:
        return ReportRequest(
            "trackingCode",
            self.metrics,
            FIRST_DAY,
            FIRST_DAY + timedelta(days=59),
            self.granularity,
            participation=self.participation,
            first=50,
        )

    def input(self) -> dict[str, Any]:
        request = self.request()
        return {
            "dimension": request.dimension,
            "metrics": list(request.metrics),
            "from": request.first_day.isoformat(),
            "to": request.last_day.isoformat(),
            "granularity": request.granularity.value,
            "participation": request.participation.value,
            "first": request.first,
        }


THREE = ("revenue", "event1", "visits")
CASES = [
    Case("TOTAL", THREE),
    Case("DAY", THREE, Granularity.DAY),
    Case("VISIT", THREE, participation=Participation.VISIT),
    Case("VISITOR", THREE, participation=Participation.VISITOR),
    Case("TOTAL, summed only", ("revenue", "event1", "occurrences")),
]


def hit(n: int, company: str) -> dict[str, Any]:
    visitor, seq = n // HITS_PER_VISITOR, n % HITS_PER_VISITOR + 1
    visit = (seq - 1) // HITS_PER_VISIT + 1
    day = DAYS[(visitor + visit) % len(DAYS)]
    values = {"evar1": f"campaign-{(visitor + visit) % 40}", "evar2": f"product {n % 900}"}
    if visitor % 7:
        values["trackingCode"] = f"tc_{(visitor * 3 + visit) % 150}"
    if n % 10:
        values["pageName"] = f"page-{n % 50}"
    events = {"event1": 1.0} if n % 10 == 3 else {}
    if n % 20 == 7:
        events["revenue"] = n % 5000 / 100
    return {
        "_id": hit_key(company, RSID, f"v-{visitor}", seq),
        "rsid": RSID,
        "companyId": company,
        "visitorId": f"v-{visitor}",
        "seq": seq,
        "timestamp": datetime.fromisoformat(day).replace(tzinfo=UTC) + timedelta(hours=14, minutes=seq),
        "localDay": day,
        "visitNumber": visit,
        "values": values,
        "events": events,
        "transactionId": None,
        "digest": f"{n:024x}",
    }


def row(n: int, company: str, visitors: int) -> dict[str, Any]:
    kind = n % 30
    visitor = n * 7 % visitors
    own = {"evar3": ["closed-won", "closed-lost", "open"][n % 3]}
    added: dict[str, str] = {}
    link, visitor_id, transaction_id = "SUMMARY", None, None
    if kind < 10:  # linked by transaction id: the snapshot's values of the visitor's first visit
        link, visitor_id, transaction_id = "TRANSACTION", f"v-{visitor}", f"lead_{n}"
        added = {"evar1": f"campaign-{(visitor + 1) % 40}", "evar2": f"product {visitor * 10 % 900}"}
        if visitor % 7:
            added["trackingCode"] = f"tc_{(visitor * 3 + 1) % 150}"
    elif kind < 13:  # linked by visitor id: the visitor's state as of the row
        link, visitor_id = "VISITOR", f"v-{visitor}"
        added = {"evar1": f"campaign-{(visitor + 3) % 40}"}
    day = DAYS[n % len(DAYS)]
    return {
        "_id": f"job-{n // 10_000}|{n % 10_000:010d}",
        "companyId": company,
        "rsid": RSID,
        "dataSourceId": f"ds-{kind % 3}",
        "jobId": f"job-{n // 10_000}",
        "line": n % 10_000 + 2,
        "timestamp": datetime.fromisoformat(day).replace(tzinfo=UTC) + timedelta(hours=17),
        "localDay": day,
        "values": added | own,
        "added": sorted(added),
        "metrics": {"event5": 1.0, "revenue": n % 3000 / 10, **({"event1": 1.0} if n % 4 == 0 else {})},
        "link": link,
        "transactionId": transaction_id,
        "visitorId": visitor_id,
    }


async def seed(db: Store, size: int) -> tuple[str, str]:
    """`size` hits and as many rows of a new company's report suite; its id and an API key."""
    company, key = await api_keys.create_company(db, "Bench")
    admin = Caller(company["_id"], Role.ADMIN, "bench")
    await report_suites.create(db, admin, RSID, "Bench", time_zone="America/New_York")
    visitors = max(1, size // HITS_PER_VISITOR)
    for start in range(0, size, 50_000):
        end = min(size, start + 50_000)
        await db.insert_many(collections.HITS, [hit(n, company["_id"]) for n in range(start, end)])
        await db.insert_many(collections.ROWS, [row(n, company["_id"], visitors) for n in range(start, end)])
    return company["_id"], key


async def best(runs: int, work: Callable[[], Awaitable[Any]]) -> tuple[float, Any]:
    """The shortest of `runs` runs, in seconds, and the last answer."""
    times, answer = [], None
    for _ in range(runs):
        gc.collect()
        started = time.perf_counter()
        answer = await work()
        times.append(time.perf_counter() - started)
    return min(times), answer


async def measure(size: int, runs: int) -> dict[str, tuple[float, float]]:
    """{case: (API latency, bare latency)} at one size."""
    db = Store.connect(None)
    await db.create_indexes()
    started = time.perf_counter()
    company_id, key = await seed(db, size)
    print(f"\n{size:,} hits and {size:,} offline rows (stored in {time.perf_counter() - started:.0f} s)")
    print(f"{'report':<20} {'API':>10} {'bare':>10} {'ratio':>7}  rows")
    app = create_app(db)
    latencies = {}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench", timeout=None) as client:
        headers = {"Authorization": f"Bearer {key}"}
        for case in CASES:

            async def through_api(case: Case = case) -> dict[str, Any]:
                response = await client.post("/graphql", json={"query": QUERY, "variables": {"input": case.input()}}, headers=headers)
                body = response.json()
                assert "errors" not in body and not body["data"]["reportSuite"]["report"]["userErrors"], body
                return dict(body["data"]["reportSuite"]["report"]["report"])

            collection, pipeline = reports.pipeline(RSID, case.request())
            narrowed = db.company(company_id).narrowed(pipeline)

            async def bare(collection: str = collection, narrowed: list[dict[str, Any]] = narrowed) -> list[dict[str, Any]]:
                return list(await db.db[collection].aggregate(narrowed).to_list(None))

            api_seconds, answer = await best(runs, through_api)
            bare_seconds, _ = await best(runs, bare)
            latencies[case.name] = (api_seconds, bare_seconds)
            shown = len(answer["rows"]["edges"])
            print(
                f"{case.name:<20} {api_seconds * 1000:>8.0f}ms {bare_seconds * 1000:>8.0f}ms {api_seconds / bare_seconds:>6.2f}x  {shown}"
            )
    db.close()
    return latencies


async def run(sizes: list[int], runs: int | None) -> None:
    found = {size: await measure(size, runs or (3 if size <= 100_000 else 1)) for size in sizes}
    small, large = sizes[0], sizes[-1]
    print(f"\ngrowth from {small:,} to {large:,} hits (data x{large / small:.0f}; linear is x{large / small:.1f})")
    for case in CASES:
        api_growth = found[large][case.name][0] / found[small][case.name][0]
        bare_growth = found[large][case.name][1] / found[small][case.name][1]
        print(f"{case.name:<20} API x{api_growth:.1f}  bare x{bare_growth:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="1,000 and 5,000 hits: checks the benchmark runs")
    parser.add_argument("--runs", type=int, default=None, help="runs per latency, the best kept (default: 3 up to 100,000 hits, then 1)")
    parser.add_argument("--sizes", type=int, nargs="+", default=None, help="hits per size (default 100000 500000)")
    args = parser.parse_args()
    sizes = args.sizes or ([1_000, 5_000] if args.smoke else [100_000, 500_000])
    asyncio.run(run(sizes, args.runs))


if __name__ == "__main__":
    main()
