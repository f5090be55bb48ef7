"""graph/cli.py, the `offline-graph` command: export-schema, the company and key commands, and serve's settings and demo.

These are plain functions: the commands run their own event loop (serve's settings tests
are async only to ask the app it would run, over httpx)."""

import asyncio
import re

import httpx
import pytest

from graph.cli import UNREACHABLE, main
from graph.schema import schema
from models.companies import Role
from models.store import Store, StoreUnavailable
from resolvers import api_keys

COMPANY_LINE = re.compile(r"^company: (\S+)$", re.MULTILINE)
KEY = re.compile(r"\bodg_[A-Za-z0-9_-]{20,}")


@pytest.fixture
def embedded(monkeypatch):
    monkeypatch.delenv("MONGODB_URI", raising=False)


@pytest.fixture
def wire(monkeypatch, wire_uri):
    monkeypatch.setenv("MONGODB_URI", wire_uri)
    return wire_uri


def authenticate(uri: str, key: str):
    async def run():
        store = Store.connect(uri)
        try:
            return await api_keys.authenticate(store, f"Bearer {key}")
        finally:
            store.close()

    return asyncio.run(run())


def test_export_schema_prints_the_sdl(capsys):
    assert main(["export-schema"]) == 0

    assert capsys.readouterr().out == schema.as_str() + "\n"


def test_export_schema_writes_the_file_it_is_given(tmp_path, capsys):
    target = tmp_path / "schema.graphql"

    assert main(["export-schema", "--output", str(target)]) == 0

    assert target.read_text(encoding="utf-8") == schema.as_str() + "\n"
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize(
    "argv",
    [
        ["create-company", "Acme"],
        ["create-api-key", "--company", "c", "--role", "READER"],
        ["list-api-keys", "--company", "c"],
        ["revoke-api-key", "k"],
        ["rotate-api-key", "k"],
    ],
)
def test_company_and_key_commands_refuse_the_embedded_store_and_print_no_key(embedded, capsys, argv):
    assert main(argv) == 2

    captured = capsys.readouterr()
    assert captured.err.startswith("error: ") and "MONGODB_URI" in captured.err
    assert "could never be used" in captured.err
    assert not KEY.search(captured.out + captured.err)


def test_create_company_and_key_on_a_real_store_give_working_keys(wire, capsys):
    assert main(["create-company", "Acme"]) == 0
    out = capsys.readouterr().out
    company_id = COMPANY_LINE.search(out).group(1)
    (admin_key,) = KEY.findall(out)

    assert main(["create-api-key", "--company", company_id, "--role", "UPLOADER", "--name", "Nightly CRM upload"]) == 0
    (uploader_key,) = KEY.findall(capsys.readouterr().out)

    admin = authenticate(wire, admin_key)
    uploader = authenticate(wire, uploader_key)
    assert (admin.company_id, admin.role) == (company_id, Role.ADMIN)
    assert (uploader.company_id, uploader.role) == (company_id, Role.UPLOADER)


def _company(capsys) -> tuple[str, str]:
    assert main(["create-company", "Acme"]) == 0
    out = capsys.readouterr().out
    return COMPANY_LINE.search(out).group(1), KEY.findall(out)[0]


def test_list_api_keys_shows_each_keys_id_prefix_role_and_name_but_no_secret(wire, capsys):
    company_id, admin_key = _company(capsys)
    assert main(["create-api-key", "--company", company_id, "--role", "READER", "--name", "Dashboard"]) == 0
    reader_key = KEY.findall(capsys.readouterr().out)[0]

    assert main(["list-api-keys", "--company", company_id]) == 0
    out = capsys.readouterr().out

    assert admin_key not in out and reader_key not in out
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["id", "prefix", "role"]
    assert [line.split()[2] for line in lines[1:]] == ["ADMIN", "READER"]
    assert lines[1].split()[1] == admin_key[:8] and lines[2].split()[1] == reader_key[:8]
    assert lines[1].endswith("First ADMIN key") and lines[2].endswith("Dashboard")


