"""The ASGI app: GraphQL over HTTP and WebSocket (and GraphiQL) at /graphql, store health at /healthz.

Every answer from /graphql is GraphQL's JSON shape, `{"errors": [{"message", "extensions":
{"code"}}]}` when something is wrong, with the HTTP status saying who can fix it:
- 400: the request is not a GraphQL request the server can read: its body is not UTF-8,
  not JSON, too deeply nested, or not an object; `query` is missing; `variables` is no
  object; a string holds a lone surrogate (no Unicode text, and no store could keep it).
- 503: the store does not answer (reading the caller's key or during the operation); the
  request may be sent again.
- 200: everything GraphQL itself answered, errors included (syntax, validation, limits,
  access), as the GraphQL-over-HTTP spec asks of an `application/json` response.
"""

import contextlib
import json
import logging
import re

from cross_web import HTTPException
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLRequestData

from graph import graphiql
from graph.context import Context
from graph.errors import STORE_UNAVAILABLE, STORE_UNAVAILABLE_MESSAGE
from graph.schema import schema
from graph.settings import Settings
from models.store import Store, StoreUnavailable
from resolvers import api_keys

log = logging.getLogger("offline_graph")
MAX_BODY_BYTES = 10 * 1024 * 1024
# What our clients send: the key, JSON, and the headers that mark a multipart upload as
# no cross-site form post (a browser sends them only after a preflight).
CORS_HEADERS = ["Authorization", "Content-Type", "apollo-require-preflight", "x-apollo-operation-name"]
PLAYGROUND_OFF = "GraphiQL is turned off on this server; send GraphQL requests to /graphql with POST.\n"
_SURROGATE = re.compile("[\ud800-\udfff]")
_ESCAPED_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")


class RequestError(HTTPException):
    """A request the server cannot read as GraphQL: answered with a 400 and a code."""

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(400, message)
        self.code, self.field = code, field


class GraphQLView(GraphQL[Context, None]):
    def __init__(self, store: Store, settings: Settings) -> None:
        # Strawberry refuses a WebSocket handshake from a page on any origin but ours and these.
        super().__init__(schema, allowed_origins=settings.cors_origins)
        self.store = store
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Strawberry's, answering every failure in GraphQL's JSON shape rather than in plain text."""
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        try:
            response = await self.run(Request(scope, receive))
        except HTTPException as error:
            response = _request_error(error)
        except StoreUnavailable as error:  # reading the caller's key
            log.error("the store does not answer (%s) reading the API key", error)
            response = _errors_response(503, STORE_UNAVAILABLE_MESSAGE, STORE_UNAVAILABLE)
        except Exception as error:  # noqa: BLE001 - a bug: one line, as for resolvers; no trace that may hold data
            log.error("unexpected %s answering a request", type(error).__name__)
            response = _errors_response(500, "Unexpected error.", "INTERNAL_SERVER_ERROR")
        await response(scope, receive, send)

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> Context:
        caller = await api_keys.authenticate(self.store, request.headers.get("authorization"))
        return Context.build(self.store, caller, introspection=self.settings.introspection)

    async def render_graphql_ide(self, request: Request) -> Response:
        if not self.settings.playground:
            return PlainTextResponse(PLAYGROUND_OFF, status_code=404)
        return HTMLResponse(graphiql.page())

    def decode_json(self, data: str | bytes) -> object:
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

    async def parse_http_body(self, request) -> GraphQLRequestData:
        data = await super().parse_http_body(request)  # batches are off: one operation per request
        if not isinstance(data, GraphQLRequestData) or not isinstance(data.query, str) or not data.query.strip():
            raise RequestError("MISSING_QUERY", "Send the operation as a string in `query`.", "query")
        return data

    def create_response(self, response_data, sub_response: Response) -> Response:
        response = super().create_response(response_data, sub_response)
        codes = {(e.get("extensions") or {}).get("code") for e in response_data.get("errors") or ()}
        if STORE_UNAVAILABLE in codes:
            response.status_code = 503
        return response


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


def _request_error(error: HTTPException) -> Response:
    """A request refused before GraphQL ran: Strawberry's own refusals (a mutation over GET,
    an unknown operation name, ...) keep their message under a generic code."""
    code = getattr(error, "code", "BAD_REQUEST")
    return _errors_response(error.status_code, error.reason, code, getattr(error, "field", None))


def _errors_response(status: int, message: str, code: str, field: str | None = None) -> Response:
    extensions = {"code": code} if field is None else {"code": code, "field": field}
    # ASCII JSON, as Strawberry writes: a lone surrogate quoted from the request stays an escape.
    body = json.dumps({"errors": [{"message": message, "extensions": extensions}]})
    return Response(body, status_code=status, media_type="application/json")


def create_app(store: Store, settings: Settings | None = None, on_startup=None) -> Starlette:
    """The app over `store`; `on_startup` (an async callable) runs after indexes exist."""
    settings = settings or Settings()

    async def health(request: Request) -> JSONResponse:
        if await store.ping():
            return JSONResponse({"status": "ok"})
        return JSONResponse({"status": "unavailable", "reason": "the store does not answer"}, status_code=503)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        if store.embedded:
            log.warning("Embedded in-memory store: data is not persisted. Set MONGODB_URI to keep it.")
        await store.create_indexes()
        if on_startup:
            await on_startup()
        yield
        store.close()

    view = GraphQLView(store, settings)
    routes = [
        Route("/graphql", view, methods=["GET", "POST"], max_body_size=MAX_BODY_BYTES),
        WebSocketRoute("/graphql", view),
        Route("/healthz", health, methods=["GET"]),
    ]
    if settings.playground:
        routes.append(Mount(graphiql.ASSETS_PATH, app=graphiql.assets()))
    cors = Middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["GET", "POST"], allow_headers=CORS_HEADERS)
    return Starlette(routes=routes, middleware=[cors], lifespan=lifespan)
