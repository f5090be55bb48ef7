"""graph/websockets.py: an open WebSocket checks its key again before each operation and
while it stays open, and closes (4403) once the key is revoked."""

import asyncio

import httpx
from httpx_ws import WebSocketDisconnect, aconnect_ws
from httpx_ws.transport import ASGIWebSocketTransport

from graph import websockets
from graph.app import create_app
from models.companies import Role
from resolvers import api_keys

VIEWER = "{ viewer { role } }"


def client_for(store) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=ASGIWebSocketTransport(app=create_app(store)), base_url="http://api.local")


async def run(socket, operation_id: str, query: str = VIEWER) -> dict:
    await socket.send_json({"id": operation_id, "type": "subscribe", "payload": {"query": query}})
    return await socket.receive_json()


async def closed_code(socket) -> int:
    """The code the server closes the socket with (waiting a few seconds at most)."""
    async with asyncio.timeout(5):
        try:
            while True:
                await socket.receive_json()
        except WebSocketDisconnect as closed:
            return closed.code


async def opened(client, key: str):
    return aconnect_ws("/graphql", client, subprotocols=["graphql-transport-ws"], headers={"Authorization": f"Bearer {key}"})


async def test_an_open_socket_answers_while_its_key_holds_and_closes_at_the_next_operation_once_revoked(store, company):
    key = await api_keys.create_api_key(store, company.id, Role.READER, "Dashboard")
    async with client_for(store) as client, await opened(client, key) as socket:
        await socket.send_json({"type": "connection_init"})
        assert await socket.receive_json() == {"type": "connection_ack"}
        assert await run(socket, "1") == {"id": "1", "type": "next", "payload": {"data": {"viewer": {"role": "READER"}}}}
        assert (await socket.receive_json())["type"] == "complete"

        await api_keys.revoke_key(store, (await api_keys.authenticate(store, f"Bearer {key}")).key_id)
        await socket.send_json({"id": "2", "type": "subscribe", "payload": {"query": VIEWER}})

        assert await closed_code(socket) == websockets.CLOSE_CODE


async def test_an_idle_socket_is_closed_once_its_key_is_revoked(store, company, monkeypatch):
    monkeypatch.setattr(websockets, "KEY_RECHECK_SECONDS", 0.01)
    key = await api_keys.create_api_key(store, company.id, Role.READER, "Dashboard")
    key_id = (await api_keys.authenticate(store, f"Bearer {key}")).key_id
    async with client_for(store) as client, await opened(client, key) as socket:
        await socket.send_json({"type": "connection_init"})
        assert await socket.receive_json() == {"type": "connection_ack"}

        await api_keys.revoke_key(store, key_id)

        assert await closed_code(socket) == websockets.CLOSE_CODE


async def test_a_socket_whose_key_holds_stays_open_through_the_checks(store, company, monkeypatch):
    monkeypatch.setattr(websockets, "KEY_RECHECK_SECONDS", 0.01)
    checks = []
    three_checks = asyncio.Event()
    original = api_keys.still_valid

    async def counted(db, caller):
        checks.append(caller.key_id)
        if len(checks) >= 3:
            three_checks.set()
        return await original(db, caller)

    monkeypatch.setattr(api_keys, "still_valid", counted)
    async with client_for(store) as client, await opened(client, company.admin_key) as socket:
        await socket.send_json({"type": "connection_init"})
        assert await socket.receive_json() == {"type": "connection_ack"}
        async with asyncio.timeout(5):
            await three_checks.wait()

        assert await run(socket, "1") == {"id": "1", "type": "next", "payload": {"data": {"viewer": {"role": "ADMIN"}}}}
    assert set(checks) == {company.admin.key_id}


async def test_a_socket_signed_in_by_its_init_payload_is_closed_too_once_that_key_is_revoked(store, company):
    key = await api_keys.create_api_key(store, company.id, Role.READER, "Browser")
    async with client_for(store) as client, aconnect_ws("/graphql", client, subprotocols=["graphql-transport-ws"]) as socket:
        await socket.send_json({"type": "connection_init", "payload": {"Authorization": f"Bearer {key}"}})
        assert await socket.receive_json() == {"type": "connection_ack"}
        assert (await run(socket, "1"))["payload"] == {"data": {"viewer": {"role": "READER"}}}
        assert (await socket.receive_json())["type"] == "complete"

        await api_keys.revoke_key(store, (await api_keys.authenticate(store, f"Bearer {key}")).key_id)
        await socket.send_json({"id": "2", "type": "subscribe", "payload": {"query": VIEWER}})

        assert await closed_code(socket) == websockets.CLOSE_CODE
