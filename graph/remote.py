"""The API as a script on another machine uses it: upload a file, follow its job, say what
became of it. Only HTTP: `offline-graph upload` and `watch` need no store of their own.

A file goes as the GraphQL multipart request (with the preflight header the server asks
of form posts), read from disk as it is sent, never whole in memory. An upload carries an
idempotency key, so that sending it again after a dropped connection stores it once; the
job is then followed by polling `node(id:)` until it has ended. A sending the server died
with answers RECEIVING until a worker removes it (models/jobs.py, RECEIVE_TIMEOUT); the
file is then sent again under the same key, which is free by then.
"""

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, cast

import httpx

from models.jobs import FINISHED, JobStatus

DEFAULT_ENDPOINT = "http://127.0.0.1:8000/graphql"
ENDPOINT_VARIABLE = "ODG_ENDPOINT"
API_KEY_VARIABLE = "ODG_API_KEY"
SEND_ATTEMPTS = 4  # an upload whose connection dropped is sent again, with the same key
RETRY_SECONDS = 1.0  # doubled after each attempt
PROBLEMS_PAGE = 100

JOB_FIELDS = """
  id name status progress linesDone rowCount linkedByTransaction linkedByVisitor summaryRows lateLinkedRows
  skippedRows errorCount warningCount
"""
UPLOAD = f"""
mutation($input: UploadDataSourceFileInput!) {{
  uploadDataSourceFile(input: $input) {{ job {{ {JOB_FIELDS} }} userErrors {{ field code message }} }}
}}"""
VALIDATE = """
mutation($input: ValidateDataSourceFileInput!) {
  validateDataSourceFile(input: $input) {
    rowCount linkedByTransaction linkedByVisitor summaryRows skippedRows errorCount warningCount fileFailed
    problems { line column code message severity }
    userErrors { field code message }
  }
}"""
JOB = f"query($id: ID!) {{ node(id: $id) {{ ... on Job {{ {JOB_FIELDS} }} }} }}"
PROBLEMS = """
query($id: ID!, $first: Int!, $after: String) {
  node(id: $id) {
    ... on Job {
      problems(first: $first, after: $after) {
        edges { node { line column code message severity } }
        pageInfo { hasNextPage endCursor }
      }
    }
  }
}"""


class RemoteError(Exception):
    """The server could not be reached, or refused the request as a whole (a bad key, a
    role too weak, a body too large): the message says which."""


@dataclass
class Outcome:
    """What became of one upload (or of a dry run): the job as it ended, or the counts a
    dry run found; its problems; and the userErrors that refused it."""

    job: dict[str, Any] | None = None
    problems: list[dict[str, Any]] = field(default_factory=list)
    user_errors: list[dict[str, Any]] = field(default_factory=list)
    dry_run: dict[str, Any] | None = None

    @property
    def succeeded(self) -> bool:
        if self.user_errors:
            return False
        if self.dry_run is not None:
            return not self.dry_run["fileFailed"] and not self.problems
        return self.job is not None and self.job["status"] == JobStatus.SUCCESS.value

    def to_json(self) -> dict[str, Any]:
        return {"job": self.job, "dryRun": self.dry_run, "problems": self.problems, "userErrors": self.user_errors}


def endpoint_url(endpoint: str) -> str:
    """The GraphQL URL: the endpoint as given, or its /graphql when only the server is named."""
    parsed = httpx.URL(endpoint)
    if parsed.path in ("", "/"):
        return str(parsed.copy_with(path="/graphql"))
    return endpoint


class _Counted:
    """A file as httpx reads it for the form, telling `sent` how far it has been read."""

    def __init__(self, file: BinaryIO, sent: Callable[[int], None]) -> None:
        self.file, self.sent = file, sent

    def read(self, size: int = -1) -> bytes:
        data = self.file.read(size)
        self.sent(self.file.tell())
        return data

    def fileno(self) -> int:  # httpx learns the length from it, for Content-Length
        return self.file.fileno()

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.file.seek(offset, whence)

    def tell(self) -> int:
        return self.file.tell()


