"""What an open WebSocket is held to: its key, checked again, and the rate limit.

Open WebSockets answer only while their key holds: a revoked key closes them.

A WebSocket authenticates once, when it opens, and may then stay open for hours. So its
key is looked up again before each operation it starts and every KEY_RECHECK_SECONDS
while it is open; once the key is revoked (or gone), the socket is closed with 4403 and
its operations end. Both subprotocols Strawberry speaks are covered: graphql-transport-ws
(`subscribe`) and the older graphql-ws (`start`).

A store that does not answer leaves the socket open: the operations themselves then say
STORE_UNAVAILABLE, and the next check looks again.

Each operation a socket starts takes a token from its key's bucket (graph/rate_limit.py),
as a request over HTTP does; one over the rate gets an error with code RATE_LIMITED and
`retryAfter`, and the socket stays open.
"""

import asyncio
import contextlib
import logging
from typing import Any

from graphql import GraphQLError, GraphQLFormattedError
from strawberry.subscriptions.protocols.graphql_transport_ws import types as transport_ws
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler
from strawberry.subscriptions.protocols.graphql_ws import types as legacy_ws
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler

from graph.context import Context
from graph.rate_limit import RateLimited
from models.store import StoreUnavailable
from resolvers import api_keys

KEY_RECHECK_SECONDS = 10.0
CLOSE_CODE = 4403  # graphql-transport-ws's "Forbidden"
CLOSE_REASON = "The API key is not valid: it is unknown or was revoked."
log = logging.getLogger("offline_graph")


class KeyWatch:
    """What both handlers add: a watch for the socket's lifetime and a check per operation."""

    context: Context
    websocket: Any
    view: Any

    def over_rate(self) -> GraphQLFormattedError | None:
        """The refusal of one more operation on this socket, if it is over its rate."""
        limiter = getattr(self.view, "limiter", None)
        if limiter is None:
            return None
        client = getattr(getattr(self.websocket, "ws", None), "client", None)
        try:
            limiter.check(self.context.caller, client.host if client else None)
        except RateLimited as limited:
            return GraphQLError(limited.message, extensions=limited.extensions).formatted
        return None

    async def key_holds(self) -> bool:
        caller = self.context.caller
        if caller is None:  # no key: each operation is refused on its own (RequireApiKey)
            return True
        try:
            return await api_keys.still_valid(self.context.store, caller)
        except StoreUnavailable:
            return True

    async def close_for_key(self) -> None:
        log.info("closing a WebSocket: its API key %s is no longer valid", self.context.caller.key_id if self.context.caller else "-")
        await self.websocket.close(code=CLOSE_CODE, reason=CLOSE_REASON)

    async def watch(self) -> None:
        while True:
            await asyncio.sleep(KEY_RECHECK_SECONDS)
            if not await self.key_holds():
                await self.close_for_key()
                return

    async def watching(self, handle) -> None:
        watcher = asyncio.create_task(self.watch())
        try:
            await handle()
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher


class TransportWSHandler(KeyWatch, BaseGraphQLTransportWSHandler[Context, None]):
    async def handle(self) -> None:
        await self.watching(super().handle)

    async def handle_subscribe(self, message) -> None:
        if not await self.key_holds():
            await self.close_for_key()
            return
        if refusal := self.over_rate():
            await self.send_message(transport_ws.ErrorMessage(id=message["id"], type="error", payload=[refusal]))
            return
        self.context.renew_loaders()  # nothing an earlier operation on this socket read
        await super().handle_subscribe(message)


class LegacyWSHandler(KeyWatch, BaseGraphQLWSHandler[Context, None]):
    async def handle(self) -> None:
        await self.watching(super().handle)

    async def handle_start(self, message) -> None:
        if not await self.key_holds():
            await self.close_for_key()
            return
        if refusal := self.over_rate():
            await self.send_message(legacy_ws.ErrorMessage(type="error", id=message["id"], payload=refusal))
            return
        self.context.renew_loaders()  # nothing an earlier operation on this socket read
        await super().handle_start(message)
