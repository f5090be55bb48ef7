"""Refuse variables holding a far longer list than any input allows, before conversion.

Converting input objects is the costly part of a big request. No list in this API takes
more than 1,000 items (hits a call); up to ten times that still reaches the use-case,
which says what the limit is in a userError, and anything longer is refused unread.
"""

from graphql import ExecutionResult, GraphQLError
from strawberry.extensions import SchemaExtension

MAX_LIST_ITEMS = 10_000


class MaxListLength(SchemaExtension):
    def on_execute(self):
        context = self.execution_context
        path = _too_long(context.variables or {}, "")
        if path is not None:
            message = f"Variable list '{path}' has more than {MAX_LIST_ITEMS:,} items; no input takes that many."
            context.result = ExecutionResult(data=None, errors=[GraphQLError(message, extensions={"code": "TOO_MANY", "field": path})])
        yield


def _too_long(value, path: str) -> str | None:
    """The path of the first list over the limit in `value`, or None."""
    if isinstance(value, list):
        if len(value) > MAX_LIST_ITEMS:
            return path
        items = ((f"{path}.{i}", v) for i, v in enumerate(value))
    elif isinstance(value, dict):
        items = ((f"{path}.{k}" if path else k, v) for k, v in value.items())
    else:
        return None
    for item_path, item in items:
        found = _too_long(item, item_path)
        if found is not None:
            return found
    return None
