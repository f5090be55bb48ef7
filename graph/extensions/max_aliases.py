"""Refuse a document with more aliases than the limit, before validation.

Aliases are how one request asks for the same costly field many times over. Strawberry's
MaxAliasesLimiter counts a fragment's aliases again at every spread, in time doubling with
each fragment that spreads the next one twice; this counts each fragment once. The count
is the same: every alias in every operation, a fragment's as often as it is spread.
"""

from graphql import DocumentNode, FieldNode, GraphQLError
from strawberry.types import ExecutionContext

from graph.extensions.guard import Count, Guard, refused, shown

MAX_ALIASES = 30


class AliasCount(Count):
    def field(self, node: FieldNode, parent) -> int:
        below = self.selection_set(node.selection_set, None) if node.selection_set else 0
        return self.combine([below, int(node.alias is not None)])


class MaxAliases(Guard):
    def refusal(self, context: ExecutionContext, document: DocumentNode) -> GraphQLError | None:
        count = AliasCount(document).total()
        if count <= MAX_ALIASES:
            return None
        message = f"This document uses {shown(count)} aliases, a fragment's counted at each spread; the limit is {MAX_ALIASES}."
        return refused(message, "TOO_MANY_ALIASES")
