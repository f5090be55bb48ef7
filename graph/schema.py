"""The schema: one per process (Strawberry cannot build a second one holding relay.node())."""

import logging

import strawberry
from graphql import GraphQLError
from strawberry import relay
from strawberry.extensions import MaskErrors, MaxAliasesLimiter, MaxTokensLimiter, QueryDepthLimiter

from graph.collection import CollectionMutations
from graph.data_sources import DataSourceMutations
from graph.errors import should_mask_error
from graph.extensions.max_list_length import MaxListLength
from graph.extensions.max_query_cost import MaxQueryCost
from graph.extensions.require_api_key import RequireApiKey
from graph.report_suites import ReportSuiteMutations, ReportSuiteQueries
from graph.viewer import ViewerQueries
from models.problems import Rejected

MAX_DEPTH = 12
MAX_TOKENS = 5000
MAX_ALIASES = 30


@strawberry.type
class Query(ViewerQueries, ReportSuiteQueries):
    node: relay.Node | None = relay.node(description="Any object by its global id, if it is the caller's.")


@strawberry.type
class Mutation(ReportSuiteMutations, DataSourceMutations, CollectionMutations):
    pass


log = logging.getLogger("offline_graph")


class OfflineGraphSchema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context=None) -> None:
        """One line per unexpected error: no stack trace or message (it may hold data) in the log."""
        for error in errors:
            if isinstance(error.original_error, Rejected) or error.original_error is None:
                continue
            path = ".".join(str(p) for p in error.path or [])
            log.error("unexpected %s in %s", type(error.original_error).__name__, path or "the request")


schema = OfflineGraphSchema(
    query=Query,
    mutation=Mutation,
    extensions=[
        RequireApiKey,
        MaxListLength,
        MaxQueryCost,
        lambda: QueryDepthLimiter(max_depth=MAX_DEPTH),
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        lambda: MaxAliasesLimiter(max_alias_count=MAX_ALIASES),
        lambda: MaskErrors(should_mask_error=should_mask_error),
    ],
)
