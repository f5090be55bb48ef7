"""A running server for the benchmarks: `python bench/benchlib/server.py --port P [--uri U --database D]`.

It seeds a company and a report suite with Transaction ID recording on, prints one JSON
line with an UPLOADER key, an ADMIN key and the rsid, then serves /graphql and /healthz
with uvicorn until it is stopped. `Server` starts it in a subprocess and stops it.
"""

import argparse
import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import uvicorn

from graph.app import create_app
from models.companies import Role
from models.store import Store
from resolvers import api_keys, report_suites

RSID = "bench"


@contextlib.contextmanager
def running(uri: str | None, database: str) -> Iterator[dict]:
    """A server subprocess on a free port; yields {'url', 'uploader', 'admin', 'rsid', 'pid'}."""
    port = free_port()
    command = [sys.executable, os.path.abspath(__file__), "--port", str(port), "--database", database]
    if uri:
        command += ["--uri", uri]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = process.stdout.readline() if process.stdout else ""
        if not line:
            raise RuntimeError("the benchmark server exited at start-up")
        seeded = json.loads(line)
        url = f"http://127.0.0.1:{port}"
        _wait_healthy(url, process)
        yield {**seeded, "url": url, "pid": process.pid}
    finally:
        process.terminate()
        process.wait(timeout=20)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_healthy(url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the benchmark server exited at start-up")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError("the benchmark server did not answer /healthz in 30 s")


async def seed(store: Store) -> dict:
    company, admin_key = await api_keys.create_company(store, "Bench")
    admin = await api_keys.authenticate(store, f"Bearer {admin_key}")
    uploader_key = await api_keys.create_api_key(store, company["_id"], Role.UPLOADER)
    await report_suites.create(store, admin, RSID, "Bench")
    await report_suites.set_recording(store, admin, RSID, True)
    return {"uploader": uploader_key, "admin": admin_key, "rsid": RSID}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--uri")
    parser.add_argument("--database", default="offline_graph")
    args = parser.parse_args()
    store = Store.connect(args.uri, database=args.database)

    async def on_startup() -> None:
        print(json.dumps(await seed(store)), flush=True)

    config = uvicorn.Config(create_app(store, on_startup=on_startup), host="127.0.0.1", port=args.port, log_level="warning")
    asyncio.run(uvicorn.Server(config).serve())


if __name__ == "__main__":
    main()
