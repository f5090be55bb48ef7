"""Helpers more than one test file uses: times near the real clock, reading GraphQL
answers, collecting hits through the schema, the HTTP API as a script uses it, and a
server that dies with an upload."""

import contextlib
import json
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import httpx
from strawberry.relay import GlobalID

from graph.context import Context
from graph.schema import schema
from models import store as collections
from models.companies import Caller
from models.data_sources import CATALOGUE, SourceType
from models.jobs import RECEIVE_TIMEOUT
from models.store import Store
from resolvers import data_sources, processing, report_suites, uploads
from tests.queries import COLLECT, JOB_DETAILS, UPLOAD_FILE

# Hits are dated in the last few days of the real calendar: the stores' TTL index removes
# snapshots whose expiry is past by the real clock, whatever models.clock says. The
# `today` fixture sets models.clock to day 9 at 12:00.
DAY_ZERO = datetime.combine(datetime.now(UTC).date() - timedelta(days=10), time(), UTC)
RSID = "furniture"  # the report suite of the `suite` fixture
EVERY_COLLECTION = [
    collections.COMPANIES, collections.API_KEYS, collections.REPORT_SUITES, collections.DATA_SOURCES, collections.VISITORS,
    collections.HITS, collections.SNAPSHOTS, collections.JOBS, collections.JOB_CHUNKS, collections.JOB_NAMES,
    collections.PROBLEMS, collections.ROWS,
]  # fmt: skip


def moment(day: int, hhmm: str) -> datetime:
    """`hhmm` (UTC) on day `day` after DAY_ZERO."""
    hours, minutes = map(int, hhmm.split(":"))
    return DAY_ZERO + timedelta(days=day, hours=hours, minutes=minutes)


def at(day: int, hhmm: str) -> str:
    """`moment(day, hhmm)` as the ISO-8601 string a client sends."""
    return moment(day, hhmm).isoformat()


# The scenario tests' calendar: a report suite in New York, day 0 twenty days back, so a
# scenario's transaction window and its files' 90 days both fit before today (day 19).
NEW_YORK = ZoneInfo("America/New_York")
NEW_YORK_DAY_ZERO = datetime.combine(datetime.now(NEW_YORK).date() - timedelta(days=20), time(), NEW_YORK)


def local(day: int, hhmm: str = "12:00") -> datetime:
    """`hhmm` in New York on day `day` of the scenario calendar."""
    hours, minutes = map(int, hhmm.split(":"))
    return NEW_YORK_DAY_ZERO + timedelta(days=day, hours=hours, minutes=minutes)


def file_date(day: int, hhmm: str | None = None) -> str:
    """How an upload file writes the date (and time) of day `day` in the suite's zone."""
    when = local(day, hhmm or "12:00")
    return when.strftime("%m/%d/%Y/%H/%M/%S") if hhmm else when.strftime("%m/%d/%Y")


def examples_1_hits() -> list[dict]:
    """EXAMPLES.md 1's online hits, as HitInputs on day 0: v-1 arrives from the spring-sale
    campaign, then fills the lead form, which records transaction lead_100."""
    return [
        {
            "visitorId": "v-1",
            "timestamp": local(0, "10:00").isoformat(),
            "pageName": "home",
            "trackingCode": "spring-sale",
            "evars": [{"number": 1, "value": "email"}],
        },
        {
            "visitorId": "v-1",
            "timestamp": local(0, "10:05").isoformat(),
            "pageName": "lead-form",
            "evars": [{"number": 2, "value": "sofa"}],
            "events": [{"number": 1}],
            "transactionId": "lead_100",
        },
    ]


def examples_1_deals() -> bytes:
    """EXAMPLES.md 1's deals file, as exported from the template: lead_100 closed on day 7
    at 15:00 (1200), and lead_999, never collected online, on day 8 (300)."""
    return (
        "# Generic Data Source (Transaction ID) template file (ds_id: ...)\n"
        "#\tDeal stage\tDeal closed\tRevenue\tTransaction\n"
        "Date\tEvar 3\tEvent 5\tPrice\ttransactionID\n"
        f"{file_date(7, '15:00')}\tclosed-won\t1\t1200\tlead_100\n"
        f"{file_date(8)}\tclosed-won\t1\t300\tlead_999\n"
    ).encode()


