"""Scenario tests: what browsers meet, over HTTP and WebSocket: CORS for allowed origins
only, WebSocket handshakes checked the same way, GraphiQL served whole from this server,
and the production switches (graph/app.py, settings.py, graphiql.py and the
introspection extension)."""

import base64
import hashlib
import re

import httpx
import pytest
from httpx_ws import WebSocketDisconnect, aconnect_ws
from httpx_ws.transport import ASGIWebSocketTransport

from graph import graphiql
from graph.app import create_app
from graph.settings import Settings

ALLOWED = "http://app.example"
OTHER = "http://elsewhere.example"
VIEWER = "{ viewer { companyId role } }"
SCHEMA_QUERY = "{ __schema { queryType { name } } }"
TYPE_QUERY = '{ __type(name: "Query") { name } }'
HTML = {"Accept": "text/html"}


def client_for(store, settings: Settings | None = None, websockets: bool = False) -> httpx.AsyncClient:
    """A client of the app; with `websockets`, open it inside the test (its transport's task
    group must close in the task that opened it, which a fixture's teardown is not)."""
    app = create_app(store, settings)
    transport = ASGIWebSocketTransport(app=app) if websockets else httpx.ASGITransport(app=app)
    return httpx.AsyncClient(transport=transport, base_url="http://api.local")


@pytest.fixture
async def client(store):
    async with client_for(store, Settings(cors_origins=(ALLOWED,))) as client:
        yield client


@pytest.fixture
async def default_client(store):
    async with client_for(store) as client:
        yield client


