"""graph/extensions/mask_errors.py: unexpected errors are masked; a store that stopped answering during an operation says so
with its code (over HTTP: tests/test_scenario_broken_requests.py)."""

import logging

from models.store import StoreUnavailable
from resolvers import report_suites

LIST_SUITES = "query { reportSuites { edges { node { rsid } } } }"


async def test_a_store_lost_during_an_operation_is_a_coded_error_logged_in_one_line(execute, company, monkeypatch, caplog):
    async def lost(*args, **kwargs):
        raise StoreUnavailable("AutoReconnect")

    monkeypatch.setattr(report_suites, "page", lost)

    with caplog.at_level(logging.ERROR, logger="offline_graph"):
        result = await execute(LIST_SUITES, company.reader)

    (error,) = result.errors
    assert error.extensions == {"code": "STORE_UNAVAILABLE"}
    assert error.path == ["reportSuites"]
    assert "try again" in error.message
    (record,) = [r for r in caplog.records if r.name == "offline_graph"]
    assert "AutoReconnect" in record.getMessage() and record.exc_info is None