def examples_2_hits() -> list[dict]:
    """EXAMPLES.md 2's online hits of cust-42 on day 0: evar1 search and evar2 fibre-500
    at 09:00, then evar2 fibre-1000 at 09:10."""
    return [
        {
            "visitorId": "cust-42",
            "timestamp": local(0, "09:00").isoformat(),
            "evars": [{"number": 1, "value": "search"}, {"number": 2, "value": "fibre-500"}],
        },
        {"visitorId": "cust-42", "timestamp": local(0, "09:10").isoformat(), "evars": [{"number": 2, "value": "fibre-1000"}]},
    ]


def examples_2_calls(*more_lines: str) -> bytes:
    """EXAMPLES.md 2's call-centre file: retention calls on day 2 by cust-42 at 14:00 and by
    cust-77 (never collected online) at 14:30; then `more_lines`."""
    lines = [
        "Date\tEvar 4\tEvent 2\tvisitorID",
        f"{file_date(2, '14:00')}\tretention-call\t1\tcust-42",
        f"{file_date(2, '14:30')}\tretention-call\t1\tcust-77",
        *more_lines,
    ]
    return "".join(f"{line}\n" for line in lines).encode()


async def examples_2_source(store, company, api: "Api") -> str:
    """EXAMPLES.md 2's setting: the telco suite (New York), cust-42's hits collected, and a
    call-centre data source by visitor id; returns the data source's id."""
    await report_suites.create(store, company.admin, "telco", "Telco", time_zone="America/New_York")
    await api.query(COLLECT, input={"rsid": "telco", "hits": examples_2_hits()})
    return await make_source(store, company, "telco", "CALL_CENTER_VISITOR_ID", ["Evar 4", "visitorID"], ["Event 2"])


def parsed(text: str) -> datetime:
    return datetime.fromisoformat(text)


def values(pairs: list[dict]) -> dict[str, str]:
    """[{dimension, value}, ...] as the dict it stands for."""
    return {p["dimension"]: p["value"] for p in pairs}


def codes(result) -> list[str | None]:
    """The codes of an ExecutionResult's errors, in order."""
    return [(e.extensions or {}).get("code") for e in result.errors or []]


def hit(visitor_id: str, day: int, hhmm: str, **fields) -> dict:
    """One HitInput, as a client sends it."""
    return {"visitorId": visitor_id, "timestamp": at(day, hhmm)} | fields


def executor(store: Store):
    """`execute` on `store`: runs one operation through the schema as `caller` (None: no key)
    would, and returns the ExecutionResult."""

    async def run(query: str, caller: Caller | None, **variables):
        return await schema.execute(query, variable_values=variables, context_value=Context(store, caller))

    return run


async def query(execute, caller, text: str, **variables) -> dict:
    """The data of an operation that must not fail."""
    result = await execute(text, caller, **variables)
    assert result.errors is None, result.errors
    return result.data


async def collect(execute, caller, hits: list[dict], rsid: str = RSID) -> dict:
    """The collectHits payload for `hits`, sent as `caller`."""
    return (await query(execute, caller, COLLECT, input={"rsid": rsid, "hits": hits}))["collectHits"]


async def stored(store, collection: str) -> list[dict]:
    """Every document of a collection, whoever's."""
    return await store.find_many(collection, {})


