"""Parse and validate a document once, not at every request that sends it again.

Front ends send the same few queries over and over, and parsing and validating one takes
a few milliseconds (a seventh of a small query's time). Both results are kept in bounded
LRU caches, keyed by what decides them: the text and the parser's options, the document
and the request's validation rules (without introspection, a rule more). Only documents
of at most `MAX_CACHED_LENGTH` characters are kept, `MAX_DOCUMENTS` of them: a parsed
document holds about 400 bytes a token, so a stream of unique documents (which may come
before any key is checked) can hold at most about 50 MB (each character a token).

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

MAX_DOCUMENTS = 64
MAX_CACHED_LENGTH = 2000  # characters: far above a typical query's few hundred

_parse = lru_cache(maxsize=MAX_DOCUMENTS)(parse)


@lru_cache(maxsize=MAX_DOCUMENTS)
def _validate(schema, document, rules) -> list:
    return strawberry_schema.validate_document(schema, document, rules)  # looked up at each call, as Strawberry's own is


class DocumentCache(SchemaExtension):
    """Last of the guards: it validates only what every guard let through. One per request."""

    cached = False  # whether this request's document is the parse cache's (and so may key the validation cache)

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if context.query and len(context.query) <= MAX_CACHED_LENGTH and context.graphql_document is None:
            # A document that does not parse is not cached: Strawberry parses it again and answers the error its way.
            with contextlib.suppress(Exception):
                context.graphql_document = _parse(context.query, **context.parse_options)
                self.cached = True
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if self.cached and context.pre_execution_errors is None and context.validation_rules:
            rules = tuple(context.validation_rules)
            context.pre_execution_errors = list(_validate(context.schema._schema, context.graphql_document, rules))
        yield
