"""The ASGI app: GraphQL over HTTP and WebSocket (and GraphiQL) at /graphql, store health at /healthz.

Every answer from /graphql is GraphQL's JSON shape, `{"errors": [{"message", "extensions":
{"code"}}]}` when something is wrong, with the HTTP status saying who can fix it:
- 400: the request is not a GraphQL request the server can read: its body is not UTF-8,
  not JSON, too deeply nested, or not an object; `query` is missing; `variables` is no
  object; a string holds a lone surrogate (no Unicode text, and no store could keep it).
- 429: the key (or, without a valid key, the client address) is over its rate; `Retry-After`
  says in how many seconds to send it again (graph/rate_limit.py).
- 503: the store does not answer (reading the caller's key or during the operation), or the
  operation ran past its time-out (code TIMEOUT); the request may be sent again.
- 500: a bug (code INTERNAL_SERVER_ERROR, with a correlation id for the server log).
- 200: everything GraphQL itself answered, errors included (syntax, validation, limits,
  access), as the GraphQL-over-HTTP spec asks of an `application/json` response.
"""

import asyncio
import contextlib
import gc
import logging

from cross_web import AsyncHTTPRequestAdapter, HTTPException
from graphql import GraphQLError
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLRequestData
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET, UnsetType

from graph import error_log, graphiql, requests, websockets
from graph.context import Context
from graph.errors import STORE_UNAVAILABLE, STORE_UNAVAILABLE_MESSAGE
from graph.rate_limit import RateLimited, RateLimiter
from graph.schema import schema
from graph.settings import Settings
from models.store import Store, StoreUnavailable
from resolvers import api_keys, processing

log = logging.getLogger("offline_graph")
# What our clients send: the key, JSON, and the headers that mark a multipart upload as
# no cross-site form post (a browser sends them only after a preflight).
CORS_HEADERS = ["Authorization", "Content-Type", "apollo-require-preflight", "x-apollo-operation-name"]
TIMEOUT = "TIMEOUT"
PLAYGROUND_OFF = "GraphiQL is turned off on this server; send GraphQL requests to /graphql with POST.\n"


