"""`offline-graph watch DIR --data-source ID`: a drop folder, as the hosted suites offer FTP.

One folder per data source (a data source's id is a global id, which may hold '/', so it
cannot name a folder). Each `NAME.txt` is taken once its `NAME.fin` marker is there (empty,
written after the data: the marker says the file is complete); a file without its marker
is never read. Extensions are lowercase only (`.TXT` is left alone), and waiting files go
in alphanumeric order of their names, as the worker processes them. Each is uploaded and
its job followed to its end; then both files move to `done/` (SUCCESS) or `failed/`
(FAILED, or refused: a duplicate, a locked data source, ...), with `NAME.result.json`
beside them saying what became of it. A file already in `done/` or `failed/` under the
same name is replaced.

The idempotency key of an upload is made of the file's name and content, so a watcher
that stopped after uploading a file but before moving it (a crash, Ctrl-C) finds the
same job when it starts again: nothing is stored twice.
"""

import asyncio
import hashlib
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import httpx

from graph.remote import Outcome, RemoteApi, RemoteError
from graph.uploading import EXIT_ERROR, EXIT_FAILED, EXIT_SUCCESS

DONE, FAILED = "done", "failed"
DATA, MARKER = ".txt", ".fin"
READ_BYTES = 1024 * 1024


@dataclass(frozen=True)
class DropFolder:
    folder: Path
    data_source_id: str
    endpoint: str
    api_key: str
    poll_seconds: float = 1.0


def ready(folder: Path) -> list[Path]:
    """The data files whose marker is there, in alphanumeric order of their names."""
    names = {entry.name for entry in folder.iterdir() if entry.is_file()}
    stems = [name[: -len(DATA)] for name in names if name.endswith(DATA) and len(name) > len(DATA)]
    return [folder / f"{stem}{DATA}" for stem in sorted(stems) if f"{stem}{MARKER}" in names]


def drop_key(path: Path) -> str:
    """The upload's idempotency key: the same file under the same name is the same upload."""
    digest = hashlib.sha256(path.name.encode() + b"\0")
    with path.open("rb") as file:
        while piece := file.read(READ_BYTES):
            digest.update(piece)
    return f"drop-{digest.hexdigest()}"


async def take_all(drop: DropFolder, transport: httpx.AsyncBaseTransport | None = None) -> tuple[list[tuple[Path, Outcome]], str | None]:
    """Upload every file that is ready, one after another, and file each under its outcome.
    Returns those taken and, if the server stopped answering, why (the rest wait for next time)."""
    taken: list[tuple[Path, Outcome]] = []
    async with RemoteApi(drop.endpoint, drop.api_key, transport) as api:
        for data in ready(drop.folder):
            try:
                outcome = await _take(api, drop, data)
            except RemoteError as error:
                return taken, str(error)
            _file(drop.folder, data, outcome)
            taken.append((data, outcome))
    return taken, None


async def _take(api: RemoteApi, drop: DropFolder, data: Path) -> Outcome:
    async def send() -> Outcome:
        return await api.upload(data, drop.data_source_id, lambda _: None, drop_key(data))

    outcome = await send()
    if outcome.job is None or outcome.user_errors:
        return outcome
    return await api.follow(outcome.job, lambda _: None, drop.poll_seconds, resend=send)


def _file(folder: Path, data: Path, outcome: Outcome) -> None:
    """Move the file and its marker beside a note of the outcome: the data first, so that a
    stop in between leaves a marker without data, which is never taken."""
    place = folder / (DONE if outcome.succeeded else FAILED)
    place.mkdir(exist_ok=True)
    stem = data.name[: -len(DATA)]
    note = {"file": data.name, **outcome.to_json()}
    (place / f"{stem}.result.json").write_text(json.dumps(note, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(data, place / data.name)
    os.replace(folder / f"{stem}{MARKER}", place / f"{stem}{MARKER}")


async def run(drop: DropFolder, once: bool, interval: float, transport: httpx.AsyncBaseTransport | None = None) -> int:
    """Take what is ready, then (unless `once`) look again every `interval` seconds until
    stopped. With `once`, the exit status says how the files went."""
    if not drop.folder.is_dir():
        print(f"error: {drop.folder} is no folder.", file=sys.stderr)
        return EXIT_ERROR
    while True:
        taken, error = await take_all(drop, transport)
        for data, outcome in taken:
            print(_line(data, outcome), flush=True)
        if error is not None:  # the files not taken stay where they are, for next time
            print(f"error: {error}", file=sys.stderr, flush=True)
        if once:
            if error is not None:
                return EXIT_ERROR
            return EXIT_SUCCESS if all(outcome.succeeded for _, outcome in taken) else EXIT_FAILED
        await asyncio.sleep(interval)


def _line(data: Path, outcome: Outcome) -> str:
    place = DONE if outcome.succeeded else FAILED
    if outcome.user_errors:
        return f"{data.name}: refused {outcome.user_errors[0]['code']} -> {place}/"
    job = outcome.job or {}
    return f"{data.name}: {job.get('status')}, {job.get('rowCount', 0):,} rows, {len(outcome.problems)} problems -> {place}/"
