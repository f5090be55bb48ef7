"""Unexpected errors in the server log: a correlation id the client is given too, and the
traceback, scrubbed.

The client gets "Unexpected error." with code INTERNAL_SERVER_ERROR and the correlation
id; the log gets the same id, the exception's type and every frame (file, line and
function) of it and of the exceptions it came from. It gets no exception message, no
local variable and no line of code (a line can hold a literal, as a test's does): any of
them may hold an API key, a row of an upload or a connection string.
"""

import logging
import secrets
import traceback

from graphql import GraphQLError

INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"
CORRELATION_ID = "correlationId"
UNEXPECTED_MESSAGE = "Unexpected error."
log = logging.getLogger("offline_graph")


def new_correlation_id() -> str:
    return secrets.token_hex(8)


def scrubbed_traceback(error: BaseException) -> str:
    """The traceback as Python prints it, oldest cause first, with each exception's type in
    place of its message, and frames without their code or locals."""
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
    parts = []
    for exception in reversed(chain):
        frames = traceback.extract_tb(exception.__traceback__)  # keeps no locals unless asked
        lines = "".join(f'  File "{f.filename}", line {f.lineno}, in {f.name}\n' for f in frames)
        kind = type(exception)
        parts.append(f"Traceback (most recent call last):\n{lines}{kind.__module__}.{kind.__qualname__}\n")
    return "The above exception was the cause of the one below (messages left out).\n".join(parts)


def log_exception(error: BaseException, where: str, correlation_id: str) -> None:
    log.error("unexpected %s in %s [correlationId=%s]\n%s", type(error).__name__, where, correlation_id, scrubbed_traceback(error).rstrip())


def correlate(error: GraphQLError) -> str:
    """The correlation id of an unexpected error, logging it the first time it is asked."""
    extensions = error.extensions or {}
    known = extensions.get(CORRELATION_ID)
    if isinstance(known, str):
        return known
    correlation_id = new_correlation_id()
    error.extensions = {**extensions, CORRELATION_ID: correlation_id}  # kept on the original error only: it is masked
    where = ".".join(str(p) for p in error.path or []) or "the request"
    log_exception(error.original_error or error, where, correlation_id)
    return correlation_id
