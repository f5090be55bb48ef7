"""resolvers/report_suites.py: the use-cases check their input themselves; the graph is not
the only guard. Report suites through the schema are in test_graph_report_suites.py."""

import pytest

from models import store as collections
from models.problems import Rejected
from resolvers import report_suites
from tests.helpers import stored


async def test_resolver_create_validates_without_the_graph(store, company):
    # The use-case itself refuses bad input; the graph is not the only guard.
    with pytest.raises(Rejected) as rejected:
        await report_suites.create(store, company.admin, "site", "Site", time_zone="Not/AZone")

    assert rejected.value.problems[0].field == "timeZone"
    assert await stored(store, collections.REPORT_SUITES) == []
