"""resolvers/visitors.py: the reads of online data go through the caller's company view,
so another company reads nothing of it, whatever ids it names."""

import pytest

from models.hits import HitIn
from models.keys import hit_key, visitor_key
from resolvers import collection, visitors
from tests.conftest import make_company
from tests.helpers import RSID, moment

pytestmark = [pytest.mark.wire, pytest.mark.usefixtures("today")]


async def test_other_companies_read_nothing_of_it(any_store, any_company):
    other = await make_company(any_store, "Globex")
    await collection.collect_hits(
        any_store, any_company.uploader, RSID, [HitIn("cust-42", moment(1, "09:00").isoformat(), transaction_id="t-1")]
    )

    assert await visitors.get_visitor(any_store, other.reader, RSID, "cust-42") is None
    assert await visitors.get_transaction(any_store, other.reader, RSID, "t-1") is None
    acmes_visitor = await visitors.get_visitor(any_store, any_company.reader, RSID, "cust-42")
    assert await visitors.page_hits(any_store, other.reader, acmes_visitor, None, 10) == ([], False)
    assert await visitors.page_visitors(any_store, other.reader, RSID, None, 10) == ([], False)
    assert await visitors.get_visitors(any_store, other.reader, [visitor_key(any_company.id, RSID, "cust-42")]) == [None]
    assert await visitors.get_hits(any_store, other.reader, [hit_key(any_company.id, RSID, "cust-42", 1)]) == [None]
