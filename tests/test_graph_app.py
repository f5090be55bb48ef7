"""graph/app.py, over HTTP: the Authorization header and what an authentication error says, GraphiQL, /healthz, and masked errors."""

import time

import httpx
import pytest
from motor.motor_asyncio import AsyncIOMotorClient

from graph.app import create_app
from models import store as collections
from models.companies import Role
from models.store import Store
from resolvers import api_keys, report_suites
from tests.queries import LIST_SUITES, VIEWER

# Its input inline: sent without variables, over GET too.
CREATE_SUITE = 'mutation { createReportSuite(input: {rsid: "site", name: "Site"}) { reportSuite { rsid } userErrors { code } } }'


@pytest.fixture
async def client(store):
    app = create_app(store)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        yield client


async def post(client, query: str, authorization: str | None = None) -> httpx.Response:
    headers = {} if authorization is None else {"Authorization": authorization}
    return await client.post("/graphql", json={"query": query}, headers=headers)


def codes(response: httpx.Response) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in response.json().get("errors", [])]


async def test_a_valid_bearer_key_identifies_the_company_and_role(client, company):
    response = await post(client, VIEWER, f"Bearer {company.admin_key}")

    assert response.status_code == 200
    assert response.json() == {"data": {"viewer": {"companyId": company.id, "role": "ADMIN", "keyId": company.admin.key_id}}}


async def test_the_scheme_is_matched_case_insensitively(client, company):
    response = await post(client, VIEWER, f"bearer {company.admin_key}")

    assert response.json()["data"]["viewer"]["companyId"] == company.id


@pytest.mark.parametrize("authorization", [None, "", "Bearer", "Bearer odg_wrong", "Basic {key}", "{key}"])
async def test_a_missing_or_wrong_key_is_unauthenticated(client, company, authorization):
    header = None if authorization is None else authorization.format(key=company.admin_key)

    response = await post(client, VIEWER, header)

    assert codes(response) == ["UNAUTHENTICATED"]
    assert response.json()["data"] is None


@pytest.mark.parametrize(
    ("authorization", "reason", "says"),
    [
        (None, "NO_AUTHORIZATION", "send it as 'Authorization: Bearer <key>'"),
        ("  ", "NO_AUTHORIZATION", "send it as 'Authorization: Bearer <key>'"),
        ("Basic {key}", "NOT_BEARER", "Bearer scheme"),
        ("{key}", "NOT_BEARER", "Bearer scheme"),
        ("Bearer ", "NOT_BEARER", "Bearer scheme"),
        ("Bearer odg_wrong", "INVALID_KEY", "unknown or was revoked"),
        ("Bearer not-even-prefixed", "INVALID_KEY", "unknown or was revoked"),
    ],
)
async def test_an_authentication_error_says_what_was_wrong(client, company, authorization, reason, says):
    header = None if authorization is None else authorization.format(key=company.admin_key)

    response = await post(client, VIEWER, header)

    (error,) = response.json()["errors"]
    assert error["extensions"] == {"code": "UNAUTHENTICATED", "field": None, "reason": reason}
    assert says in error["message"]


async def test_a_revoked_key_and_an_unknown_one_get_the_same_answer(store, client, company):
    key = await api_keys.create_api_key(store, company.id, Role.READER, "Dashboard")
    await api_keys.revoke_key(store, (await api_keys.authenticate(store, f"Bearer {key}")).key_id)

    revoked = await post(client, VIEWER, f"Bearer {key}")
    unknown = await post(client, VIEWER, f"Bearer {key[:-4]}abcd")

    assert revoked.status_code == unknown.status_code == 200
    assert revoked.json() == unknown.json()
    assert revoked.json()["errors"][0]["extensions"]["reason"] == "INVALID_KEY"


@pytest.mark.parametrize("role", [Role.READER, Role.UPLOADER])
async def test_a_weaker_key_over_http_is_forbidden_to_change_settings(store, client, company, role):
    key = await api_keys.create_api_key(store, company.id, role)

    response = await post(client, CREATE_SUITE, f"Bearer {key}")

    assert codes(response) == ["FORBIDDEN"]
    assert await store.count(collections.REPORT_SUITES, {}) == 0


async def test_each_request_is_authenticated_on_its_own(client, company):
    authorised = await post(client, CREATE_SUITE, f"Bearer {company.admin_key}")
    anonymous = await post(client, LIST_SUITES)

    assert authorised.json()["data"]["createReportSuite"]["reportSuite"] == {"rsid": "site"}
    assert codes(anonymous) == ["UNAUTHENTICATED"]


async def test_each_key_sees_only_its_company(store, client, company, other_company):
    await report_suites.create(store, other_company.admin, "globex", "Globex")

    response = await post(client, LIST_SUITES, f"Bearer {company.admin_key}")

    assert response.json() == {"data": {"reportSuites": {"edges": []}}}


async def test_a_query_may_come_over_get_but_a_mutation_may_not(store, client, company):
    headers = {"Authorization": f"Bearer {company.admin_key}"}

    query = await client.get("/graphql", params={"query": VIEWER}, headers=headers)
    mutation = await client.get("/graphql", params={"query": CREATE_SUITE}, headers=headers)

    assert query.status_code == 200 and query.json()["data"]["viewer"]["role"] == "ADMIN"
    assert mutation.status_code >= 400
    assert await store.count(collections.REPORT_SUITES, {}) == 0


async def test_graphiql_is_served_to_a_browser(client):
    response = await client.get("/graphql", headers={"Accept": "text/html"})

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "graphiql" in response.text.lower()


async def test_healthz_says_ok_when_the_store_answers(client):
    response = await client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.fixture
async def unreachable_client():
    # Nothing listens on port 1; a short selection timeout keeps the test fast.
    unreachable = AsyncIOMotorClient("mongodb://127.0.0.1:1", serverSelectionTimeoutMS=300, connectTimeoutMS=300)
    store = Store(unreachable["offline_graph"], embedded=False)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(store)), base_url="http://t") as client:
            yield client
    finally:
        store.close()


async def test_healthz_is_503_when_the_store_does_not_answer(unreachable_client):
    started = time.monotonic()

    response = await unreachable_client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["status"] != "ok"
    assert time.monotonic() - started < 2


async def test_a_request_while_the_store_is_down_gets_a_coded_503(unreachable_client):
    response = await post(unreachable_client, LIST_SUITES, "Bearer odg_some-key")

    assert response.status_code == 503
    assert response.json()["errors"][0]["extensions"]["code"] == "STORE_UNAVAILABLE"
    assert "127.0.0.1" not in response.text


async def test_an_unexpected_failure_reaches_the_client_masked(client, company, monkeypatch):
    async def broken(*args, **kwargs):
        raise RuntimeError("connection string mongodb://admin:hunter2@db.internal failed")

    monkeypatch.setattr(report_suites, "page", broken)

    response = await post(client, LIST_SUITES, f"Bearer {company.admin_key}")

    assert response.status_code == 200
    body = response.text
    assert response.json()["errors"][0]["message"] == "Unexpected error."
    for leak in ("hunter2", "db.internal", "RuntimeError", "Traceback", 'File "'):
        assert leak not in body