class RemoteApi:
    """One server's API with one key. `transport` replaces the network (tests pass the app's)."""

    def __init__(self, endpoint: str, api_key: str, transport: httpx.AsyncBaseTransport | None = None, timeout: float = 300.0) -> None:
        self.url = endpoint_url(endpoint)
        self.client = httpx.AsyncClient(
            transport=transport, headers={"Authorization": f"Bearer {api_key}"}, timeout=httpx.Timeout(timeout, connect=10.0)
        )

    async def __aenter__(self) -> "RemoteApi":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.client.aclose()

    async def upload(
        self,
        path: Path,
        data_source_id: str,
        sent: Callable[[int], None],
        idempotency_key: str,
        allow_duplicate: bool = False,
    ) -> Outcome:
        """Send the file as a new job; a dropped connection is retried with the same key.
        `sent` is told how many bytes of the file went so far."""
        variables = {
            "input": {"dataSourceId": data_source_id, "file": None, "idempotencyKey": idempotency_key, "allowDuplicate": allow_duplicate}
        }
        wait = RETRY_SECONDS
        for attempt in range(1, SEND_ATTEMPTS + 1):
            try:
                data = await self._send_file(UPLOAD, variables, path, sent)
                break
            except RemoteError as error:
                if attempt == SEND_ATTEMPTS or not isinstance(error.__cause__, httpx.TransportError):
                    raise
                await asyncio.sleep(wait)
                wait *= 2
        payload = data["uploadDataSourceFile"]
        return Outcome(job=payload["job"], user_errors=payload["userErrors"])

    async def validate(self, path: Path, data_source_id: str, sent: Callable[[int], None]) -> Outcome:
        """A dry run: every problem and the counts the job would have; nothing is stored."""
        data = await self._send_file(VALIDATE, {"input": {"dataSourceId": data_source_id, "file": None}}, path, sent)
        payload = data["validateDataSourceFile"]
        problems = payload.pop("problems")
        return Outcome(dry_run=payload, problems=problems, user_errors=payload.pop("userErrors"))

    async def follow(
        self,
        job: dict[str, Any],
        seen: Callable[[dict[str, Any]], None],
        poll_seconds: float = 1.0,
        resend: Callable[[], Awaitable[Outcome]] | None = None,
    ) -> Outcome:
        """Poll the job until it has ended; then its problems, all of them. A job that was
        RECEIVING and is gone was a sending whose server died: with `resend`, the file is
        sent again, and the new job followed."""
        resends = 0
        while job["status"] not in {s.value for s in FINISHED}:
            await asyncio.sleep(poll_seconds)
            current = await self._job_or_none(job["id"])
            if current is None and job["status"] == JobStatus.RECEIVING.value and resend is not None and resends < SEND_ATTEMPTS:
                resends += 1
                again = await resend()
                if again.job is None or again.user_errors:
                    return again
                current = again.job
            if current is None:
                raise RemoteError(f"job {job['id']} is gone (a duplicate upload vanishes) or is not yours.")
            job = current
            seen(job)
        return Outcome(job=job, problems=await self.problems(job["id"]))

    async def _job_or_none(self, job_id: str) -> dict[str, Any] | None:
        node: dict[str, Any] | None = (await self.query(JOB, id=job_id))["node"]
        return node

    async def problems(self, job_id: str) -> list[dict[str, Any]]:
        found, after = [], None
        while True:
            page = (await self.query(PROBLEMS, id=job_id, first=PROBLEMS_PAGE, after=after))["node"]["problems"]
            found += [edge["node"] for edge in page["edges"]]
            if not page["pageInfo"]["hasNextPage"]:
                return found
            after = page["pageInfo"]["endCursor"]

    async def query(self, query: str, **variables: Any) -> dict[str, Any]:
        return await self._answer(lambda: self.client.post(self.url, json={"query": query, "variables": variables}))

    async def _send_file(self, query: str, variables: dict[str, Any], path: Path, sent: Callable[[int], None]) -> dict[str, Any]:
        operations = json.dumps({"query": query, "variables": variables})
        form = {"operations": operations, "map": json.dumps({"0": ["variables.input.file"]})}
        with path.open("rb") as file:
            counted = cast(BinaryIO, _Counted(file, sent))  # read as a file is: read, seek, tell, fileno
            files = {"0": (path.name, counted, "text/plain")}
            # A form post must carry a header only a script sends after a CORS preflight.
            headers = {"apollo-require-preflight": "true"}
            return await self._answer(lambda: self.client.post(self.url, data=form, files=files, headers=headers))

    async def _answer(self, send: Callable[[], Any]) -> dict[str, Any]:
        """The `data` of a GraphQL answer, or a RemoteError with what the server said."""
        try:
            response = await send()
        except httpx.TransportError as error:
            raise RemoteError(f"cannot reach {self.url} ({type(error).__name__}).") from error
        if response.status_code == 413:
            raise RemoteError("the file is larger than the server takes (50 MB a job).")
        try:
            body = response.json()
        except ValueError:
            raise RemoteError(f"{self.url} answered HTTP {response.status_code}, not GraphQL; is it an offline-graph server?") from None
        errors = body.get("errors") if isinstance(body, dict) else None
        if errors:
            first = errors[0]
            code = (first.get("extensions") or {}).get("code", f"HTTP {response.status_code}")
            raise RemoteError(f"{code}: {first.get('message')}")
        return dict(body["data"])
