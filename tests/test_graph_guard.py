"""graph/extensions/guard.py: the guards measure each fragment once: a document whose fragments each spread the next
one twice is refused with a code, in steps growing with its length, keyed or not."""

import pytest
from graphql import parse

from graph.extensions.guard import CEILING
from graph.extensions.max_aliases import AliasCount
from graph.extensions.max_query_cost import QueryCost
from graph.extensions.max_query_depth import QueryDepth
from graph.extensions.max_query_fields import FieldCount
from graph.schema import schema


def fan_out(levels: int, leaf: str = "__typename", on: str = "Query", top: str = "{ ...F0 }") -> str:
    """`{ ...F0 } fragment F0 on Query { ...F1 ...F1 } ...`: 2**levels leaves once expanded."""
    fragments = " ".join(f"fragment F{i} on {on} {{ ...F{i + 1} ...F{i + 1} }}" for i in range(levels))
    return f"{top} {fragments} fragment F{levels} on {on} {{ {leaf} }}"


def chain(levels: int) -> str:
    """Each fragment spreads the next one once: longer than Python's recursion limit allows to follow."""
    fragments = " ".join(f"fragment F{i} on Query {{ ...F{i + 1} }}" for i in range(levels))
    return f"{{ ...F0 }} {fragments} fragment F{levels} on Query {{ viewer {{ role }} }}"


MEASURES = {
    "depth": lambda document: QueryDepth(document),
    "aliases": lambda document: AliasCount(document),
    "fields": lambda document: FieldCount(document),
    "cost": lambda document: QueryCost(document, schema._schema, {}),
}


@pytest.mark.parametrize("name", MEASURES)
def test_each_fragment_is_measured_once_so_steps_grow_with_the_document(name):
    def steps(levels: int) -> int:
        measure = MEASURES[name](parse(fan_out(levels, leaf="a: reportSuites(first: 5) { edges { cursor } }")))
        measure.operations()
        return measure.steps

    at_40, at_400 = steps(40), steps(400)

    # Ten times the document, about ten times the steps (re-walking would double them per level).
    assert at_40 > 40
    assert at_400 <= 10 * at_40 + 20


def test_the_measures_count_every_spread_of_a_fragment():
    document = parse(fan_out(3, leaf="a: viewer { role }"))

    assert FieldCount(document).total() == 2**3 * 2
    assert AliasCount(document).total() == 2**3
    assert QueryDepth(document).deepest() == 1


def test_counts_past_the_ceiling_stop_growing():
    document = parse(fan_out(400, leaf="a: reportSuites(first: 100) { edges { cursor } }"))

    assert FieldCount(document).total() == CEILING
    assert AliasCount(document).total() == CEILING
    assert QueryCost(document, schema._schema, {}).operations() == [CEILING]


@pytest.mark.parametrize("levels", [40, 400])
@pytest.mark.parametrize("keyed", [True, False], ids=["keyed", "keyless"])
async def test_the_fragment_fan_out_is_refused_with_a_code(execute, company, levels, keyed):
    result = await execute(fan_out(levels), company.reader if keyed else None)

    assert result.data is None
    assert [e.extensions["code"] for e in result.errors] == ["QUERY_TOO_LARGE" if keyed else "UNAUTHENTICATED"]


@pytest.mark.parametrize("levels", [40, 400])
async def test_a_keyless_fan_out_inside_introspection_is_refused_too(execute, levels):
    document = fan_out(levels, on="__Schema", top="{ __schema { ...F0 } }")

    result = await execute(document, None)

    assert [e.extensions["code"] for e in result.errors] == ["QUERY_TOO_LARGE"]


async def test_a_fragment_cycle_ends_the_walk_and_validation_names_it(execute, company):
    document = "{ ...A } fragment A on Query { viewer { role } ...B } fragment B on Query { ...A }"

    result = await execute(document, company.reader)

    (error,) = result.errors
    assert error.extensions["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "within itself" in error.message


async def test_a_fragment_chain_longer_than_the_recursion_limit_is_measured(execute, company):
    document = parse(chain(600))

    assert QueryDepth(document).deepest() == 1
    assert FieldCount(document).total() == 2
    result = await execute(chain(600), company.reader)
    assert result.errors[0].extensions["code"] == "GRAPHQL_VALIDATION_FAILED"  # graphql-core gives up, saying so
