"""Scenario tests: an operation that runs past its time-out is stopped and answered 503 with
code TIMEOUT; a multipart upload gets the longer upload time-out, counted once its body is
in (graph/app.py, settings.py, over HTTP to the use-cases)."""

import asyncio
import json

import httpx

from graph.app import create_app
from graph.settings import Settings
from models.problems import Problem, Rejected
from resolvers import report_suites, uploads
from tests.queries import LIST_SUITES

UPLOAD = 'mutation($file: Upload!) { uploadDataSourceFile(input: {dataSourceId: "x", file: $file}) { job { id } userErrors { code } } }'


def client_for(store, settings: Settings) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(store, settings)), base_url="http://t")


def slow(seconds: float, reached: list):
    async def work(*args, **kwargs):
        await asyncio.sleep(seconds)
        reached.append("after the wait")
        raise Rejected(Problem(None, "FINISHED", "the stand-in use-case ran to its end"))

    return work


async def test_an_operation_past_its_time_out_is_stopped_with_a_coded_503(store, company, monkeypatch):
    reached = []
    monkeypatch.setattr(report_suites, "page", slow(30, reached))

    async with client_for(store, Settings(request_timeout=0.05)) as client:
        response = await client.post("/graphql", json={"query": LIST_SUITES}, headers={"Authorization": f"Bearer {company.admin_key}"})

    assert response.status_code == 503
    (error,) = response.json()["errors"]
    assert error["extensions"] == {"code": "TIMEOUT"}
    assert "longer than 0.05 s" in error["message"]
    assert reached == []  # cancelled, not left running


async def test_an_upload_is_held_to_the_upload_time_out_instead(store, company, monkeypatch):
    reached = []
    monkeypatch.setattr(uploads, "upload_file", slow(0.2, reached))
    operations = json.dumps({"query": UPLOAD, "variables": {"file": None}})
    form = {"operations": operations, "map": json.dumps({"0": ["variables.file"]})}
    headers = {"Authorization": f"Bearer {company.admin_key}", "apollo-require-preflight": "true"}

    async with client_for(store, Settings(request_timeout=0.05, upload_timeout=5)) as client:
        response = await client.post("/graphql", data=form, files={"0": ("deals.txt", b"Date\n")}, headers=headers)

    assert reached == ["after the wait"]  # ran past the request time-out, within the upload's
    assert response.json()["data"]["uploadDataSourceFile"]["userErrors"] == [{"code": "FINISHED"}]


async def test_without_a_time_out_an_operation_runs_to_its_end(store, company, monkeypatch):
    reached = []
    monkeypatch.setattr(report_suites, "page", slow(0.1, reached))

    async with client_for(store, Settings(request_timeout=None)) as client:
        response = await client.post("/graphql", json={"query": LIST_SUITES}, headers={"Authorization": f"Bearer {company.admin_key}"})

    assert reached == ["after the wait"]
    assert response.json()["errors"][0]["extensions"]["code"] == "FINISHED"