def test_revoke_api_key_makes_the_key_fail_and_rotate_gives_a_working_one(wire, capsys):
    company_id, admin_key = _company(capsys)
    assert main(["create-api-key", "--company", company_id, "--role", "UPLOADER", "--name", "CRM"]) == 0
    uploader_key = KEY.findall(capsys.readouterr().out)[0]
    uploader_id = authenticate(wire, uploader_key).key_id
    admin_id = authenticate(wire, admin_key).key_id

    assert main(["revoke-api-key", uploader_id]) == 0
    assert capsys.readouterr().out.startswith("revoked: " + uploader_id)
    assert authenticate(wire, uploader_key) is None

    assert main(["rotate-api-key", admin_id]) == 0
    out = capsys.readouterr().out
    (new_key,) = KEY.findall(out)
    assert authenticate(wire, admin_key) is None
    rotated = authenticate(wire, new_key)
    assert (rotated.company_id, rotated.role) == (company_id, Role.ADMIN)
    assert "ADMIN key (shown once)" in out


def test_key_commands_say_what_they_cannot_find(wire, capsys):
    assert main(["revoke-api-key", "no-such-key"]) == 1
    assert "no-such-key" in capsys.readouterr().err
    assert main(["list-api-keys", "--company", "no-such-company"]) == 1
    assert "no-such-company" in capsys.readouterr().err


def test_the_last_admin_key_cannot_be_revoked_from_the_command_line_either(wire, capsys):
    _, admin_key = _company(capsys)

    assert main(["revoke-api-key", authenticate(wire, admin_key).key_id]) == 1

    assert "last ADMIN key" in capsys.readouterr().err
    assert authenticate(wire, admin_key) is not None


def test_create_api_key_for_an_unknown_company_fails_with_a_message(wire, capsys):
    assert main(["create-api-key", "--company", "no-such-company", "--role", "READER"]) == 1

    captured = capsys.readouterr()
    assert "no-such-company" in captured.err
    assert "error" in captured.err.lower()
    assert not KEY.search(captured.out + captured.err)


def test_create_company_with_a_blank_name_fails(wire, capsys):
    assert main(["create-company", "   "]) == 1

    captured = capsys.readouterr()
    assert "name" in captured.err
    assert not KEY.search(captured.out)


def test_an_unknown_role_is_refused_before_anything_is_done(embedded, capsys):
    with pytest.raises(SystemExit) as exit:
        main(["create-api-key", "--company", "c", "--role", "OWNER"])

    assert exit.value.code == 2
    assert "OWNER" in capsys.readouterr().err


@pytest.fixture
def unanswering(monkeypatch):
    """MONGODB_URI names a MongoDB that is down (answers are faked: waiting costs 5 s)."""
    monkeypatch.setenv("MONGODB_URI", "mongodb://user:secret@127.0.0.1:1")

    async def no(uri):
        return False

    monkeypatch.setattr(Store, "reachable", no)