def preflight(origin: str, headers: str = "authorization, content-type") -> dict:
    return {"Origin": origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": headers}


def codes(response: httpx.Response) -> list[str]:
    return [e["extensions"]["code"] for e in response.json()["errors"]]


# CORS


async def test_an_allowed_origin_may_read_the_answer(client, company):
    response = await client.post(
        "/graphql", json={"query": VIEWER}, headers={"Origin": ALLOWED, "Authorization": f"Bearer {company.admin_key}"}
    )

    assert response.json()["data"]["viewer"]["role"] == "ADMIN"
    assert response.headers["access-control-allow-origin"] == ALLOWED
    assert "access-control-allow-credentials" not in response.headers  # keys travel in a header, never cookies


async def test_another_origin_gets_no_cors_headers(client, company):
    response = await client.post(
        "/graphql", json={"query": VIEWER}, headers={"Origin": OTHER, "Authorization": f"Bearer {company.admin_key}"}
    )

    assert "access-control-allow-origin" not in response.headers  # so its page cannot read the answer


@pytest.mark.parametrize("headers", ["authorization, content-type", "apollo-require-preflight", "x-apollo-operation-name"])
async def test_a_preflight_from_an_allowed_origin_is_answered(client, headers):
    response = await client.options("/graphql", headers=preflight(ALLOWED, headers))

    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ALLOWED
    assert "POST" in response.headers["access-control-allow-methods"]
    for header in headers.split(", "):
        assert header in response.headers["access-control-allow-headers"].lower()


async def test_a_preflight_from_another_origin_is_refused(client):
    response = await client.options("/graphql", headers=preflight(OTHER))

    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers


async def test_a_preflight_asking_for_a_header_we_do_not_take_is_refused(client):
    response = await client.options("/graphql", headers=preflight(ALLOWED, "x-something-else"))

    assert response.status_code == 400


async def test_by_default_no_origin_is_allowed(default_client):
    simple = await default_client.post("/graphql", json={"query": "{ __typename }"}, headers={"Origin": ALLOWED})
    preflighted = await default_client.options("/graphql", headers=preflight(ALLOWED))

    assert simple.status_code == 200
    assert "access-control-allow-origin" not in simple.headers
    assert preflighted.status_code != 200 and "access-control-allow-origin" not in preflighted.headers


async def test_origins_are_matched_as_browsers_send_them(store):
    async with client_for(store, Settings(cors_origins=("https://app.example",))) as client:
        response = await client.options("/graphql", headers=preflight("http://app.example"))

    assert "access-control-allow-origin" not in response.headers  # another scheme is another origin


# WebSocket handshakes


async def handshake(store, settings: Settings, origin: str | None) -> dict:
    """Open graphql-transport-ws at /graphql with `origin`: the server's answer to init, or
    {"refused": close code} when it closes before accepting."""
    headers = {} if origin is None else {"Origin": origin}
    async with client_for(store, settings, websockets=True) as client:
        try:
            async with aconnect_ws("/graphql", client, subprotocols=["graphql-transport-ws"], headers=headers) as socket:
                assert socket.subprotocol == "graphql-transport-ws"
                await socket.send_json({"type": "connection_init"})
                return await socket.receive_json()
        except WebSocketDisconnect as refused:
            return {"refused": refused.code}


@pytest.mark.parametrize("origin", [None, "http://api.local", ALLOWED], ids=["no origin", "same origin", "allowed origin"])
async def test_a_websocket_handshake_is_accepted_from_this_or_an_allowed_origin(store, origin):
    assert await handshake(store, Settings(cors_origins=(ALLOWED,)), origin) == {"type": "connection_ack"}


@pytest.mark.parametrize("origin", [OTHER, "null"])
async def test_a_websocket_handshake_from_another_origin_is_refused(store, origin):
    # 1008 (policy violation) before accepting: the server answers the handshake with 403
    assert await handshake(store, Settings(cors_origins=(ALLOWED,)), origin) == {"refused": 1008}


async def test_by_default_a_cross_origin_websocket_is_refused(store):
    assert await handshake(store, Settings(), ALLOWED) == {"refused": 1008}


# GraphiQL


async def test_the_graphiql_page_loads_nothing_from_another_host(client):
    response = await client.get("/graphql", headers=HTML)

    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    sources = re.findall(r'<(?:script|link)\b[^>]*?(?:src|href)="([^"]*)"', response.text)
    local = [s for s in sources if not s.startswith("data:")]
    assert len(local) == len(graphiql.manifest()["files"]) == 6
    assert not [s for s in local if "//" in s], "every script and style must come from this server"


async def test_every_asset_the_page_links_is_served_as_the_manifest_hashes_it(client):
    page = (await client.get("/graphql", headers=HTML)).text

    for file in graphiql.manifest()["files"]:
        url = f"static/graphiql/{file['path']}"
        assert f'"{url}" integrity="{file["integrity"]}"' in page
        response = await client.get(f"/{url}")
        assert response.status_code == 200, url
        kind = "text/css" if url.endswith(".css") else "text/javascript"
        assert response.headers["content-type"].startswith(kind), url
        digest = "sha384-" + base64.b64encode(hashlib.sha384(response.content).digest()).decode()
        assert digest == file["integrity"], f"{url} differs from its manifest entry: run scripts/vendor_graphiql.py"


async def test_the_page_opens_on_the_example_and_keeps_no_key_unless_asked(client):
    page = (await client.get("/graphql", headers=HTML)).text

    assert "viewer {" in page and "Headers pane" in page
    assert "shouldPersistHeaders: persistHeaders" in page
    assert 'parameters.persistHeaders === "true"' in page
    assert "storage: storage" in page  # drops the headers GraphiQL 3.8 keeps in its history
    assert "parameters.headers" not in page  # a key in a link would end up in history and logs


async def test_without_the_playground_no_page_is_served_but_the_api_answers(store, company):
    async with client_for(store, Settings(playground=False)) as client:
        page = await client.get("/graphql", headers=HTML)
        asset = await client.get(f"/static/graphiql/{graphiql.manifest()['files'][0]['path']}")
        answer = await client.post("/graphql", json={"query": VIEWER}, headers={"Authorization": f"Bearer {company.admin_key}"})

    assert page.status_code == 404 and "<html" not in page.text.lower()
    assert "GraphiQL is turned off" in page.text
    assert asset.status_code == 404
    assert answer.json()["data"]["viewer"]["companyId"] == company.id


# Introspection


@pytest.mark.parametrize("query", [SCHEMA_QUERY, TYPE_QUERY, "{ viewer { role } __schema { types { name } } }"])
@pytest.mark.parametrize("keyed", [False, True], ids=["without a key", "with a key"])
async def test_without_introspection_schema_queries_are_refused_with_a_code(store, company, query, keyed):
    headers = {"Authorization": f"Bearer {company.admin_key}"} if keyed else {}
    async with client_for(store, Settings(introspection=False)) as client:
        response = await client.post("/graphql", json={"query": query}, headers=headers)

    assert response.json()["data"] is None
    if not keyed and "viewer" in query:  # the key is checked first, before validation
        assert codes(response) == ["UNAUTHENTICATED"]
        return
    assert codes(response) == ["INTROSPECTION_DISABLED"]  # once, where it starts
    assert "Introspection is turned off" in response.json()["errors"][0]["message"]


async def test_without_introspection_ordinary_queries_still_work(store, company):
    async with client_for(store, Settings(introspection=False)) as client:
        response = await client.post(
            "/graphql", json={"query": "{ __typename viewer { role } }"}, headers={"Authorization": f"Bearer {company.admin_key}"}
        )

    assert response.json() == {"data": {"__typename": "Query", "viewer": {"role": "ADMIN"}}}


async def test_by_default_introspection_is_answered(default_client):
    response = await default_client.post("/graphql", json={"query": SCHEMA_QUERY})

    assert response.json() == {"data": {"__schema": {"queryType": {"name": "Query"}}}}