class GraphQLView(GraphQL[Context, None]):
    # An open WebSocket checks its key again (closing once it is revoked) and counts each operation against the rate.
    graphql_transport_ws_handler_class = websockets.TransportWSHandler
    graphql_ws_handler_class = websockets.LegacyWSHandler

    def __init__(self, store: Store, settings: Settings) -> None:
        # Strawberry refuses a WebSocket handshake from a page on any origin but ours and these.
        super().__init__(schema, allowed_origins=settings.cors_origins, multipart_uploads_enabled=True)
        self.store = store
        self.settings = settings
        self.limiter = RateLimiter(settings.rate_limit, settings.rate_burst) if settings.rate_limit else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Strawberry's, answering every failure in GraphQL's JSON shape rather than in plain text."""
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope, receive)
        try:
            response = await self.run(request)
        except HTTPException as error:
            response = requests.refusal(error)
        except RateLimited as limited:
            response = limited.response()
        except StoreUnavailable as error:  # reading the caller's key
            log.error("the store does not answer (%s) reading the API key", error)
            response = requests.errors_response(503, STORE_UNAVAILABLE_MESSAGE, STORE_UNAVAILABLE)
        except Exception as error:  # noqa: BLE001 - a bug: logged as for resolvers, scrubbed of data
            correlation_id = error_log.new_correlation_id()
            error_log.log_exception(error, "a request", correlation_id)
            response = requests.errors_response(
                500, error_log.UNEXPECTED_MESSAGE, error_log.INTERNAL_SERVER_ERROR, correlation_id=correlation_id
            )
        await response(scope, receive, send)
        await request.close()  # an upload's spooled files, whether the operation ran or was refused

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> Context:
        authorization = request.headers.get("authorization")
        caller = await api_keys.authenticate(self.store, authorization)
        if self.limiter and isinstance(request, Request):  # before the body is read; a WebSocket counts each operation
            self.limiter.check(caller, request.client.host if request.client else None)
        return Context(self.store, caller, introspection=self.settings.introspection, refusal=api_keys.refusal(authorization))

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """A WebSocket's API key comes in connection_init's payload, as {"Authorization":
        "Bearer <key>"} (browsers cannot set a WebSocket's headers). A key that is no valid
        key closes the connection (4403); without one it goes on as the handshake's caller,
        and every operation meets the same checks as over HTTP."""
        params = context.connection_params or {}
        authorization = params.get("Authorization", params.get("authorization"))
        if authorization is None:
            return UNSET
        try:
            caller = await api_keys.authenticate(self.store, authorization if isinstance(authorization, str) else None)
        except StoreUnavailable as error:
            log.error("the store does not answer (%s) reading a WebSocket's API key", error)
            raise ConnectionRejectionError({"code": STORE_UNAVAILABLE, "message": STORE_UNAVAILABLE_MESSAGE}) from None
        if caller is None:
            raise ConnectionRejectionError({"code": "UNAUTHENTICATED", "message": api_keys.UNAUTHENTICATED_MESSAGE})
        context.sign_in(caller)
        return UNSET

    async def render_graphql_ide(self, request: Request) -> Response:
        if not self.settings.playground:
            return PlainTextResponse(PLAYGROUND_OFF, status_code=404)
        return HTMLResponse(graphiql.page())

    def decode_json(self, data: str | bytes) -> object:
        return requests.decode_json(data)

    async def parse_http_body(self, request: AsyncHTTPRequestAdapter) -> GraphQLRequestData:
        requests.check_preflight(request.method, request.headers)
        data = await super().parse_http_body(request)  # batches are off: one operation per request
        if not isinstance(data, GraphQLRequestData) or not isinstance(data.query, str) or not data.query.strip():
            raise requests.RequestError("MISSING_QUERY", "Send the operation as a string in `query`.", "query")
        return data

    async def execute_single(self, request, request_adapter, sub_response, context, root_value, request_data) -> ExecutionResult:
        """The operation, stopped at its time-out: an upload's is longer, and starts once its body is in."""
        uploading = request_adapter.headers.get("content-type", "").startswith("multipart/form-data")
        limit = self.settings.upload_timeout if uploading else self.settings.request_timeout
        timer = asyncio.timeout(limit)
        try:
            async with timer:
                return await super().execute_single(request, request_adapter, sub_response, context, root_value, request_data)
        except TimeoutError:
            if not timer.expired():
                raise  # another time-out than ours: a bug, answered as one
            log.warning("an operation ran past its time-out of %g s and was stopped", limit)
            return ExecutionResult(data=None, errors=[GraphQLError(timed_out_message(limit or 0), extensions={"code": TIMEOUT})])

    def create_response(self, response_data, sub_response: Response) -> Response:
        response = super().create_response(response_data, sub_response)
        codes = {(e.get("extensions") or {}).get("code") for e in response_data.get("errors") or ()}
        if codes & {STORE_UNAVAILABLE, TIMEOUT}:
            response.status_code = 503
        return response


def timed_out_message(seconds: float) -> str:
    return (
        f"The operation ran longer than {seconds:g} s and was stopped. Ask for less at once (smaller pages, fewer hits "
        "or rows a call); sending it again is safe, as nothing is counted twice."
    )


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
        # What start-up built (modules, the schema) lives as long as the process: keep the
        # garbage collector from walking it again at every full collection.
        gc.freeze()
        async with processing.running(store, settings.worker):
            yield
        store.close()

    view = GraphQLView(store, settings)
    routes = [
        Route("/graphql", requests.BodyLimits(view), methods=["GET", "POST"]),
        WebSocketRoute("/graphql", view),
        Route("/healthz", health, methods=["GET"]),
    ]
    if settings.playground:
        routes.append(Mount(graphiql.ASSETS_PATH, app=graphiql.assets()))
    cors = Middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["GET", "POST"], allow_headers=CORS_HEADERS)
    return Starlette(routes=routes, middleware=[cors], lifespan=lifespan)
