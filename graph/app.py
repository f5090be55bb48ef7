"""The ASGI app: GraphQL (and GraphiQL) at /graphql, store health at /healthz."""

import contextlib
import gc
import logging

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from graph.context import Context
from graph.schema import schema
from models.store import Store, StoreUnavailable
from resolvers import api_keys

log = logging.getLogger("offline_graph")
MAX_BODY_BYTES = 10 * 1024 * 1024


class GraphQLView(GraphQL[Context, None]):
    def __init__(self, store: Store) -> None:
        super().__init__(schema, graphql_ide="graphiql")
        self.store = store

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> Context:
        caller = await api_keys.authenticate(self.store, request.headers.get("authorization"))
        return Context.build(self.store, caller)


def create_app(store: Store, on_startup=None) -> Starlette:
    """The app over `store`; `on_startup` (an async callable) runs after indexes exist."""

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
        yield
        store.close()

    routes = [
        Route("/graphql", GraphQLView(store), methods=["GET", "POST"], max_body_size=MAX_BODY_BYTES),
        Route("/healthz", health, methods=["GET"]),
    ]
    return Starlette(routes=routes, lifespan=lifespan, exception_handlers={StoreUnavailable: store_unavailable})


async def store_unavailable(request: Request, error: Exception) -> JSONResponse:
    """The store failed before GraphQL could answer (reading the caller's key): say so in GraphQL's shape."""
    log.error("the store does not answer (%s)", error)
    body = {
        "data": None,
        "errors": [{"message": "The store does not answer; try again shortly.", "extensions": {"code": "STORE_UNAVAILABLE"}}],
    }
    return JSONResponse(body, status_code=503)
