"""Scenario tests: the command line against a real server (`offline-graph serve --demo`
started on a free port, the `upload` and `watch` commands run as a user runs them, over
TCP): nothing but HTTP between them, as with a server on another machine."""

import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest

KEY = re.compile(r"Bearer (odg_[A-Za-z0-9_-]+)")
SOURCES = '{ reportSuite(rsid: "demo.site") { dataSources { edges { node { id type } } } } }'
START_SECONDS = 60


def _command() -> str:
    found = shutil.which("offline-graph", path=os.path.dirname(sys.executable)) or shutil.which("offline-graph")
    if found is None:
        pytest.fail("the offline-graph command is not installed: pip install -e '.[test]'")
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    """A demo server in a process of its own: its GraphQL URL and the ADMIN key it printed."""
    port = _free_port()
    process = subprocess.Popen(
        [_command(), "serve", "--demo", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    found: list[str] = []

    def read_key() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            if match := KEY.search(line):
                found.append(match.group(1))
                return

    reader = threading.Thread(target=read_key, daemon=True)
    reader.start()
    reader.join(START_SECONDS)
    try:
        if not found:
            pytest.fail("the demo server printed no key")
        _wait_until_serving(port)
        yield f"http://127.0.0.1:{port}/graphql", found[0]
    finally:
        process.terminate()
        process.wait(timeout=20)
        assert process.stdout is not None
        process.stdout.close()


def _wait_until_serving(port: int) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    pytest.fail("the demo server did not answer /healthz")


@pytest.fixture(scope="module")
def transaction_source(server) -> str:
    url, key = server
    answer = httpx.post(url, json={"query": SOURCES}, headers={"Authorization": f"Bearer {key}"}).json()
    return next(
        e["node"]["id"] for e in answer["data"]["reportSuite"]["dataSources"]["edges"] if e["node"]["type"] == "GENERIC_TRANSACTION_ID"
    )


def yesterday(hour: int) -> str:
    """A date the server takes (its clock is the real one), yesterday in the demo's time zone."""
    day = datetime.now(ZoneInfo("America/New_York")) - timedelta(days=1)
    return day.replace(hour=hour, minute=0, second=0).strftime("%m/%d/%Y/%H/%M/%S")


def deals(*rows: str) -> str:
    return "Date\tEvar 3\tEvent 5\tPrice\ttransactionID\n" + "".join(rows)


def offline_graph(*args: str, key: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "ODG_API_KEY": key}
    return subprocess.run([_command(), *args], capture_output=True, text=True, env=env, timeout=120, check=False)


def test_upload_sends_a_file_follows_its_job_and_prints_what_became_of_each_row(server, transaction_source, tmp_path):
    url, key = server
    path = tmp_path / "deals.txt"
    path.write_text(deals(f"{yesterday(15)}\tclosed-won\t1\t450\tlead_100\n", f"{yesterday(16)}\tclosed-won\t1\tx\tlead_100\n"))

    done = offline_graph("upload", str(path), "--data-source", transaction_source, "--endpoint", url, "--poll", "0.2", key=key)

    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("job deals.txt: SUCCESS")
    assert lines[1] == "rows 2: linked by transaction 1, linked by visitor 0, summary 0, skipped 1"
    assert lines[3].startswith("  line 3, column 4: ERROR INVALID_NUMBER")
    assert "sending deals.txt" in done.stderr  # the progress bars go to standard error

    again = offline_graph("upload", str(path), "--data-source", transaction_source, "--endpoint", url, key=key)
    assert again.returncode == 1 and "DUPLICATE_UPLOAD" in again.stdout


def test_a_dry_run_with_problems_exits_non_zero_and_stores_nothing(server, transaction_source, tmp_path):
    url, key = server
    path = tmp_path / "check.txt"
    path.write_text(deals(f"{yesterday(15)}\tclosed;won\t1\t450\tlead_100\n"))

    checked = offline_graph("upload", str(path), "--dry-run", "--data-source", transaction_source, "--endpoint", url, key=key)

    assert checked.returncode == 1
    assert checked.stdout.splitlines()[0] == "dry run of check.txt: nothing was stored"
    assert "line 2, column 2: WARNING SEMICOLON" in checked.stdout
    stored = offline_graph("upload", str(path), "--data-source", transaction_source, "--endpoint", url, key=key)
    assert "DUPLICATE_UPLOAD" not in stored.stdout  # the dry run stored nothing, not even the content


def test_watch_once_takes_the_files_with_markers_and_files_them(server, transaction_source, tmp_path):
    url, key = server
    (tmp_path / "a.txt").write_text(deals(f"{yesterday(17)}\tclosed-won\t1\t90\tlead_100\n"))
    (tmp_path / "a.fin").write_text("")
    (tmp_path / "b.txt").write_text(deals(f"{yesterday(18)}\tclosed-won\t1\t91\tlead_100\n"))

    watched = offline_graph(
        "watch", str(tmp_path), "--once", "--data-source", transaction_source, "--endpoint", url, "--poll", "0.2", key=key
    )

    assert watched.returncode == 0, watched.stderr
    assert watched.stdout.splitlines() == ["a.txt: SUCCESS, 1 rows, 0 problems -> done/"]
    assert sorted(p.name for p in (tmp_path / "done").iterdir()) == ["a.fin", "a.result.json", "a.txt"]
    assert (tmp_path / "b.txt").exists()  # no marker: left alone


def test_upload_without_a_key_says_how_to_give_one(server, tmp_path):
    url, _ = server
    path = tmp_path / "x.txt"
    path.write_text("Date\n")

    refused = offline_graph("upload", str(path), "--data-source", "x", "--endpoint", url, key="")

    assert refused.returncode == 2
    assert "--api-key or ODG_API_KEY" in refused.stderr
