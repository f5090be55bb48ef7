"""graph/drop_folder.py, `offline-graph watch DIR --once`, against the app over an httpx
transport with a worker running beside it: which files are taken, in what order, where
they go, and what a watcher that stopped half way does when it starts again."""

import json
import pathlib

import httpx
import pytest
from strawberry.relay import GlobalID

from graph import drop_folder
from graph.app import create_app
from graph.drop_folder import DropFolder, ready, run, take_all
from graph.uploading import EXIT_ERROR, EXIT_FAILED, EXIT_SUCCESS
from models import store as collections
from resolvers import processing
from tests.helpers import ServerDiesWithTheFirstUpload, make_source, moment

HEADER = "Date\tEvar 1\tEvent 1\n"


def data(campaign: str) -> str:
    return HEADER + f"{moment(3, '12:00'):%m/%d/%Y}\t{campaign}\t1\n"


@pytest.fixture
async def source(store, company, suite, today):
    return await make_source(store, company, suite, "GENERIC_SUMMARY", ["Evar 1"], ["Event 1"])


@pytest.fixture
async def served(store):
    async with processing.running(store):
        yield httpx.ASGITransport(app=create_app(store))


@pytest.fixture
def drop(tmp_path, source, company) -> DropFolder:
    return DropFolder(tmp_path, source, "http://api.example", company.admin_key, poll_seconds=0.01)


def put(folder: pathlib.Path, name: str, text: str, marker: str | None = "") -> None:
    (folder / name).write_text(text, encoding="utf-8")
    if marker is not None:
        (folder / (marker or name.rsplit(".", 1)[0] + ".fin")).write_text("", encoding="utf-8")


def listing(folder: pathlib.Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}


def test_only_lowercase_txt_files_with_their_marker_are_ready_in_alphanumeric_order(tmp_path):
    put(tmp_path, "b-2.txt", "x")
    put(tmp_path, "a-10.txt", "x")
    put(tmp_path, "a-2.txt", "x")
    put(tmp_path, "waiting.txt", "x", marker=None)
    put(tmp_path, "LOUD.TXT", "x", marker="LOUD.FIN")
    put(tmp_path, "mixed.txt", "x", marker="mixed.FIN")
    (tmp_path / "orphan.fin").write_text("")

    assert [p.name for p in ready(tmp_path)] == ["a-10.txt", "a-2.txt", "b-2.txt"]


async def test_each_ready_file_is_uploaded_and_filed_with_its_outcome(store, tmp_path, drop, served, monkeypatch, capsys):
    put(tmp_path, "b.txt", data("spring"))
    put(tmp_path, "a.txt", data("summer"))
    put(tmp_path, "broken.txt", "Date\teVar1\tEvent 1\n")
    put(tmp_path, "waiting.txt", data("autumn"), marker=None)
    opened = []
    real_open = pathlib.Path.open

    def spied_open(self, *args, **kwargs):
        opened.append(self.name)
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(pathlib.Path, "open", spied_open)

    status = await run(drop, once=True, interval=0, transport=served)

    assert status == EXIT_FAILED  # one file failed
    assert "waiting.txt" not in opened  # never read without its marker
    assert listing(tmp_path) == {
        "waiting.txt",
        "done/a.txt", "done/a.fin", "done/a.result.json",
        "done/b.txt", "done/b.fin", "done/b.result.json",
        "failed/broken.txt", "failed/broken.fin", "failed/broken.result.json",
    }  # fmt: skip
    result = json.loads((tmp_path / "done/a.result.json").read_text())
    assert (result["file"], result["job"]["status"], result["job"]["rowCount"], result["problems"]) == ("a.txt", "SUCCESS", 1, [])
    failed = json.loads((tmp_path / "failed/broken.result.json").read_text())
    assert failed["job"]["status"] == "FAILED" and failed["problems"][0]["code"] == "UNKNOWN_HEADER"
    jobs = sorted(await store.find_many(collections.JOBS, {}), key=lambda j: j["_id"])
    assert [j["name"] for j in jobs] == ["a.txt", "b.txt", "broken.txt"]  # in alphanumeric order
    assert capsys.readouterr().out.splitlines() == [
        "a.txt: SUCCESS, 1 rows, 0 problems -> done/",
        "b.txt: SUCCESS, 1 rows, 0 problems -> done/",
        "broken.txt: FAILED, 0 rows, 1 problems -> failed/",
    ]


async def test_a_duplicate_is_filed_as_failed_naming_the_earlier_job(store, tmp_path, drop, served):
    put(tmp_path, "monday.txt", data("spring"))
    await take_all(drop, served)
    put(tmp_path, "monday-again.txt", data("spring"))

    taken, error = await take_all(drop, served)

    assert error is None and [o.succeeded for _, o in taken] == [False]
    note = json.loads((tmp_path / "failed/monday-again.result.json").read_text())
    assert note["userErrors"][0]["code"] == "DUPLICATE_UPLOAD" and note["job"]["name"] == "monday.txt"


async def test_a_watcher_that_stopped_before_filing_finds_the_same_job_when_it_starts_again(store, tmp_path, drop, served, monkeypatch):
    put(tmp_path, "a.txt", data("spring"))
    real_file = drop_folder._file

    def stops(*args):
        raise KeyboardInterrupt  # Ctrl-C, after the upload and before the move

    monkeypatch.setattr(drop_folder, "_file", stops)
    with pytest.raises(KeyboardInterrupt):
        await take_all(drop, served)
    assert listing(tmp_path) == {"a.txt", "a.fin"}
    monkeypatch.setattr(drop_folder, "_file", real_file)

    assert await run(drop, once=True, interval=0, transport=served) == EXIT_SUCCESS

    assert len(await store.find_many(collections.JOBS, {})) == 1
    assert len(await store.find_many(collections.ROWS, {})) == 1
    assert "done/a.txt" in listing(tmp_path)


async def test_a_server_that_does_not_answer_leaves_the_files_for_next_time(tmp_path, drop, monkeypatch, capsys):
    monkeypatch.setattr("graph.remote.RETRY_SECONDS", 0.0)
    put(tmp_path, "a.txt", data("spring"))

    class Down(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request):
            raise httpx.ConnectError("connection refused", request=request)

    status = await run(drop, once=True, interval=0, transport=Down())

    assert status == EXIT_ERROR
    assert listing(tmp_path) == {"a.txt", "a.fin"}
    assert "cannot reach http://api.example/graphql" in capsys.readouterr().err


async def test_a_file_whose_server_died_with_its_upload_is_sent_again_and_filed_once(
    store, tmp_path, drop, served, company, source, today, monkeypatch
):
    monkeypatch.setattr("graph.remote.RETRY_SECONDS", 0.0)
    put(tmp_path, "a.txt", data("spring"))
    key = drop_folder.drop_key(tmp_path / "a.txt")
    network = ServerDiesWithTheFirstUpload(served, store, company.uploader, GlobalID.from_id(source).node_id, key, today)

    taken, stopped = await take_all(drop, network)

    assert stopped is None and [outcome.job["status"] for _, outcome in taken] == ["SUCCESS"]
    assert network.uploads == 3 and "done/a.txt" in listing(tmp_path)
    (job,) = await store.find_many(collections.JOBS, {})
    assert job["name"] == "a.txt" and len(await store.find_many(collections.ROWS, {})) == 1
