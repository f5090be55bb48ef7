"""Refuse input larger than its fields take, before any of it is converted.

Converting input is the costly part of a large request: 9,999 hits took 6.4 s to convert
before the use-case could say "at most 1,000", and 100 hits of 1,000 events 3.3 s. So the
raw values are measured first, in variables and in literals written in the document
alike, and the first one over a limit refuses the request with a code and its path:

- a list holds at most what its input field takes (LIST_LIMITS, by type and field as the
  SDL spells them; a test checks that every list field of the schema is listed);
- a string is at most MAX_STRING_LENGTH characters: far above what any field takes, so
  each field's own limit (100 bytes for an id, 255 for a value, ...) is still checked by
  its use-case, which says which one it was; this only keeps absurd strings out;
- all lists of a request hold at most MAX_LIST_ITEMS input objects together, as 1,000
  hits of up to 1,008 events each would still be a million objects to convert, and at
  most MAX_LIST_VALUES plain values (10,000 rows of 50 columns).
"""

from collections.abc import Iterator
from typing import Any

from graphql import (
    ArgumentNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLArgument,
    GraphQLError,
    GraphQLSchema,
    InlineFragmentNode,
    ListValueNode,
    Node,
    ObjectValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    StringValueNode,
    get_named_type,
    get_nullable_type,
    get_operation_ast,
    is_input_object_type,
    is_list_type,
    type_from_ast,
)
from strawberry.types import ExecutionContext

from graph.extensions.guard import Guard
from models import data_sources, fields, jobs, reports
from resolvers.collection import MAX_HITS_PER_CALL

LIST_LIMITS: dict[tuple[str, str], int] = {
    ("CollectHitsInput", "hits"): MAX_HITS_PER_CALL,
    ("HitInput", "evars"): fields.EVARS,
    # The hit model counts the built-in events (orders, revenue, ...) among a hit's events.
    ("HitInput", "events"): fields.EVENTS + len(fields.HIT_METRICS),
    ("CreateDataSourceInput", "dimensions"): data_sources.MAX_COLUMNS,
    ("CreateDataSourceInput", "metrics"): data_sources.MAX_COLUMNS,
    ("ConfigureDataSourceInput", "dimensions"): data_sources.MAX_COLUMNS,
    ("ConfigureDataSourceInput", "metrics"): data_sources.MAX_COLUMNS,
    ("UpdateReportSuiteInput", "evars"): fields.EVARS,
    # A row is a list of strings too: each of its lists is held to the same limit.
    ("UploadDataSourceRowsInput", "rows"): jobs.MAX_ROWS_PER_CALL,
    ("UploadDataSourceRowsInput", "columns"): data_sources.MAX_COLUMNS + 1,
    ("ValidateDataSourceRowsInput", "rows"): jobs.MAX_ROWS_PER_CALL,
    ("ValidateDataSourceRowsInput", "columns"): data_sources.MAX_COLUMNS + 1,
    ("ReportInput", "metrics"): reports.MAX_METRICS,
    ("ReportInput", "dataSourceIds"): reports.MAX_DATA_SOURCES,
}
DEFAULT_LIST_LIMIT = MAX_HITS_PER_CALL  # a list variable declared on its own has no field to go by
MAX_STRING_LENGTH = 1_000
MAX_LIST_ITEMS = 20_000  # input objects: each costs a conversion of every field
MAX_LIST_VALUES = 500_000  # plain values (the strings of rows): each costs little

Position = tuple[str, str] | None  # the input field (type, field) a value is given for


class MaxInputSize(Guard):
    def refusal(self, context: ExecutionContext, document: DocumentNode) -> GraphQLError | None:
        schema = context.schema._schema  # the graphql-core schema: input types and argument types
        sizes = InputSizes()
        return _variables_refusal(sizes, context, document, schema) or _literals_refusal(sizes, document, schema)


def _variables_refusal(
    sizes: "InputSizes", context: ExecutionContext, document: DocumentNode, schema: GraphQLSchema
) -> GraphQLError | None:
    """Each variable the operation declares, measured once against its declared type."""
    operation = get_operation_ast(document, context.operation_name)
    variables = context.variables or {}
    for definition in (operation.variable_definitions or ()) if operation else ():
        name, kind = definition.variable.name.value, type_from_ast(schema, definition.type)
        if kind is None:  # an unknown type: validation says so
            continue
        error = sizes.refusal(variables.get(name), kind, name, None)
        if error is None and definition.default_value is not None:
            error = sizes.refusal(definition.default_value, kind, name, None, definition.default_value)
        if error is not None:
            return error
    return None


def _literals_refusal(sizes: "InputSizes", document, schema: GraphQLSchema) -> GraphQLError | None:
    """Each argument written in the document (variables in it are measured where declared)."""
    for argument, definition in _arguments(document, schema):
        error = sizes.refusal(argument.value, definition.type, argument.name.value, None, argument)
        if error is not None:
            return error
    return None


