"""`offline-graph upload`: a file sent to a server (on this machine or another) with a
progress bar while it is sent and while its job runs, then what became of every row.

Exit status: 0 when the job succeeded (or a dry run found no problem), 1 when it failed,
was refused (DUPLICATE_UPLOAD, a locked data source, ...) or a dry run found problems, 2
when the upload could not be made (no key, no file, a server that does not answer).
"""

import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import httpx
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TransferSpeedColumn,
)

from graph.remote import Outcome, RemoteApi, RemoteError

EXIT_SUCCESS, EXIT_FAILED, EXIT_ERROR = 0, 1, 2


@dataclass(frozen=True)
class Upload:
    path: Path
    data_source_id: str
    endpoint: str
    api_key: str
    dry_run: bool = False
    idempotency_key: str | None = None
    allow_duplicate: bool = False
    poll_seconds: float = 1.0


async def run(upload: Upload, transport: httpx.AsyncBaseTransport | None = None, out: TextIO | None = None) -> int:
    """Send the file, follow its job, print the outcome; returns the exit status."""
    out = out or sys.stdout
    if not upload.path.is_file():
        print(f"error: {upload.path} is no file.", file=sys.stderr)
        return EXIT_ERROR
    bars = Console(stderr=True)
    key = upload.idempotency_key or f"cli-{uuid.uuid4()}"  # one key for every sending of this upload
    try:
        async with RemoteApi(upload.endpoint, upload.api_key, transport) as api:
            outcome = await _send(api, upload, key, bars)
            if outcome.job is not None and not outcome.user_errors:
                outcome = await _follow(api, upload, key, outcome.job, bars)
    except RemoteError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_ERROR
    report(outcome, upload.path.name, out)
    return EXIT_SUCCESS if outcome.succeeded else EXIT_FAILED


async def _send(api: RemoteApi, upload: Upload, key: str, console: Console) -> Outcome:
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn())
    with Progress(*columns, console=console) as bars:
        task = bars.add_task(f"sending {upload.path.name}", total=upload.path.stat().st_size)

        def sent(position: int) -> None:
            bars.update(task, completed=position)

        if upload.dry_run:
            return await api.validate(upload.path, upload.data_source_id, sent)
        return await api.upload(upload.path, upload.data_source_id, sent, key, upload.allow_duplicate)


async def _follow(api: RemoteApi, upload: Upload, key: str, job: dict[str, Any], console: Console) -> Outcome:
    columns = (TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), TextColumn("{task.fields[lines]:,} lines"))

    async def resend() -> Outcome:
        console.print(
            f"the server that received an earlier sending of {upload.path.name} stopped before it had all of it; sending it again"
        )
        return await _send(api, upload, key, console)

    with Progress(*columns, TimeElapsedColumn(), console=console) as bars:
        task = bars.add_task(_describe(job), total=1.0, lines=job["linesDone"])

        def seen(now: dict[str, Any]) -> None:
            bars.update(task, completed=now["progress"], description=_describe(now), lines=now["linesDone"])

        seen(job)
        return await api.follow(job, seen, upload.poll_seconds, resend)


def _describe(job: dict[str, Any]) -> str:
    return f"job {job['name']}: {job['status']}"


def report(outcome: Outcome, file_name: str, out: TextIO) -> None:
    """The outcome in lines a person reads and a script greps."""
    say: Callable[[str], None] = lambda text: print(text, file=out)  # noqa: E731 - one line, said many times
    for error in outcome.user_errors:
        where = f" ({error['field']})" if error.get("field") else ""
        say(f"refused{where}: {error['code']}: {error['message']}")
    if outcome.dry_run is not None:
        counts = outcome.dry_run
        say(f"dry run of {file_name}: nothing was stored" + ("; the file fails as a whole" if counts["fileFailed"] else ""))
    elif outcome.job is not None:
        counts = outcome.job
        label = "earlier job" if outcome.user_errors else "job"
        say(f"{label} {counts['name']}: {counts['status']} (id {counts['id']})")
    else:
        return
    if outcome.user_errors and outcome.dry_run is None:
        return
    say(
        f"rows {counts['rowCount']:,}: linked by transaction {counts['linkedByTransaction']:,}, "
        f"linked by visitor {counts['linkedByVisitor']:,}, summary {counts['summaryRows']:,}, skipped {counts['skippedRows']:,}"
    )
    say(f"errors {counts['errorCount']:,}, warnings {counts['warningCount']:,}")
    for problem in outcome.problems:
        column = f", column {problem['column']}" if problem["column"] is not None else ""
        say(f"  line {problem['line']}{column}: {problem['severity']} {problem['code']}: {problem['message']}")
