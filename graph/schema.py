"""The schema: one per process (Strawberry cannot build a second one holding relay.node())."""

import logging

import strawberry
from graphql import GraphQLError
from strawberry import relay
from strawberry.extensions import MaxTokensLimiter
from strawberry.relay.types import GlobalIDValueError

from graph.api_keys import ApiKeyMutations, ApiKeyQueries
from graph.collection import CollectionMutations
from graph.context import Info
from graph.data_sources import DataSourceMutations
from graph.error_log import correlate
from graph.errors import should_mask_error
from graph.extensions.document_cache import DocumentCache
from graph.extensions.error_codes import CodeRequestErrors
from graph.extensions.introspection import IntrospectionSwitch
from graph.extensions.mask_errors import MaskErrors
from graph.extensions.max_aliases import MaxAliases
from graph.extensions.max_input_size import MaxInputSize
from graph.extensions.max_query_cost import MaxQueryCost
from graph.extensions.max_query_depth import MaxQueryDepth
from graph.extensions.max_query_fields import MaxQueryFields
from graph.extensions.require_api_key import RequireApiKey
from graph.jobs import JobMutations, JobSubscriptions
from graph.report_suites import ReportSuiteMutations, ReportSuiteQueries
from graph.uploads import UploadMutations
from graph.viewer import ViewerQueries
from models.store import StoreUnavailable

MAX_TOKENS = 5000  # counted by graphql-core's lexer as it parses: linear, and before anything else


@strawberry.type
class Query(ViewerQueries, ReportSuiteQueries, ApiKeyQueries):
    @strawberry.field(description="Any object by its global id, if it is the caller's; null for any other id.")
    async def node(self, info: Info, id: strawberry.ID) -> relay.Node | None:
        try:
            return await relay.GlobalID.from_id(id).resolve_node(info)
        except GlobalIDValueError:  # malformed, or names a type that is no Node
            return None


@strawberry.type
class Mutation(ReportSuiteMutations, DataSourceMutations, CollectionMutations, UploadMutations, JobMutations, ApiKeyMutations):
    pass


@strawberry.type
class Subscription(JobSubscriptions):
    pass


log = logging.getLogger("offline_graph")


class OfflineGraphSchema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context=None) -> None:
        """Each unexpected error logged once, with a correlation id and its scrubbed traceback
        (graph/error_log.py); a store that stopped answering in one line."""
        for error in errors:
            if not should_mask_error(error):
                continue
            path = ".".join(str(p) for p in error.path or []) or "the request"
            if isinstance(error.original_error, StoreUnavailable):  # its text names the driver's error only
                log.error("the store does not answer (%s) in %s", error.original_error, path)
            else:
                correlate(error)


schema = OfflineGraphSchema(
    query=Query,
    mutation=Mutation,
    subscription=Subscription,
    # The guards run before validation, in this order: the first to refuse answers. DocumentCache
    # validates what they let through.
    extensions=[
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        CodeRequestErrors,
        IntrospectionSwitch,
        RequireApiKey,
        MaxQueryFields,
        MaxQueryDepth,
        MaxAliases,
        MaxQueryCost,
        MaxInputSize,
        DocumentCache,
        MaskErrors,
    ],
)