class InputSizes:
    """Measures raw input values, from variables (JSON) or literals (the document's nodes).

    `items` and `values` count list items across the request, towards MAX_LIST_ITEMS and MAX_LIST_VALUES.
    """

    def __init__(self) -> None:
        self.items = 0
        self.values = 0

    def refusal(self, value, kind, path: str, position: Position, node: Node | None = None) -> GraphQLError | None:
        """Why `value`, given for type `kind`, is too large; None if it is not."""
        kind = get_nullable_type(kind)
        shape, content = _shape(value)
        if shape == "list" and is_list_type(kind):
            return self._list_refusal(content, kind.of_type, path, position, node)
        if is_list_type(kind):  # a single value stands for a list of one
            return self.refusal(value, kind.of_type, path, position, node)
        if shape == "object" and is_input_object_type(kind):
            for name, item in content:
                field = kind.fields.get(name)
                error = self._item_refusal(item, field.type, path, name, (kind.name, name), node) if field else None
                if error:
                    return error
        if shape == "string" and len(content) > MAX_STRING_LENGTH:
            return _too_long(path, len(content), node)
        return None  # anything else is not ours to judge: conversion refuses what does not fit its type

    def _item_refusal(self, item, kind, path: str, name: object, position: Position, node: Node | None) -> GraphQLError | None:
        """`refusal` of one field or list item of a value at `path`. The plain values of
        JSON variables (most of a large input) are judged here, without building a path."""
        if type(item) is str:
            return _too_long(f"{path}.{name}", len(item), node) if len(item) > MAX_STRING_LENGTH else None
        if item is None or type(item) in (int, float, bool):
            return None
        return self.refusal(item, kind, f"{path}.{name}", position, node)

    def _list_refusal(self, items: list, item_kind, path: str, position: Position, node: Node | None) -> GraphQLError | None:
        limit = LIST_LIMITS.get(position, DEFAULT_LIST_LIMIT) if position else DEFAULT_LIST_LIMIT
        if len(items) > limit:
            return _error(f"{path} holds {len(items):,} items; at most {limit:,} are allowed.", "TOO_MANY", path, node)
        objects = is_input_object_type(get_named_type(item_kind))
        if objects:
            self.items += len(items)
        else:
            self.values += len(items)
        if self.items > MAX_LIST_ITEMS or self.values > MAX_LIST_VALUES:
            most = f"{MAX_LIST_ITEMS:,} items" if objects else f"{MAX_LIST_VALUES:,} values"
            message = f"The input's lists hold more than {most} in all (reached at {path}); send less in one request, e.g. fewer hits or rows a call."
            return _error(message, "TOO_MANY", path, node)
        for index, item in enumerate(items):
            error = self._item_refusal(item, item_kind, path, index, position, node)
            if error:
                return error
        return None


def _shape(value) -> tuple[str | None, Any]:
    """A raw value as ("list", items), ("object", (name, value) pairs) or ("string", text).

    Numbers, booleans, enums, nulls and variables inside literals have no size to check.
    """
    if isinstance(value, list):
        return "list", value
    if isinstance(value, dict):
        return "object", value.items()
    if isinstance(value, str):
        return "string", value
    if isinstance(value, ListValueNode):
        return "list", value.values
    if isinstance(value, ObjectValueNode):
        return "object", ((f.name.value, f.value) for f in value.fields)
    if isinstance(value, StringValueNode):
        return "string", value.value
    return None, None


def _too_long(path: str, length: int, node: Node | None) -> GraphQLError:
    message = f"{path} is {length:,} characters long; no field takes more than {MAX_STRING_LENGTH:,}."
    return _error(message, "TOO_LONG", path, node)


def _error(message: str, code: str, path: str, node: Node | None) -> GraphQLError:
    """A coded error naming the input's path, and for a literal where it is written."""
    return GraphQLError(message, nodes=[node] if node else None, extensions={"code": code, "field": path})


def _arguments(document, schema: GraphQLSchema) -> Iterator[tuple[ArgumentNode, GraphQLArgument]]:
    """Every field argument written in the document, with its definition.

    Each operation and fragment is walked once where it is written (spreads are not
    followed: a fragment's arguments are the same wherever it is spread).
    """
    pending: list[tuple[SelectionSetNode, Any]] = []
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            pending.append((definition.selection_set, schema.get_root_type(definition.operation)))
        elif isinstance(definition, FragmentDefinitionNode):
            pending.append((definition.selection_set, schema.get_type(definition.type_condition.name.value)))
    while pending:
        selection_set, parent = pending.pop()
        for selection in selection_set.selections:
            if isinstance(selection, InlineFragmentNode):
                kind = schema.get_type(selection.type_condition.name.value) if selection.type_condition else parent
                pending.append((selection.selection_set, kind))
                continue
            if not isinstance(selection, FieldNode):  # a spread: its fragment is walked where it is written
                continue
            field = getattr(parent, "fields", {}).get(selection.name.value)
            if field is None:  # a field validation will refuse
                continue
            yield from ((a, field.args[a.name.value]) for a in selection.arguments or () if a.name.value in field.args)
            if selection.selection_set:
                pending.append((selection.selection_set, get_named_type(field.type)))
