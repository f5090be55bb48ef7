"""API keys in the graph: the company's keys for its ADMINs, and making, revoking and
rotating them. A key's secret is in the answer that makes it, once; it is stored hashed."""

from collections.abc import Iterable
from datetime import datetime

import strawberry
from strawberry import relay

from graph.context import Info
from graph.errors import UserError, attempt
from graph.ids import own_id
from graph.pagination import DEFAULT_PAGE_SIZE, connection, decode_cursor, page_size
from graph.viewer import Role
from models import companies
from resolvers import api_keys

SECRET_DESCRIPTION = "The key itself, for 'Authorization: Bearer <secret>'. Shown this once: the server keeps only its hash."


@strawberry.type(description="An API key of your company. Its secret is never shown again after it is made.")
class ApiKey(relay.Node):
    key_id: relay.NodeID[str]
    prefix: str = strawberry.field(description="The key's first characters (e.g. odg_ab12), to tell which key a client holds.")
    role: Role
    name: str
    created_at: datetime
    last_used_at: datetime | None = strawberry.field(description="To the minute; null if never used.")
    revoked_at: datetime | None = strawberry.field(description="When it was revoked; a revoked key fails at once.")

    @strawberry.field(name="keyId", description="The key's own id, as `viewer.keyId` and `transactionIdRecording.changedBy` give it.")
    def key_id_field(self) -> str:
        return self.key_id

    @classmethod
    def from_model(cls, key: companies.ApiKey) -> "ApiKey":
        return cls(
            key_id=key.id,
            prefix=key.prefix,
            role=key.role,
            name=key.name,
            created_at=key.created_at,
            last_used_at=key.last_used_at,
            revoked_at=key.revoked_at,
        )

    @classmethod
    async def resolve_nodes(cls, *, info: Info, node_ids: Iterable[str], required: bool = False):
        found = await api_keys.get_many(info.context.store, info.context.caller, list(node_ids))
        return [cls.from_model(k) if k else None for k in found]


@strawberry.type
class ApiKeyQueries:
    @strawberry.field(description="Your company's API keys, oldest first, revoked ones included. ADMIN.")
    async def api_keys(self, info: Info, first: int = DEFAULT_PAGE_SIZE, after: str | None = None) -> relay.Connection[ApiKey]:
        ctx = info.context
        items, more = await api_keys.page(ctx.store, ctx.caller, decode_cursor(after), page_size(first))
        return connection(items, more, lambda k: k.id, ApiKey.from_model)


@strawberry.input
class CreateApiKeyInput:
    role: Role
    name: str = strawberry.field(description="What the key is for, e.g. 'Nightly CRM upload'; 1 to 100 characters.")


@strawberry.input
class RevokeApiKeyInput:
    id: strawberry.ID = strawberry.field(description="The key's global id (ApiKey.id).")


@strawberry.input
class RotateApiKeyInput:
    id: strawberry.ID = strawberry.field(description="The key's global id (ApiKey.id).")


@strawberry.type
class ApiKeyPayload:
    api_key: ApiKey | None
    user_errors: list[UserError]


@strawberry.type
class CreateApiKeyPayload:
    api_key: ApiKey | None
    secret: str | None = strawberry.field(description=SECRET_DESCRIPTION)
    user_errors: list[UserError]


@strawberry.type
class RotateApiKeyPayload:
    api_key: ApiKey | None = strawberry.field(description="The new key: the old one's role and name.")
    secret: str | None = strawberry.field(description=SECRET_DESCRIPTION)
    revoked_api_key: ApiKey | None = strawberry.field(description="The old key, revoked.")
    user_errors: list[UserError]


@strawberry.type
class ApiKeyMutations:
    @strawberry.mutation(description="Make an API key for your company; its secret is in this answer only. ADMIN.")
    async def create_api_key(self, info: Info, input: CreateApiKeyInput) -> CreateApiKeyPayload:
        ctx = info.context
        made, errors = await attempt(api_keys.create(ctx.store, ctx.caller, input.role, input.name))
        key, secret = made if made else (None, None)
        return CreateApiKeyPayload(api_key=ApiKey.from_model(key) if key else None, secret=secret, user_errors=errors)

    @strawberry.mutation(description="Revoke a key: it fails from the next request on, also on open WebSockets. ADMIN.")
    async def revoke_api_key(self, info: Info, input: RevokeApiKeyInput) -> ApiKeyPayload:
        ctx = info.context
        key, errors = await attempt(api_keys.revoke(ctx.store, ctx.caller, own_id(input.id, "ApiKey")))
        return ApiKeyPayload(api_key=ApiKey.from_model(key) if key else None, user_errors=errors)

    @strawberry.mutation(description="Replace a key by a new one of its role and name, and revoke it. ADMIN.")
    async def rotate_api_key(self, info: Info, input: RotateApiKeyInput) -> RotateApiKeyPayload:
        ctx = info.context
        rotated, errors = await attempt(api_keys.rotate(ctx.store, ctx.caller, own_id(input.id, "ApiKey")))
        if rotated is None:
            return RotateApiKeyPayload(api_key=None, secret=None, revoked_api_key=None, user_errors=errors)
        new, secret, old = rotated
        return RotateApiKeyPayload(api_key=ApiKey.from_model(new), secret=secret, revoked_api_key=ApiKey.from_model(old), user_errors=[])
