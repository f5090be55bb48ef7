"""What the request guards share: refusing before validation, and measuring a document
with each fragment measured once.

Validation and execution are the costly parts of a request, so the guards run before
both, in linear time. Walking a fragment again at every spread would not be linear: when
each fragment spreads the next one twice, the work doubles per fragment. Here a spread is
worth its fragment's measure, computed once by name, in an order where each fragment
comes after the fragments it spreads.

Validation is what rejects unknown fragments and fragment cycles, and it runs after the
guards: a spread of an unknown fragment, or one that closes a cycle, is worth nothing
here, so the walk always ends, and validation then says what is wrong.
"""

from collections.abc import Iterator
from typing import Generic, TypeVar

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLNamedType,
    GraphQLSchema,
    InlineFragmentNode,
    NamedTypeNode,
    OperationDefinitionNode,
    SelectionSetNode,
)
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext

T = TypeVar("T")
CEILING = 1_000_000  # where counts stop growing: enough to say by how much a document is over


class Guard(SchemaExtension):
    """A check made before validation; the first guard to refuse answers the request."""

    def refusal(self, context: ExecutionContext, document: DocumentNode) -> GraphQLError | None:
        raise NotImplementedError

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if not context.pre_execution_errors and context.graphql_document is not None:
            error = self.refusal(context, context.graphql_document)
            if error is not None:
                # Set before validation runs, this is the answer and validation is skipped.
                context.pre_execution_errors = [error]
        yield


def refused(message: str, code: str, **extensions) -> GraphQLError:
    return GraphQLError(message, extensions={"code": code, **extensions})


def operations(document: DocumentNode) -> list[OperationDefinitionNode]:
    return [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]


class Measure(Generic[T]):
    """A value folded over a document's selections, each fragment measured once.

    Subclasses say what a field is worth (`field`) and how the values of one selection
    set add up (`combine`); `steps` counts the selections visited, which grows with the
    document's length, never with how many times its fragments are spread.
    """

    empty: T

    def __init__(self, document: DocumentNode, schema: GraphQLSchema | None = None) -> None:
        self.document, self.schema = document, schema
        self.steps = 0
        self._fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        self._measured: dict[str, T] = {}
        for name in self._dependency_order():
            fragment = self._fragments[name]
            self._measured[name] = self.selection_set(fragment.selection_set, self.named_type(fragment.type_condition))

    def field(self, node: FieldNode, parent: GraphQLNamedType | None) -> T:
        raise NotImplementedError

    def combine(self, values: list[T]) -> T:
        raise NotImplementedError

    def operations(self) -> list[T]:
        """The value of each operation in the document."""
        return [self.operation(o) for o in operations(self.document)]

    def operation(self, operation: OperationDefinitionNode) -> T:
        root = self.schema.get_root_type(operation.operation) if self.schema else None
        return self.selection_set(operation.selection_set, root)

    def selection_set(self, selection_set: SelectionSetNode, parent: GraphQLNamedType | None) -> T:
        values = []
        for selection in selection_set.selections:
            self.steps += 1
            if isinstance(selection, FieldNode):
                values.append(self.field(selection, parent))
            elif isinstance(selection, InlineFragmentNode):
                kind = self.named_type(selection.type_condition) if selection.type_condition else parent
                values.append(self.selection_set(selection.selection_set, kind))
            elif isinstance(selection, FragmentSpreadNode):
                values.append(self._measured.get(selection.name.value, self.empty))
        return self.combine(values)

    def named_type(self, node: NamedTypeNode | None) -> GraphQLNamedType | None:
        if self.schema is None or node is None:
            return None
        return self.schema.get_type(node.name.value)

    def _dependency_order(self) -> list[str]:
        """Fragment names, each after the fragments it spreads; a spread closing a cycle is passed over.

        Iterative, as a chain of fragments can be longer than Python's recursion limit.
        """
        order: list[str] = []
        seen: set[str] = set()
        for start in self._fragments:
            if start in seen:
                continue
            seen.add(start)
            stack = [(start, iter(self._spreads(start)))]
            while stack:
                name, spreads = stack[-1]
                following = next(spreads, None)
                if following is None:
                    stack.pop()
                    order.append(name)
                elif following in self._fragments and following not in seen:
                    seen.add(following)
                    stack.append((following, iter(self._spreads(following))))
        return order

    def _spreads(self, name: str) -> list[str]:
        """The names of the fragments spread anywhere in fragment `name`."""
        found: list[str] = []
        pending = [self._fragments[name].selection_set]
        while pending:
            for selection in pending.pop().selections:
                self.steps += 1
                if isinstance(selection, FragmentSpreadNode):
                    found.append(selection.name.value)
                elif isinstance(selection, (FieldNode, InlineFragmentNode)) and selection.selection_set is not None:
                    pending.append(selection.selection_set)
        return found


class Count(Measure[int]):
    """A measure that adds up, and stops growing at CEILING."""

    empty = 0

    def combine(self, values: list[int]) -> int:
        return min(CEILING, sum(values))

    def total(self) -> int:
        """The sum over the document's operations."""
        return self.combine(self.operations())


def shown(count: int) -> str:
    return f"more than {CEILING:,}" if count >= CEILING else f"{count:,}"