class Api:
    """The HTTP API as a data engineer's script uses it, with one company's key."""

    def __init__(self, client: httpx.AsyncClient, key: str) -> None:
        self.client, self.headers = client, {"Authorization": f"Bearer {key}"}

    async def query(self, query: str, **variables) -> dict:
        response = await self.client.post("/graphql", json={"query": query, "variables": variables}, headers=self.headers)
        body = response.json()
        assert "errors" not in body, body
        return body["data"]

    async def upload(self, data_source_id: str, name: str, content: bytes, preflight: bool = True, **fields) -> httpx.Response:
        """POST the multipart request of an upload; `fields` are more of its input (idempotencyKey=...)."""
        request = self.upload_request(data_source_id, name, content, preflight, **fields)
        return await self.client.send(request)

    def upload_request(self, data_source_id: str, name: str, content: bytes, preflight: bool = True, **fields) -> httpx.Request:
        operations = {"query": UPLOAD_FILE, "variables": {"input": {"dataSourceId": data_source_id, "file": None, **fields}}}
        form = {"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.input.file"]})}
        headers = self.headers | ({"apollo-require-preflight": "true"} if preflight else {})
        return self.client.build_request("POST", "/graphql", data=form, files={"0": (name, content, "text/plain")}, headers=headers)

    async def upload_payload(self, data_source_id: str, name: str, content: bytes, **fields) -> dict:
        body = (await self.upload(data_source_id, name, content, **fields)).json()
        assert "errors" not in body, body
        return body["data"]["uploadDataSourceFile"]

    async def upload_job(self, data_source_id: str, name: str, content: bytes, **fields) -> dict:
        payload = await self.upload_payload(data_source_id, name, content, **fields)
        assert payload["userErrors"] == [], payload
        return payload["job"]

    async def job(self, job_id: str) -> dict:
        return (await self.query(JOB_DETAILS, id=job_id))["node"]


async def process_all(store) -> None:
    """What the worker in the server does between requests: process every waiting job."""
    worker = processing.Worker(store, batch_rows=2)
    while await worker.run_once():
        pass


async def make_source(store, company, rsid: str, type_name: str, dimensions, metrics, stop_on_errors: bool = False) -> str:
    """A data source of `type_name` with these columns; returns its global id."""
    source_type = SourceType(type_name)
    source = await data_sources.create(
        store, company.admin, rsid, "Offline", CATALOGUE[source_type].category, source_type,
        [(d, None) for d in dimensions], [(m, None) for m in metrics], stop_on_errors,
    )  # fmt: skip
    return str(GlobalID("DataSource", source.id))


async def lead_source(store, execute, company, rsid: str) -> str:
    """A transaction-ID data source (Evar 3, Event 5, Price) on the report suite, and the
    online lead lead_100 its rows link to; returns the source's global id."""
    lead = {"visitorId": "v-1", "timestamp": at(0, "10:00"), "transactionId": "lead_100"}
    await collect(execute, company.uploader, [lead], rsid)
    return await make_source(store, company, rsid, "GENERIC_TRANSACTION_ID", ["Evar 3", "transactionID"], ["Event 5", "Price"])


class ServerDiesWithTheFirstUpload(httpx.AsyncBaseTransport):
    """The server: the first upload's server dies half-way through storing the file (its job
    stays RECEIVING) and the command's connection resets. When the command then follows the
    RECEIVING job its retry was answered, five minutes pass (the job's time to be removed)."""

    def __init__(self, inner: httpx.AsyncBaseTransport, store, uploader, source: str, key: str, today) -> None:
        self.inner, self.store, self.uploader, self.source, self.key, self.today = inner, store, uploader, source, key, today
        self.uploads, self.waited = 0, False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.headers.get("content-type", "").startswith("multipart/"):
            self.uploads += 1
            if self.uploads == 1:
                await self._die_half_way()
                raise httpx.ReadError("connection reset by peer", request=request)
        elif self.uploads == 2 and not self.waited:
            self.waited = True
            self.today.now += RECEIVE_TIMEOUT + timedelta(seconds=1)
            processing.wake()  # the worker's next look for work removes the dead sending
        return await self.inner.handle_async_request(request)

    async def _die_half_way(self) -> None:
        async def half():
            yield b"Date\tEvar 1"  # the file's first bytes
            raise ServerKilled

        with contextlib.suppress(ServerKilled):
            await uploads.upload_file(self.store, self.uploader, self.source, "dying.txt", half(), idempotency_key=self.key)


class ServerKilled(BaseException):
    """The server's process ends: none of its clean-up runs."""
