"""Mask what nobody meant to say; a store that stopped answering says so, with its code.

"Unexpected error." says nothing more, as it may stand for anything: its code is
INTERNAL_SERVER_ERROR, and `extensions.correlationId` finds its traceback in the server
log (graph/error_log.py). STORE_UNAVAILABLE
(with HTTP 503) tells a client that the request may be sent again: nothing is
half-written, and collecting hits again counts nothing twice.
"""

from graphql import GraphQLError
from strawberry.extensions import MaskErrors as StrawberryMaskErrors

from graph.error_log import CORRELATION_ID, INTERNAL_SERVER_ERROR, UNEXPECTED_MESSAGE, correlate
from graph.errors import STORE_UNAVAILABLE, STORE_UNAVAILABLE_MESSAGE, should_mask_error
from models.store import StoreUnavailable


class MaskErrors(StrawberryMaskErrors):
    def __init__(self) -> None:
        super().__init__(should_mask_error=should_mask_error, error_message=UNEXPECTED_MESSAGE)

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        if isinstance(error.original_error, StoreUnavailable):
            return GraphQLError(STORE_UNAVAILABLE_MESSAGE, nodes=error.nodes, path=error.path, extensions={"code": STORE_UNAVAILABLE})
        masked = super().anonymise_error(error)
        masked.extensions = {"code": INTERNAL_SERVER_ERROR, CORRELATION_ID: correlate(error)}
        return masked
