"""How failures reach clients: userErrors in payloads, coded errors, the rest masked."""

from collections.abc import Awaitable
from typing import TypeVar

import strawberry
from graphql import GraphQLError

from models.problems import Denied, Rejected

T = TypeVar("T")

STORE_UNAVAILABLE = "STORE_UNAVAILABLE"
STORE_UNAVAILABLE_MESSAGE = "The store does not answer; try again shortly."


@strawberry.type
class UserError:
    """An expected failure: which input field, a stable code, and what to do about it."""

    field: str | None
    code: str
    message: str


async def attempt(work: Awaitable[T]) -> tuple[T | None, list[UserError]]:
    """Run a mutation's use-case; a rejection becomes userErrors, a denial stays an error."""
    try:
        return await work, []
    except Denied:
        raise
    except Rejected as rejected:
        return None, [UserError(field=p.field, code=p.code, message=p.message) for p in rejected.problems]


def should_mask_error(error: GraphQLError) -> bool:
    """Mask what nobody meant to say: only syntax, validation and coded errors go out as they are."""
    original = error.original_error
    return original is not None and not isinstance(original, (Rejected, GraphQLError))
