"""Refuse introspection (`__schema`, `__type`) when the server runs with it turned off.

There is one schema per process (Strawberry cannot build a second one holding
relay.node()), so the switch is read from the request's context and the refusal is a
validation rule added for that request. Validation runs before any guard's `on_execute`,
so the refusal holds with or without an API key (`__typename` stays allowed, as in
graphql-core's rule: it tells nothing about the schema).
"""

from graphql import FieldNode, GraphQLError, get_named_type, is_introspection_type
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import SchemaExtension

INTROSPECTION_DISABLED = "INTROSPECTION_DISABLED"


class IntrospectionSwitch(SchemaExtension):
    def on_operation(self):
        context = self.execution_context
        if not context.context.introspection:
            context.validation_rules = (*context.validation_rules, NoIntrospection)
        yield


class NoIntrospection(NoSchemaIntrospectionCustomRule):
    """graphql-core's rule with a stable code, saying it once where introspection starts
    (`__schema`), not again for each field under it."""

    def enter_field(self, node: FieldNode, *_args) -> None:
        kind = get_named_type(self.context.get_type())
        parent = self.context.get_parent_type()
        if kind and is_introspection_type(kind) and not (parent and is_introspection_type(parent)):
            message = f"Introspection is turned off on this server: '{node.name.value}' is not answered."
            self.report_error(GraphQLError(message, node, extensions={"code": INTROSPECTION_DISABLED, "field": node.name.value}))
