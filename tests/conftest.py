"""Shared fixtures: the embedded store, a real MongoDB wire server, a company with keys,
`execute`, which runs one operation through the schema as a given key would, the app and
the HTTP API as the company's ADMIN script uses it (`app`, `api`), the clock (`today`)
and the report suite online data is collected into (`suite`, and on both stores
`any_company`)."""

import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import datetime

import httpx
import pytest
from hypothesis import HealthCheck, settings

from graph.app import create_app
from models import clock
from models.companies import Caller, Role
from models.store import Store
from resolvers import api_keys, report_suites
from tests.helpers import RSID, Api, executor, moment

# The fuzzed tests (*_fuzzed.py): in CI the same examples every run, none remembered
# between runs, all of them within ~30 s on two cores; HYPOTHESIS_PROFILE=explore looks
# further and remembers what failed. A deadline far above any example's time stands for
# "never hangs" without making a busy machine fail a test.
settings.register_profile(
    "ci", max_examples=100, derandomize=True, database=None, deadline=5000, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("explore", max_examples=2000, deadline=5000, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
async def store():
    """The embedded in-memory store, fresh for each test."""
    db = Store.connect(None)
    await db.create_indexes()
    yield db
    db.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def wire_uri(tmp_path_factory):
    """MONGODB_URI if set; else an nx-27017 wire server started for the session."""
    if os.environ.get("MONGODB_URI"):
        yield os.environ["MONGODB_URI"]
        return
    # Beside this interpreter first: the venv's scripts need not be on PATH.
    binary = shutil.which("nx-27017", path=os.path.dirname(sys.executable)) or shutil.which("nx-27017")
    if binary is None:
        pytest.fail("nx-27017 is not installed: install the test extras (pip install -e '.[test]')")
    port = _free_port()
    files = tmp_path_factory.mktemp("nx-27017")
    # Its own pid file: nx-27017 refuses to start while another instance's file exists.
    process = subprocess.Popen(
        [binary, "--db", "memory", "-p", str(port), "--pid-file", str(files / "pid"), "--log-file", str(files / "log")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _wait_for_port(port, process)
    yield f"mongodb://127.0.0.1:{port}"
    process.terminate()
    process.wait(timeout=10)


def _wait_for_port(port: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail("nx-27017 exited at start-up")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    pytest.fail("nx-27017 did not start listening in 20 s")


@pytest.fixture(params=["embedded", "wire"])
async def any_store(request):
    """Store-level tests run on both: the embedded store and a real wire server."""
    if request.param == "embedded":
        db = Store.connect(None)
    else:
        db = Store.connect(request.getfixturevalue("wire_uri"), database=f"t{uuid.uuid4().hex}")
    await db.create_indexes()
    yield db
    db.close()


@dataclass
class Company:
    id: str
    admin: Caller
    uploader: Caller
    reader: Caller
    admin_key: str


async def make_company(store: Store, name: str = "Acme") -> Company:
    company, admin_key = await api_keys.create_company(store, name)
    callers = {}
    for role in Role:
        key = admin_key if role is Role.ADMIN else await api_keys.create_api_key(store, company["_id"], role)
        callers[role] = await api_keys.authenticate(store, f"Bearer {key}")
    return Company(company["_id"], callers[Role.ADMIN], callers[Role.UPLOADER], callers[Role.READER], admin_key)


@pytest.fixture
async def company(store):
    return await make_company(store)


@pytest.fixture
async def other_company(store):
    return await make_company(store, "Globex")


@pytest.fixture
def execute(store):
    """Run a GraphQL operation on `store` as `caller` (None: no key); returns the ExecutionResult."""
    return executor(store)


@dataclass
class Clock:
    now: datetime


@pytest.fixture
def app(store):
    return create_app(store)


@pytest.fixture
async def api(app, company):
    """The HTTP API over the app, as a script holding the company's ADMIN key uses it."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        yield Api(client, company.admin_key)


@pytest.fixture
def today(monkeypatch) -> Clock:
    """models.clock reads this; a test moves `today.now`. It starts on day 9 at 12:00."""
    current = Clock(moment(9, "12:00"))
    monkeypatch.setattr(clock, "now", lambda: current.now)
    return current


@pytest.fixture
async def suite(store, company):
    """The report suite RSID ('furniture'), in New York time, with Transaction ID recording on."""
    await report_suites.create(store, company.admin, RSID, "Furniture", time_zone="America/New_York")
    await report_suites.set_recording(store, company.admin, RSID, True)
    return RSID


@pytest.fixture
async def any_company(any_store):
    """A company on `any_store`, with the report suite RSID in New York time and Transaction ID recording on."""
    company = await make_company(any_store)
    await report_suites.create(any_store, company.admin, RSID, "Furniture", time_zone="America/New_York")
    await report_suites.set_recording(any_store, company.admin, RSID, True)
    return company
