"""Refuse a query that could return more objects than a request may cost, before it runs.

Every connection multiplies what is under it by its page size (`first`), and each page
is a store round trip: `visitors(first: 100) { hits(first: 100) }` asks for 10,100
objects from 101 fetches. The cost counted here is every object and page a query could
fetch at most, with the page sizes it asks for (or their defaults).
"""

from graphql import (
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    IntValueNode,
    VariableNode,
    get_named_type,
    get_operation_ast,
)
from strawberry.extensions import SchemaExtension

from graph.pagination import MAX_PAGE_SIZE

MAX_COST = 10_000


class MaxQueryCost(SchemaExtension):
    def on_execute(self):
        context = self.execution_context
        cost = _operation_cost(context)
        if cost > MAX_COST:
            message = (
                f"This query could fetch {cost:,} objects and pages; the limit is {MAX_COST:,}. "
                "Ask for smaller pages (first) or fewer nested lists, and page with after."
            )
            context.result = ExecutionResult(data=None, errors=[GraphQLError(message, extensions={"code": "QUERY_TOO_COSTLY"})])
        yield


def _operation_cost(context) -> int:
    document = context.graphql_document
    operation = get_operation_ast(document, context.operation_name)
    if operation is None:  # execution says why
        return 0
    schema = context.schema._schema  # the graphql-core schema: field definitions and argument defaults
    walk = _Walk(schema, {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}, context.variables or {})
    root = schema.get_root_type(operation.operation)
    return walk.cost(operation.selection_set.selections, root, 1)


class _Walk:
    def __init__(self, schema, fragments: dict, variables: dict) -> None:
        self.schema, self.fragments, self.variables = schema, fragments, variables

    def cost(self, selections, parent, multiplier: int) -> int:
        total = 0
        for selection in selections:
            if isinstance(selection, FieldNode):
                total += self._field_cost(selection, parent, multiplier)
            elif isinstance(selection, InlineFragmentNode):
                kind = self.schema.get_type(selection.type_condition.name.value) if selection.type_condition else parent
                total += self.cost(selection.selection_set.selections, kind, multiplier)
            elif isinstance(selection, FragmentSpreadNode) and selection.name.value in self.fragments:
                fragment = self.fragments[selection.name.value]
                kind = self.schema.get_type(fragment.type_condition.name.value)
                total += self.cost(fragment.selection_set.selections, kind, multiplier)
        return total

    def _field_cost(self, node: FieldNode, parent, multiplier: int) -> int:
        definition = getattr(parent, "fields", {}).get(node.name.value)
        if definition is None:
            return 0
        total = 0
        if "first" in definition.args:
            total += multiplier  # one page per parent
            multiplier *= self._first(node, definition.args["first"])
            total += multiplier
        if node.selection_set:
            total += self.cost(node.selection_set.selections, get_named_type(definition.type), multiplier)
        return total

    def _first(self, node: FieldNode, argument) -> int:
        given = next((a.value for a in node.arguments or () if a.name.value == "first"), None)
        if isinstance(given, IntValueNode):
            value = int(given.value)
        elif isinstance(given, VariableNode):
            value = self.variables.get(given.name.value, argument.default_value)
        else:
            value = argument.default_value
        # A value the field will refuse anyway costs what the largest page would.
        return value if isinstance(value, int) and 0 <= value <= MAX_PAGE_SIZE else MAX_PAGE_SIZE
