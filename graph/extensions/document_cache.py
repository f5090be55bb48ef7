"""Parse and validate a document once, not at every request that sends it again.

Front ends send the same few queries over and over, and parsing and validating one takes
a few milliseconds (a seventh of a small query's time). Both results are kept in bounded
LRU caches (a stream of unique documents costs at most `MAX_DOCUMENTS` of each), keyed
by what decides them: the text and the parser's options, the document and the
request's validation rules (without introspection, a rule more).

Strawberry's ParserCache and ValidationCache do not fit here: a parse error raised in
ParserCache escapes Strawberry's handling of parse errors, and ValidationCache
validates even a document a guard has already refused (guard.py), replacing the refusal.
"""

import contextlib
from collections.abc import Iterator
from functools import lru_cache

from graphql import parse
from strawberry.extensions import SchemaExtension
from strawberry.schema import schema as strawberry_schema

MAX_DOCUMENTS = 256

_parse = lru_cache(maxsize=MAX_DOCUMENTS)(parse)


@lru_cache(maxsize=MAX_DOCUMENTS)
def _validate(schema, document, rules) -> list:
    return strawberry_schema.validate_document(schema, document, rules)  # looked up at each call, as Strawberry's own is


class DocumentCache(SchemaExtension):
    """Last of the guards: it validates only what every guard let through."""

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if context.query and context.graphql_document is None:
            # A document that does not parse is not cached: Strawberry parses it again and answers the error its way.
            with contextlib.suppress(Exception):
                context.graphql_document = _parse(context.query, **context.parse_options)
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if context.pre_execution_errors is None and context.graphql_document is not None and context.validation_rules:
            rules = tuple(context.validation_rules)
            context.pre_execution_errors = list(_validate(context.schema._schema, context.graphql_document, rules))
        yield
