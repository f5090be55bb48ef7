"""Reading an HTTP request as GraphQL: its size, its CSRF guard, its JSON, and the coded
400 that answers any request the server cannot read.

Uploads come as multipart forms (the GraphQL multipart request spec), which a page on any
site could post with a visitor's cookies or stored key: a form, `text/plain` or
urlencoded POST must carry a header that only a script can set after a CORS preflight
(`apollo-require-preflight` or `x-apollo-operation-name`), as Apollo's servers require.
"""

import json
import re
from collections.abc import Mapping

from cross_web import HTTPException
from starlette.datastructures import Headers
from starlette.middleware.body_limit import RequestBodyLimitMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from models.jobs import MAX_JOB_BYTES

MAX_BODY_BYTES = 10 * 1024 * 1024
# A 50 MB file and the form around it (its operations, map and part headers).
MAX_UPLOAD_BODY_BYTES = MAX_JOB_BYTES + 1024 * 1024
PREFLIGHT_HEADERS = ("apollo-require-preflight", "x-apollo-operation-name")
SIMPLE_CONTENT_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded", "text/plain")
_SURROGATE = re.compile("[\ud800-\udfff]")
_ESCAPED_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")


class RequestError(HTTPException):
    """A request the server cannot read as GraphQL: answered with a 400 and a code."""

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(400, message)
        self.code, self.field = code, field


class BodyLimits:
    """At most 10 MB a request, or 50 MB and its form for a multipart upload, counted while
    the body streams in (413 past it): an upload is never read whole before it is refused."""

    def __init__(self, app: ASGIApp) -> None:
        self.json = RequestBodyLimitMiddleware(app, MAX_BODY_BYTES)
        self.upload = RequestBodyLimitMiddleware(app, MAX_UPLOAD_BODY_BYTES)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        content_type = Headers(scope=scope).get("content-type", "")
        limited = self.upload if content_type.startswith("multipart/form-data") else self.json
        await limited(scope, receive, send)


def check_preflight(method: str, headers: Mapping[str, str]) -> None:
    """Refuse a POST that a page on another site could send without a CORS preflight."""
    content_type = headers.get("content-type", "").split(";")[0].strip().lower()
    if method != "POST" or content_type not in SIMPLE_CONTENT_TYPES:
        return
    if any(headers.get(name) for name in PREFLIGHT_HEADERS):
        return
    message = (
        f"A {content_type} POST must carry the header 'apollo-require-preflight: true' "
        "(or 'x-apollo-operation-name'), so that no page on another site can send it."
    )
    raise RequestError("CSRF_PREFLIGHT_REQUIRED", message)


def decode_json(data: str | bytes) -> object:
    """The body (or a GET's `variables`): a UTF-8 JSON object of text, or a RequestError."""
    text = _utf8(data)
    try:
        value = json.loads(text, parse_constant=_no_constant)
    except RecursionError:
        raise RequestError("TOO_DEEP", "The JSON nests too deeply to read; no input nests more than a few levels.") from None
    except json.JSONDecodeError as error:
        raise RequestError("INVALID_JSON", f"This is not JSON: {error.msg} at line {error.lineno}, column {error.colno}.") from None
    except ValueError:  # an integer of more digits than Python reads
        raise RequestError("INVALID_JSON", "The JSON holds a number too long to read.") from None
    if not isinstance(value, dict):
        message = f'The JSON must be an object, such as {{"query": "{{ viewer {{ role }} }}"}}, not {_kind(value)}.'
        raise RequestError("INVALID_BODY", message)
    # Only a \ud800-\udfff escape makes a surrogate (UTF-8 cannot encode one): look closer only then.
    where = _lone_surrogate(value) if _ESCAPED_SURROGATE.search(text) else None
    if where is not None:
        message = f"{where} holds a lone surrogate (half of a UTF-16 pair), which is not text; send valid Unicode."
        raise RequestError("INVALID_TEXT", message, where)
    return value


def _utf8(data: str | bytes) -> str:
    if isinstance(data, str):
        return data
    try:
        return data.decode("utf-8-sig")  # a leading byte-order mark is harmless
    except UnicodeDecodeError as error:
        raise RequestError("INVALID_ENCODING", f"The body is not UTF-8 text: byte {error.start} is not valid UTF-8.") from None


def _no_constant(name: str):
    raise RequestError("INVALID_JSON", f"This is not JSON: {name} is no JSON value.")


def _kind(value) -> str:
    names = {list: "a list (batches are not accepted)", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number")


def _lone_surrogate(value: dict) -> str | None:
    """The path (`variables.input.rsid`) of the first string or key holding a lone surrogate.

    Iterative: the JSON may nest as deep as the decoder allows. A correct pair of escapes
    is decoded into one character and is no surrogate.
    """
    pending: list[tuple[str, object]] = [("", value)]
    while pending:
        where, item = pending.pop()
        if isinstance(item, str) and _SURROGATE.search(item):
            return where
        if isinstance(item, dict):
            for key, inner in item.items():
                inner_path = f"{where}.{key}" if where else key
                if _SURROGATE.search(key):
                    return inner_path
                pending.append((inner_path, inner))
        elif isinstance(item, list):
            pending.extend((f"{where}.{index}", inner) for index, inner in enumerate(item))
    return None


def refusal(error: HTTPException) -> Response:
    """A request refused before GraphQL ran: Strawberry's own refusals (a mutation over GET,
    an unknown operation name, ...) keep their message under a generic code."""
    code = getattr(error, "code", "BAD_REQUEST")
    return errors_response(error.status_code, error.reason, code, getattr(error, "field", None))


def errors_response(status: int, message: str, code: str, field: str | None = None, correlation_id: str | None = None) -> Response:
    extensions: dict[str, str] = {"code": code} if field is None else {"code": code, "field": field}
    if correlation_id is not None:
        extensions["correlationId"] = correlation_id
    # ASCII JSON, as Strawberry writes: a lone surrogate quoted from the request stays an escape.
    body = json.dumps({"errors": [{"message": message, "extensions": extensions}]})
    return Response(body, status_code=status, media_type="application/json")