def test_serve_stops_with_one_clear_line_when_mongodb_does_not_answer(unanswering, capsys):
    assert main(["serve", "--port", "1"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == UNREACHABLE
    assert "secret" not in err


def test_create_company_says_so_when_mongodb_does_not_answer(unanswering, monkeypatch, capsys):
    async def unavailable(store):
        raise StoreUnavailable("ServerSelectionTimeoutError")

    monkeypatch.setattr(Store, "create_indexes", unavailable)

    assert main(["create-company", "Acme"]) == 2
    err = capsys.readouterr().err
    assert UNREACHABLE in err and "Traceback" not in err and "secret" not in err


# serve: CORS origins and the production switches, from flags and from the environment

SWITCH_VARIABLES = ("ODG_CORS_ORIGINS", "ODG_PLAYGROUND", "ODG_INTROSPECTION", "ODG_RATE_LIMIT", "ODG_RATE_BURST", "ODG_REQUEST_TIMEOUT")


@pytest.fixture
def served(monkeypatch, embedded):
    """`serve` runs as usual but hands its app here instead of to uvicorn."""
    for variable in SWITCH_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    apps = []
    monkeypatch.setattr("uvicorn.run", lambda app, **options: apps.append(app))
    return apps


async def behaviour(app, origins=("http://a.example", "http://b.example:8080")) -> dict:
    """What a browser and a client would notice: which origins CORS allows, whether GraphiQL
    is served, whether introspection is answered."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        allowed = []
        for origin in origins:
            preflight = await client.options("/graphql", headers={"Origin": origin, "Access-Control-Request-Method": "POST"})
            if preflight.headers.get("access-control-allow-origin") == origin:
                allowed.append(origin)
        page = await client.get("/graphql", headers={"Accept": "text/html"})
        introspection = await client.post("/graphql", json={"query": "{ __schema { queryType { name } } }"})
    return {"cors": allowed, "playground": page.status_code == 200, "introspection": introspection.json().get("errors") is None}


async def test_serve_by_default_allows_no_origin_and_offers_graphiql_and_introspection(served):
    assert main(["serve"]) == 0

    assert await behaviour(served[0]) == {"cors": [], "playground": True, "introspection": True}


async def test_serve_takes_origins_and_switches_from_flags(served):
    argv = [
        "serve",
        "--cors-origin",
        "http://a.example",
        "--cors-origin",
        "http://B.example:8080/",
        "--no-playground",
        "--no-introspection",
    ]

    assert main(argv) == 0

    both = ["http://a.example", "http://b.example:8080"]
    assert await behaviour(served[0]) == {"cors": both, "playground": False, "introspection": False}


async def test_serve_takes_origins_and_switches_from_the_environment(served, monkeypatch):
    monkeypatch.setenv("ODG_CORS_ORIGINS", "http://a.example, http://b.example:8080")
    monkeypatch.setenv("ODG_PLAYGROUND", "0")
    monkeypatch.setenv("ODG_INTROSPECTION", "false")

    assert main(["serve"]) == 0

    both = ["http://a.example", "http://b.example:8080"]
    assert await behaviour(served[0]) == {"cors": both, "playground": False, "introspection": False}


async def test_a_cors_flag_replaces_the_variable_and_a_switch_turns_off_either_way(served, monkeypatch):
    monkeypatch.setenv("ODG_CORS_ORIGINS", "http://a.example")
    monkeypatch.setenv("ODG_PLAYGROUND", "1")

    assert main(["serve", "--cors-origin", "http://b.example:8080", "--no-playground"]) == 0

    assert await behaviour(served[0]) == {"cors": ["http://b.example:8080"], "playground": False, "introspection": True}


async def test_serve_takes_the_rate_limit_from_its_flags(served):
    assert main(["serve", "--rate-limit", "1/h", "--rate-burst", "1"]) == 0

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=served[0]), base_url="http://t") as client:
        statuses = [(await client.post("/graphql", json={"query": "{ __typename }"})).status_code for _ in range(2)]

    assert statuses == [200, 429]


@pytest.mark.parametrize(
    ("argv", "variables", "named"),
    [
        (["--cors-origin", "app.example"], {}, "--cors-origin"),
        (["--cors-origin", "https://app.example/graphql"], {}, "--cors-origin"),
        ([], {"ODG_CORS_ORIGINS": "https://ok.example,not an origin"}, "ODG_CORS_ORIGINS"),
        ([], {"ODG_PLAYGROUND": "maybe"}, "ODG_PLAYGROUND"),
        ([], {"ODG_INTROSPECTION": "disabled"}, "ODG_INTROSPECTION"),
        (["--rate-limit", "lots"], {}, "--rate-limit"),
        ([], {"ODG_REQUEST_TIMEOUT": "never"}, "ODG_REQUEST_TIMEOUT"),
    ],
)
def test_serve_refuses_a_setting_it_cannot_use_and_says_which(served, monkeypatch, capsys, argv, variables, named):
    for variable, value in variables.items():
        monkeypatch.setenv(variable, value)

    assert main(["serve", *argv]) == 2

    err = capsys.readouterr().err
    assert err.startswith("error: ") and named in err
    assert served == []  # nothing started


async def test_the_uvicorn_factory_reads_the_same_variables(served, monkeypatch):
    from graph import asgi

    monkeypatch.setenv("ODG_CORS_ORIGINS", "http://a.example")
    monkeypatch.setenv("ODG_INTROSPECTION", "0")

    assert await behaviour(asgi.create()) == {"cors": ["http://a.example"], "playground": True, "introspection": False}


async def test_serve_demo_prints_a_working_key_of_each_role(served, capsys):
    assert main(["serve", "--demo", "--no-worker"]) == 0
    app = served[0]

    async with app.router.lifespan_context(app):  # seeds the demo, as uvicorn would at start-up
        out = capsys.readouterr().out
        keys = dict(re.findall(r"^\s+(ADMIN|UPLOADER|READER)\s+.*Bearer (odg_[A-Za-z0-9_-]+)", out, re.MULTILINE))
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            roles = {}
            for role, key in keys.items():
                response = await client.post("/graphql", json={"query": "{ viewer { role } }"}, headers={"Authorization": f"Bearer {key}"})
                roles[role] = response.json()["data"]["viewer"]["role"]

    assert roles == {"ADMIN": "ADMIN", "UPLOADER": "UPLOADER", "READER": "READER"}
