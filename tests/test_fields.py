"""models/fields.py, the field catalogue: what an upload header names, what a field is
stored under, what a transaction snapshot keeps. That the graph's hit input and its
limits follow the catalogue is tested in test_graph_collection.py."""

import pytest

from models.fields import (
    EVARS,
    EVENTS,
    HIT_DIMENSIONS,
    HIT_FIELDS,
    HIT_METRICS,
    NAMED,
    Kind,
    allowed_headers,
    by_header,
    field,
    in_snapshot,
)

# --- headers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "key"),
    [
        ("Evar 1", "evar1"),
        ("evar 1", "evar1"),
        ("EVAR 12", "evar12"),
        (f"Evar {EVARS}", f"evar{EVARS}"),
        ("Event 1", "event1"),
        (f"Event {EVENTS}", f"event{EVENTS}"),
        ("Price", "revenue"),
        ("price", "revenue"),
        ("Quantity", "units"),
        ("Tracking Code", "trackingCode"),
        ("tracking code", "trackingCode"),
        ("Product", "products"),
        ("transactionID", "transactionId"),
        ("VISITORID", "visitorId"),
        ("  Evar 3  ", "evar3"),
    ],
)
def test_a_header_names_its_field_case_insensitively(header, key):
    assert by_header(header).key == key


@pytest.mark.parametrize(
    "header",
    [
        "eVar1",
        "Evar1",
        "Evar  1",
        f"evar {EVARS + 1}",
        "Evar 0",
        "Evar 01",
        f"Event {EVENTS + 1}",
        "Event 0",
        "Revenue",
        "TrackingCode",
        "Page Name",
        "referrer",
        "Date",
        "",
    ],
)
def test_a_header_the_catalogue_does_not_spell_so_names_nothing(header):
    assert by_header(header) is None


def test_a_header_found_is_spelled_as_the_catalogue_spells_it():
    assert by_header("evar 12").header == "Evar 12"
    assert by_header("price").header == "Price"
    assert by_header("tracking code").header == "Tracking Code"


def test_every_header_finds_its_own_field():
    for named in (f for f in NAMED if f.header):
        assert by_header(named.header) == named
    for key in ("evar1", f"evar{EVARS}", "event1", f"event{EVENTS}"):
        numbered = field(key)
        assert numbered is not None and numbered.header is not None
        assert by_header(numbered.header) == numbered


def test_online_only_fields_have_no_header():
    assert field("pageName").header is None
    assert field("referrer").header is None


# --- keys -------------------------------------------------------------------------------


def test_a_key_names_its_field():
    assert (field("evar12").kind, field("evar12").header) == (Kind.DIMENSION, "Evar 12")
    assert (field("event5").kind, field("event5").header) == (Kind.METRIC, "Event 5")
    assert (field("revenue").kind, field("revenue").header) == (Kind.METRIC, "Price")
    assert (field("trackingCode").kind, field("trackingCode").header) == (Kind.DIMENSION, "Tracking Code")
    for named in NAMED:
        assert field(named.key) == named


@pytest.mark.parametrize(
    "key", ["evar0", f"evar{EVARS + 1}", "evar01", "event0", f"event{EVENTS + 1}", "Evar1", "eVar1", "evar 1", "Price", "nope", ""]
)
def test_a_key_outside_the_catalogue_names_nothing(key):
    assert field(key) is None


def test_the_hit_fields_are_the_named_fields_but_the_ids_split_into_dimensions_and_metrics():
    assert {f.key for f in HIT_FIELDS} == {f.key for f in NAMED} - {"transactionId", "visitorId"}
    assert set(HIT_DIMENSIONS) | set(HIT_METRICS) == set(HIT_FIELDS)
    assert {f.kind for f in HIT_DIMENSIONS} == {Kind.DIMENSION}
    assert {f.kind for f in HIT_METRICS} == {Kind.METRIC}


# --- what a snapshot keeps ------------------------------------------------------------


@pytest.mark.parametrize(
    "key", ["evar1", f"evar{EVARS}", "trackingCode", "products", "category", "marketingChannel", "marketingChannelDetail", "referrer"]
)
def test_a_snapshot_keeps_evars_and_the_dimensions_offline_rows_are_credited_to(key):
    assert in_snapshot(key) is True


@pytest.mark.parametrize(
    "key", ["pageName", "zip", "transactionId", "visitorId", "revenue", "orders", "units", "cartAdds", "event1", f"evar{EVARS + 1}", "nope"]
)
def test_a_snapshot_keeps_no_page_zip_id_or_metric(key):
    assert in_snapshot(key) is False


# --- messages ---------------------------------------------------------------------


def test_the_allowed_headers_of_each_kind_list_that_kind_only():
    dimensions, metrics = allowed_headers(Kind.DIMENSION), allowed_headers(Kind.METRIC)

    assert f"Evar 1 to Evar {EVARS}" in dimensions and "Tracking Code" in dimensions and "transactionID" in dimensions
    assert f"Event 1 to Event {EVENTS}" in metrics and "Price" in metrics and "Cart Adds" in metrics
    assert "Price" not in dimensions and "Event" not in dimensions
    assert "Tracking Code" not in metrics and "Evar" not in metrics
