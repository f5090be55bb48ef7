"""Scenario tests: requests over HTTP that are not GraphQL the server can read get a 400
with a coded GraphQL error and leave no traceback in the log; a store lost mid-request
gets a 503 (graph/app.py's request decoding, the schema's error masking, the store)."""

import json
import logging

import httpx
import pytest

from graph.app import create_app
from models.store import StoreUnavailable

RSID_QUERY = "query($rsid: String!) { reportSuite(rsid: $rsid) { name } }"


@pytest.fixture
async def client(store, company):
    app = create_app(store)
    headers = {"Authorization": f"Bearer {company.admin_key}"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t", headers=headers) as client:
        yield client


@pytest.fixture(autouse=True)
def no_traceback_logged(caplog):
    caplog.set_level(logging.DEBUG)
    yield
    records = caplog.get_records("call")  # `caplog.records` would be the teardown's, always empty here
    assert [r for r in records if r.exc_info] == []
    assert not any("Traceback" in r.getMessage() for r in records)


async def post_raw(client, body: bytes) -> httpx.Response:
    return await client.post("/graphql", content=body, headers={"Content-Type": "application/json"})


def the_error(response: httpx.Response, status: int) -> dict:
    """The one error of a response with no data, in GraphQL's shape."""
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"errors"}
    (error,) = body["errors"]
    assert error["message"]
    return error


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b'{"query": "{ viewer { role } }"', "INVALID_JSON"),
        (nested(1000), "TOO_DEEP"),
        (b'{"query": "{ __typename }", "variables": {"a": ' + nested(1000) + b"}}", "TOO_DEEP"),
        (b"5", "INVALID_BODY"),
        (b"null", "INVALID_BODY"),
        (b'[{"query": "{ __typename }"}]', "INVALID_BODY"),
        (b'"{ __typename }"', "INVALID_BODY"),
        (b'{"query": "{ __typename \xff }"}', "INVALID_ENCODING"),
        (b'{"query": "{ __typename }", "variables": {"n": NaN}}', "INVALID_JSON"),
        (b'{"query": "{ __typename }", "variables": {"n": ' + b"9" * 5000 + b"}}", "INVALID_JSON"),
        (b'{"variables": {}}', "MISSING_QUERY"),
        (b'{"query": "  "}', "MISSING_QUERY"),
        (b'{"query": 5}', "BAD_REQUEST"),
        (b'{"query": "{ __typename }", "variables": [1]}', "BAD_REQUEST"),
        (b'{"query": "{ __typename }", "variables": "{}"}', "BAD_REQUEST"),
        (b'{"query": "{ __typename }", "operationName": "Other"}', "BAD_REQUEST"),
    ],
    ids=[
        "invalid JSON", "nested 1,000 deep", "variables nested 1,000 deep", "a number", "null", "a list",
        "a string", "not UTF-8", "NaN", "a number too long", "no query", "a blank query", "a query not a string",
        "variables a list", "variables a string", "an unknown operation",
    ],
)  # fmt: skip
async def test_a_body_that_is_no_graphql_request_gets_a_coded_400(client, body, code):
    error = the_error(await post_raw(client, body), 400)

    assert error["extensions"]["code"] == code


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"query": RSID_QUERY, "variables": {"rsid": "\ud800"}}, "variables.rsid"),
        ({"query": '{ reportSuite(rsid: "\udfff") { name } }'}, "query"),
        ({"query": RSID_QUERY, "variables": {"rsid": "shop", "\udc00": 1}}, "variables.\udc00"),
    ],
    ids=["a variable", "a literal", "a key"],
)
async def test_a_lone_surrogate_is_refused_before_it_reaches_the_store(client, store, body, field):
    before = store.round_trips

    response = await post_raw(client, json.dumps(body).encode())  # ensure_ascii writes \ud800 escapes

    error = the_error(response, 400)
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("INVALID_TEXT", field)
    assert store.round_trips == before + 1  # reading the API key only


async def test_a_correct_surrogate_pair_is_text(client):
    response = await post_raw(client, json.dumps({"query": RSID_QUERY, "variables": {"rsid": "😀"}}).encode())

    assert response.status_code == 200
    assert response.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_json_nested_below_the_decoders_limit_is_read_and_answered(client):
    body = b'{"query": "{ __typename }", "variables": {"unused": ' + nested(500) + b"}}"

    response = await post_raw(client, body)

    assert response.status_code == 200
    assert response.json() == {"data": {"__typename": "Query"}}


async def test_bad_variables_over_get_get_a_coded_400(client):
    response = await client.get("/graphql", params={"query": "{ __typename }", "variables": "{"})

    assert the_error(response, 400)["extensions"]["code"] == "INVALID_JSON"


async def test_a_mutation_over_get_gets_a_coded_400(client):
    response = await client.get("/graphql", params={"query": "mutation { __typename }"})

    assert the_error(response, 400)["extensions"]["code"] == "BAD_REQUEST"


async def test_a_store_lost_mid_request_gets_a_coded_503(client, store, monkeypatch):
    async def lost(*args, **kwargs):
        raise StoreUnavailable("AutoReconnect")

    monkeypatch.setattr(store, "find_page", lost)  # the API key is read; the resolver's query fails

    response = await client.post("/graphql", json={"query": "{ reportSuites { edges { node { rsid } } } }"})

    assert response.status_code == 503
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "STORE_UNAVAILABLE"
    assert error["path"] == ["reportSuites"]
