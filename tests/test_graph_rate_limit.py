"""graph/rate_limit.py, with graph/app.py and graph/websockets.py: a token bucket per key,
and per client address without a valid key; over it, 429 with Retry-After over HTTP and a
RATE_LIMITED error on a WebSocket."""

import httpx
import pytest
from httpx_ws import aconnect_ws
from httpx_ws.transport import ASGIWebSocketTransport

from graph import rate_limit
from graph.app import create_app
from graph.rate_limit import RateLimited, RateLimiter
from graph.settings import Settings
from models.companies import Role
from resolvers import api_keys, report_suites
from tests.queries import LIST_SUITES, VIEWER

# One request in 1,000 seconds after a burst of two: no refill can come between a test's requests.
SLOW = Settings(rate_limit=0.001, rate_burst=2)


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_gives_its_burst_then_a_request_per_refill():
    clock = FakeClock()
    limiter = RateLimiter(rate=2, burst=3, clock=clock)

    assert [limiter.take("k") for _ in range(3)] == [0, 0, 0]
    assert limiter.take("k") == pytest.approx(0.5)  # half a second until a token is back
    clock.now += 0.5
    assert limiter.take("k") == 0
    clock.now += 10  # refills up to the burst, no more
    assert [limiter.take("k") for _ in range(4)][-1] > 0


def test_an_empty_bucket_says_when_to_come_back_in_whole_seconds():
    limiter = RateLimiter(rate=0.4, burst=1, clock=FakeClock())
    limiter.check(None, "10.0.0.1")

    with pytest.raises(RateLimited) as limited:
        limiter.check(None, "10.0.0.1")

    assert limited.value.retry_after == 3  # 2.5 s, rounded up
    assert "Try again in 3 s" in limited.value.message
    assert "without a valid API key" in limited.value.message


def test_full_buckets_are_forgotten_once_there_are_many(monkeypatch):
    monkeypatch.setattr(rate_limit, "PRUNE_ABOVE", 100)
    clock = FakeClock()
    limiter = RateLimiter(rate=1, burst=1, clock=clock)
    for n in range(100):
        limiter.take(f"address:{n}")
    clock.now += 5  # every one of them has refilled

    limiter.take("address:new")

    assert len(limiter._buckets) == 1


def client_for(store, settings=SLOW, address: str = "10.0.0.1") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=create_app(store, settings), client=(address, 4321))
    return httpx.AsyncClient(transport=transport, base_url="http://t")


async def post(client, key: str | None = None, query: str = VIEWER) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return await client.post("/graphql", json={"query": query}, headers=headers)


async def test_a_key_over_its_rate_gets_429_with_retry_after_and_other_keys_do_not(store, company):
    other_key = await api_keys.create_api_key(store, company.id, Role.READER, "Dashboard")
    async with client_for(store) as client:
        answered = [await post(client, company.admin_key) for _ in range(3)]
        other = await post(client, other_key)

    assert [r.status_code for r in answered] == [200, 200, 429]
    refused = answered[2]
    assert int(refused.headers["Retry-After"]) >= 1
    (error,) = refused.json()["errors"]
    assert error["extensions"]["code"] == "RATE_LIMITED"
    assert "this API key" in error["message"] and "bursts of 2" in error["message"]
    assert other.status_code == 200


async def test_a_refused_request_runs_nothing(store, company, monkeypatch):
    calls = []
    original = report_suites.page

    async def counted(*args, **kwargs):
        calls.append(1)
        return await original(*args, **kwargs)

    monkeypatch.setattr(report_suites, "page", counted)
    async with client_for(store) as client:
        statuses = [(await post(client, company.admin_key, LIST_SUITES)).status_code for _ in range(4)]

    assert statuses == [200, 200, 429, 429]
    assert len(calls) == 2


async def test_requests_without_a_valid_key_are_limited_per_client_address(store, company):
    app = create_app(store, SLOW)
    statuses = {}
    for address in ("10.0.0.1", "10.0.0.2"):
        transport = httpx.ASGITransport(app=app, client=(address, 4321))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            keyless = [(await post(client)).status_code for _ in range(2)]
            random_key = (await post(client, "odg_made-up-to-get-a-fresh-bucket")).status_code
            valid_key = (await post(client, company.admin_key)).status_code
            statuses[address] = (keyless, random_key, valid_key)

    # two keyless answers (UNAUTHENTICATED, 200), then the address is over; a made-up key
    # buys no fresh bucket; a valid key has a bucket of its own.
    assert statuses["10.0.0.1"] == ([200, 200], 429, 200)
    assert statuses["10.0.0.2"] == ([200, 200], 429, 200)


async def test_without_a_rate_limit_nothing_is_refused(store, company):
    async with client_for(store, Settings(rate_limit=None)) as client:
        statuses = {(await post(client, company.admin_key)).status_code for _ in range(50)}

    assert statuses == {200}


async def test_an_operation_on_a_websocket_over_the_rate_gets_an_error_and_the_socket_stays_open(store, company):
    app = create_app(store, SLOW)
    headers = {"Authorization": f"Bearer {company.admin_key}"}
    async with (
        httpx.AsyncClient(transport=ASGIWebSocketTransport(app=app), base_url="http://api.local") as client,
        aconnect_ws("/graphql", client, subprotocols=["graphql-transport-ws"], headers=headers) as socket,
    ):
        await socket.send_json({"type": "connection_init"})
        assert (await socket.receive_json())["type"] == "connection_ack"
        answers = []
        for n in range(3):
            await socket.send_json({"id": str(n), "type": "subscribe", "payload": {"query": VIEWER}})
            answers.append(await socket.receive_json())
            if answers[-1]["type"] == "next":
                assert (await socket.receive_json())["type"] == "complete"
        await socket.send_json({"type": "ping"})
        pong = await socket.receive_json()

    assert [a["type"] for a in answers] == ["next", "next", "error"]
    (error,) = answers[2]["payload"]
    assert error["extensions"]["code"] == "RATE_LIMITED" and error["extensions"]["retryAfter"] >= 1
    assert pong == {"type": "pong"}
