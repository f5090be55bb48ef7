"""The ASGI app: GraphQL over HTTP and WebSocket (and GraphiQL) at /graphql, store health at /healthz."""

import contextlib
import logging

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from graph import graphiql
from graph.context import Context
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


class GraphQLView(GraphQL[Context, None]):
    def __init__(self, store: Store, settings: Settings) -> None:
        # Strawberry refuses a WebSocket handshake from a page on any origin but ours and these.
        super().__init__(schema, allowed_origins=settings.cors_origins)
        self.store = store
        self.settings = settings

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> Context:
        caller = await api_keys.authenticate(self.store, request.headers.get("authorization"))
        return Context.build(self.store, caller, introspection=self.settings.introspection)

    async def render_graphql_ide(self, request: Request) -> Response:
        if not self.settings.playground:
            return PlainTextResponse(PLAYGROUND_OFF, status_code=404)
        return HTMLResponse(graphiql.page())


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
    return Starlette(routes=routes, middleware=[cors], lifespan=lifespan, exception_handlers={StoreUnavailable: store_unavailable})


async def store_unavailable(request: Request, error: Exception) -> JSONResponse:
    """The store failed before GraphQL could answer (reading the caller's key): say so in GraphQL's shape."""
    log.error("the store does not answer (%s)", error)
    body = {
        "data": None,
        "errors": [{"message": "The store does not answer; try again shortly.", "extensions": {"code": "STORE_UNAVAILABLE"}}],
    }
    return JSONResponse(body, status_code=503)
