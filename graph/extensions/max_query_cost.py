"""Refuse a query that could return more objects than a request may cost, before validation.

Every connection multiplies what is under it by its page size (`first`, or the `first` of
its input, as a report's), and each page is a store round trip: `visitors(first: 100) { hits(first: 100) }` asks for 10,100
objects from 101 fetches. The cost counted here is every object and page a query could
fetch at most, with the page sizes it asks for (or their defaults).

A cost is proportional to how many times its selections are fetched, so a fragment's
cost is measured once, as if fetched once, and multiplied where it is spread.
"""

from graphql import DocumentNode, FieldNode, GraphQLError, IntValueNode, ObjectValueNode, VariableNode, get_named_type, get_operation_ast
from strawberry.types import ExecutionContext

from graph.extensions.guard import CEILING, Count, Guard, refused, shown
from graph.pagination import MAX_PAGE_SIZE

MAX_COST = 10_000


class QueryCost(Count):
    def __init__(self, document, schema, variables: dict) -> None:
        self.variables = variables  # read while the fragments are measured
        super().__init__(document, schema)

    def field(self, node: FieldNode, parent) -> int:
        definition = getattr(parent, "fields", {}).get(node.name.value)
        if definition is None:  # unknown (validation says so) or introspection: costs nothing here
            return 0
        below = self.selection_set(node.selection_set, get_named_type(definition.type)) if node.selection_set else 0
        if "first" in definition.args:
            first = self._first(node, definition.args["first"])
            return min(CEILING, 1 + first + first * below)  # one page, its objects, and what each fetches
        if "input" in definition.args and "first" in getattr(get_named_type(definition.args["input"].type), "fields", {}):
            # A page asked for in the input (a report's rows): one fetch and its rows.
            return min(CEILING, 1 + self._input_first(node, get_named_type(definition.args["input"].type).fields["first"]) + below)
        return below

    def _input_first(self, node: FieldNode, field) -> int:
        """`first` of the field's `input` (a literal object or a variable), or its default."""
        given = next((a.value for a in node.arguments or () if a.name.value == "input"), None)
        value = field.default_value
        if isinstance(given, VariableNode):
            value = (self.variables.get(given.name.value) or {}).get("first", value)
        elif isinstance(given, ObjectValueNode):
            found = next((f.value for f in given.fields if f.name.value == "first"), None)
            if isinstance(found, IntValueNode):
                value = int(found.value)
            elif isinstance(found, VariableNode):
                value = self.variables.get(found.name.value, value)
        return value if isinstance(value, int) and 0 <= value <= MAX_PAGE_SIZE else MAX_PAGE_SIZE

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


class MaxQueryCost(Guard):
    def refusal(self, context: ExecutionContext, document: DocumentNode) -> GraphQLError | None:
        operation = get_operation_ast(document, context.operation_name)
        if operation is None:  # execution says why
            return None
        schema = context.schema._schema  # the graphql-core schema: field definitions and argument defaults
        cost = QueryCost(document, schema, context.variables or {}).operation(operation)
        if cost <= MAX_COST:
            return None
        message = (
            f"This query could fetch {shown(cost)} objects and pages; the limit is {MAX_COST:,}. "
            "Ask for smaller pages (first) or fewer nested lists, and page with after."
        )
        return refused(message, "QUERY_TOO_COSTLY")
