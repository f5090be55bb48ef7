"""graph/extensions/max_aliases.py: aliases are counted across the document, a fragment's at each spread, before validation."""

from graph.extensions.max_aliases import MAX_ALIASES


async def test_aliases_in_a_fragment_count_at_each_spread(execute, company):
    fragment = "fragment Two on Query { a: viewer { role } b: viewer { role } }"
    spreads = MAX_ALIASES // 2

    allowed = await execute("{ " + "...Two " * spreads + "} " + fragment, company.reader)
    # Fragments spread at the same place are merged when run, but each spread counts.
    refused = await execute("{ ...Two ...More } fragment More on Query { " + "...Two " * spreads + "} " + fragment, company.reader)

    assert allowed.errors is None
    assert refused.data is None
    (error,) = refused.errors
    assert error.extensions["code"] == "TOO_MANY_ALIASES"
    assert f"{2 * (spreads + 1)} aliases" in error.message
