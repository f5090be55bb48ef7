"""graph/settings.py: the fair-use settings (rate limit, burst, time-outs) from flags and
the environment; a value that cannot be used names its flag or variable. (CORS and the
production switches: test_scenario_browsers.py and test_graph_cli.py.)"""

import pytest

from graph import settings
from graph.settings import Settings, SettingsError


def test_by_default_20_requests_a_second_in_bursts_of_40_and_30_or_300_seconds_an_operation():
    chosen = settings.read({})

    assert (chosen.rate_limit, chosen.rate_burst, chosen.request_timeout, chosen.upload_timeout) == (20, 40, 30, 300)
    assert chosen == Settings()


@pytest.mark.parametrize(
    ("given", "rate", "burst"),
    [("20/s", 20, 40), ("600/min", 10, 20), ("7200/h", 2, 4), ("5", 5, 10), ("0.5/s", 0.5, 1), ("OFF", None, 1), ("0", None, 1)],
)
def test_a_rate_per_second_minute_or_hour_and_a_burst_of_twice_the_rate(given, rate, burst):
    chosen = settings.read({}, rate_limit=given)

    assert (chosen.rate_limit, chosen.rate_burst) == (rate, burst)


def test_flags_win_over_the_variables_and_either_may_be_given():
    environ = {"ODG_RATE_LIMIT": "100/min", "ODG_RATE_BURST": "7", "ODG_REQUEST_TIMEOUT": "12", "ODG_UPLOAD_TIMEOUT": "off"}

    from_environment = settings.read(environ)
    from_flags = settings.read(environ, rate_limit="3/s", rate_burst="9", request_timeout="4.5s", upload_timeout="600")

    assert (from_environment.rate_limit, from_environment.rate_burst) == (pytest.approx(100 / 60), 7)
    assert (from_environment.request_timeout, from_environment.upload_timeout) == (12, None)
    assert (from_flags.rate_limit, from_flags.rate_burst, from_flags.request_timeout, from_flags.upload_timeout) == (3, 9, 4.5, 600)


@pytest.mark.parametrize(
    ("options", "environ", "named"),
    [
        ({"rate_limit": "fast"}, {}, "--rate-limit"),
        ({"rate_limit": "20/day"}, {}, "--rate-limit"),
        ({}, {"ODG_RATE_LIMIT": "-1/s"}, "ODG_RATE_LIMIT"),
        ({"rate_burst": "0"}, {}, "--rate-burst"),
        ({}, {"ODG_RATE_BURST": "ten"}, "ODG_RATE_BURST"),
        ({"request_timeout": "soon"}, {}, "--request-timeout"),
        ({}, {"ODG_REQUEST_TIMEOUT": "-5"}, "ODG_REQUEST_TIMEOUT"),
        ({}, {"ODG_UPLOAD_TIMEOUT": "inf"}, "ODG_UPLOAD_TIMEOUT"),
    ],
)
def test_a_value_that_cannot_be_used_names_its_flag_or_variable(options, environ, named):
    with pytest.raises(SettingsError) as refused:
        settings.read(environ, **options)

    assert str(refused.value).startswith(named + ":")
    assert "e.g." in str(refused.value)
