"""graph/uploading.py and graph/remote.py, `offline-graph upload`, against the app over an
httpx transport (as over the network: no store of its own) with a worker running beside it."""

import io

import httpx
import pytest
from strawberry.relay import GlobalID

from graph.app import create_app
from graph.uploading import EXIT_ERROR, EXIT_FAILED, EXIT_SUCCESS, Upload, run
from models import store as collections
from resolvers import processing
from tests.helpers import ServerDiesWithTheFirstUpload, collect, make_source, moment

HEADER = "Date\tEvar 3\tEvent 5\tPrice\tvisitorID\n"
ENDPOINT = "http://api.example:8000"


def line(day: int, stage: str, price: str, visitor: str) -> str:
    return f"{moment(day, '12:00'):%m/%d/%Y}\t{stage}\t1\t{price}\t{visitor}\n"


CALLS = (
    HEADER
    + line(3, "retention", "10", "cust-42")
    + line(3, "retention", "x", "cust-42")
    + line(4, "a;b", "1", "cust-42")
    + line(4, "upsell", "5", "cust-77")
)


@pytest.fixture
async def source(store, execute, company, suite, today):
    await collect(
        execute,
        company.uploader,
        [{"visitorId": "cust-42", "timestamp": moment(0, "09:00").isoformat(), "evars": [{"number": 1, "value": "search"}]}],
    )
    return await make_source(store, company, suite, "CALL_CENTER_VISITOR_ID", ["Evar 3", "visitorID"], ["Event 5", "Price"])


@pytest.fixture
async def served(store):
    """The app as a transport, and a worker processing its uploads meanwhile."""
    async with processing.running(store):
        yield httpx.ASGITransport(app=create_app(store))


def upload_of(path, source: str, key: str, **options) -> Upload:
    return Upload(path, source, ENDPOINT, key, poll_seconds=0.01, **options)


def write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


async def test_an_upload_prints_the_jobs_counts_and_each_problem_with_its_line_and_column(store, tmp_path, company, source, served):
    out = io.StringIO()

    status = await run(upload_of(write(tmp_path, "calls.txt", CALLS), source, company.admin_key), served, out)

    assert status == EXIT_SUCCESS
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("job calls.txt: SUCCESS (id ")
    assert lines[1] == "rows 4: linked by transaction 0, linked by visitor 1, summary 1, skipped 2"
    assert lines[2] == "errors 1, warnings 2"
    assert [entry.split(":")[0].strip() for entry in lines[3:]] == ["line 3, column 4", "line 4, column 2", "line 5, column 5"]
    assert "INVALID_NUMBER" in lines[3] and "UNKNOWN_VISITOR" in lines[5]
    assert len(await store.find_many(collections.ROWS, {})) == 2


async def test_a_file_that_fails_exits_non_zero_and_says_why(store, tmp_path, company, source, served):
    out = io.StringIO()

    status = await run(upload_of(write(tmp_path, "bad.txt", "Date\teVar3\tEvent 5\n"), source, company.admin_key), served, out)

    assert status == EXIT_FAILED
    assert "job bad.txt: FAILED" in out.getvalue()
    assert "line 1, column 2: ERROR UNKNOWN_HEADER" in out.getvalue()


async def test_a_dry_run_stores_nothing_and_exits_non_zero_on_problems(store, tmp_path, company, source, served):
    out = io.StringIO()
    clean = write(tmp_path, "clean.txt", HEADER + line(3, "retention", "10", "cust-42"))

    with_problems = await run(upload_of(write(tmp_path, "calls.txt", CALLS), source, company.admin_key, dry_run=True), served, out)
    without = await run(upload_of(clean, source, company.admin_key, dry_run=True), served, io.StringIO())

    assert (with_problems, without) == (EXIT_FAILED, EXIT_SUCCESS)
    assert out.getvalue().startswith("dry run of calls.txt: nothing was stored\nrows 4: linked by transaction 0, linked by visitor 1")
    assert await store.find_many(collections.JOBS, {}) == []


async def test_the_same_file_again_is_refused_as_a_duplicate_naming_the_earlier_job(store, tmp_path, company, source, served):
    path = write(tmp_path, "calls.txt", CALLS)
    assert await run(upload_of(path, source, company.admin_key), served, io.StringIO()) == EXIT_SUCCESS
    out = io.StringIO()

    status = await run(upload_of(path, source, company.admin_key), served, out)

    assert status == EXIT_FAILED
    assert out.getvalue().startswith("refused (file): DUPLICATE_UPLOAD: ")
    assert "earlier job calls.txt: SUCCESS" in out.getvalue()
    assert await run(upload_of(path, source, company.admin_key, allow_duplicate=True), served, io.StringIO()) == EXIT_SUCCESS


async def test_a_key_that_is_no_key_exits_2_with_the_servers_reason(tmp_path, source, served, capsys):
    status = await run(upload_of(write(tmp_path, "calls.txt", CALLS), source, "odg_not-a-key"), served, io.StringIO())

    assert status == EXIT_ERROR
    assert "error: UNAUTHENTICATED: " in capsys.readouterr().err


class LosesTheFirstAnswer(httpx.AsyncBaseTransport):
    """The network between the command and the server: the first upload arrives, but its
    answer is lost on the way back (the connection resets)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner, self.uploads = inner, 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.headers.get("content-type", "").startswith("multipart/"):
            self.uploads += 1
            if self.uploads == 1:
                raise httpx.ReadError("connection reset by peer", request=request)
        return response


async def test_an_upload_whose_answer_was_lost_is_sent_again_and_stored_once(store, tmp_path, company, source, served, monkeypatch):
    monkeypatch.setattr("graph.remote.RETRY_SECONDS", 0.0)
    network = LosesTheFirstAnswer(served)
    out = io.StringIO()

    status = await run(upload_of(write(tmp_path, "calls.txt", CALLS), source, company.admin_key), network, out)

    assert status == EXIT_SUCCESS and network.uploads == 2
    assert len(await store.find_many(collections.JOBS, {})) == 1
    assert len(await store.find_many(collections.ROWS, {})) == 2
    assert "job calls.txt: SUCCESS" in out.getvalue()


async def test_an_endpoint_given_as_the_server_alone_means_its_graphql_path(tmp_path, company, source, served):
    seen = []

    class Recorded(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request):
            seen.append(request.url.path)
            return await served.handle_async_request(request)

    await run(upload_of(write(tmp_path, "calls.txt", CALLS), source, company.admin_key, dry_run=True), Recorded(), io.StringIO())

    assert seen == ["/graphql"]


async def test_an_upload_whose_server_died_with_it_is_sent_again_once_the_dead_sending_is_removed(
    store, tmp_path, company, source, served, today, monkeypatch
):
    monkeypatch.setattr("graph.remote.RETRY_SECONDS", 0.0)
    stored_id = GlobalID.from_id(source).node_id
    network = ServerDiesWithTheFirstUpload(served, store, company.uploader, stored_id, "nightly-1", today)
    out = io.StringIO()

    status = await run(upload_of(write(tmp_path, "calls.txt", CALLS), source, company.admin_key, idempotency_key="nightly-1"), network, out)

    assert status == EXIT_SUCCESS and network.uploads == 3  # the dead one, the retry answered RECEIVING, the new sending
    (job,) = await store.find_many(collections.JOBS, {})
    assert job["status"] == "SUCCESS" and len(await store.find_many(collections.ROWS, {})) == 2
