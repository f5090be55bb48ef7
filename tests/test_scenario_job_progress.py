"""Scenario tests: live progress over graphql-transport-ws (the app's WebSocket, the key in
connection_init, the subscription, the worker and the store): a job streamed from QUEUED
to SUCCESS, and the same checks of key, role and tenant as any request."""

import asyncio
import contextlib

import httpx
import pytest
from httpx_ws import WebSocketDisconnect, aconnect_ws
from httpx_ws.transport import ASGIWebSocketTransport

from graph.app import create_app
from resolvers import api_keys, jobs, processing
from tests.helpers import Api, make_source, moment
from tests.queries import JOB_PROGRESS

HEADER = "Date\tEvar 1\tEvent 1\n"
FILE = (HEADER + "".join(f"{moment(3, '12:00'):%m/%d/%Y}\tc{n}\t1\n" for n in range(6))).encode()
STEP_SECONDS = 5.0  # at most this long for any one message: the poll below is 10 ms


@pytest.fixture(autouse=True)
def quick_polls(monkeypatch):
    monkeypatch.setattr(jobs, "PROGRESS_POLL_SECONDS", 0.01)


@pytest.fixture
async def source(store, company, suite, today):
    return await make_source(store, company, suite, "GENERIC_SUMMARY", ["Evar 1"], ["Event 1"])


@contextlib.asynccontextmanager
async def connected(store, payload: dict | None):
    """An HTTP client and an acknowledged graphql-transport-ws connection to the app."""
    async with (
        httpx.AsyncClient(transport=ASGIWebSocketTransport(app=create_app(store)), base_url="http://api.local") as client,
        aconnect_ws("/graphql", client, subprotocols=["graphql-transport-ws"]) as socket,
    ):
        await socket.send_json({"type": "connection_init", **({"payload": payload} if payload is not None else {})})
        assert await socket.receive_json() == {"type": "connection_ack"}
        yield client, socket


async def receive(socket) -> dict:
    return await asyncio.wait_for(socket.receive_json(), STEP_SECONDS)


async def subscribe(socket, job_id: str) -> None:
    await socket.send_json({"id": "1", "type": "subscribe", "payload": {"query": JOB_PROGRESS, "variables": {"id": job_id}}})


async def test_a_job_is_streamed_from_queued_to_success_and_the_stream_then_ends(store, company, source):
    async with connected(store, {"Authorization": f"Bearer {company.admin_key}"}) as (client, socket):
        job = await Api(client, company.admin_key).upload_job(source, "calls.txt", FILE)
        await subscribe(socket, job["id"])
        first = await receive(socket)
        assert first["type"] == "next" and first["payload"]["data"]["jobProgress"]["status"] == "QUEUED"

        stop = asyncio.Event()
        stop.set()  # the worker gives the job up after its first batch, at a checkpoint
        await processing.Worker(store, batch_rows=2).run_once(stop)
        midway = (await receive(socket))["payload"]["data"]["jobProgress"]
        assert (midway["status"], midway["linesDone"], midway["rowCount"], midway["summaryRows"]) == ("PROCESSING", 3, 2, 2)

        while await processing.Worker(store, batch_rows=2).run_once():
            pass
        updates = []
        while (message := await receive(socket))["type"] == "next":
            updates.append(message["payload"]["data"]["jobProgress"])
        assert message == {"id": "1", "type": "complete"}
        assert updates[-1] == {
            "status": "SUCCESS", "linesDone": 7, "progress": 1.0, "rowCount": 6, "linkedByTransaction": 0, "summaryRows": 6,
        }  # fmt: skip
        # Polling the job works as before, beside the stream.
        assert (await Api(client, company.admin_key).job(job["id"]))["status"] == "SUCCESS"


async def test_a_key_that_is_no_key_closes_the_connection_at_init(store):
    async with (
        httpx.AsyncClient(transport=ASGIWebSocketTransport(app=create_app(store)), base_url="http://api.local") as client,
        aconnect_ws("/graphql", client, subprotocols=["graphql-transport-ws"]) as socket,
    ):
        await socket.send_json({"type": "connection_init", "payload": {"Authorization": "Bearer odg_not-a-key"}})
        with pytest.raises(WebSocketDisconnect) as closed:
            await receive(socket)

    assert closed.value.code == 4403


async def error_codes(socket) -> list[str]:
    message = await receive(socket)
    assert message["type"] in ("error", "next"), message
    errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
    return [e["extensions"]["code"] for e in errors]


async def test_without_a_key_the_subscription_is_refused_as_any_request_is(store, company, source):
    async with connected(store, None) as (client, socket):
        job = await Api(client, company.admin_key).upload_job(source, "calls.txt", FILE)
        await subscribe(socket, job["id"])

        assert await error_codes(socket) == ["UNAUTHENTICATED"]


async def test_another_companys_job_is_not_found(store, company, other_company, source):
    async with connected(store, {"Authorization": f"Bearer {other_company.admin_key}"}) as (client, socket):
        job = await Api(client, company.admin_key).upload_job(source, "calls.txt", FILE)
        await subscribe(socket, job["id"])

        assert await error_codes(socket) == ["NOT_FOUND"]


async def test_a_reader_may_follow_a_job(store, company, source):
    reader_key = await api_keys.create_api_key(store, company.id, api_keys.Role.READER)
    async with connected(store, {"Authorization": f"Bearer {reader_key}"}) as (client, socket):
        job = await Api(client, company.admin_key).upload_job(source, "calls.txt", FILE)
        await subscribe(socket, job["id"])

        assert (await receive(socket))["payload"]["data"]["jobProgress"]["status"] == "QUEUED"


async def test_each_update_reads_what_the_job_points_to_afresh(store, company, suite, today):
    """A job that fails with stop-on-errors locks its data source: the last update says so,
    not what the first update read."""
    source = await make_source(store, company, suite, "GENERIC_SUMMARY", ["Evar 1"], ["Event 1"], stop_on_errors=True)
    broken = FILE + f"{moment(3, '12:00'):%m/%d/%Y}\tc9\tnot-a-number\n".encode()
    query = "subscription($id: ID!) { jobProgress(jobId: $id) { status dataSource { locked } } }"
    async with connected(store, {"Authorization": f"Bearer {company.admin_key}"}) as (client, socket):
        job = await Api(client, company.admin_key).upload_job(source, "calls.txt", broken)
        await socket.send_json({"id": "1", "type": "subscribe", "payload": {"query": query, "variables": {"id": job["id"]}}})
        first = (await receive(socket))["payload"]["data"]["jobProgress"]

        await processing.Worker(store).run_once()
        updates = []
        while (message := await receive(socket))["type"] == "next":
            updates.append(message["payload"]["data"]["jobProgress"])

    assert first == {"status": "QUEUED", "dataSource": {"locked": False}}
    assert updates[-1] == {"status": "FAILED", "dataSource": {"locked": True}}
