"""models/keys.py: the natural keys documents are stored under, and new ids."""

import pytest

from models import keys
from models.keys import hit_key, new_id, report_suite_key, snapshot_key, visitor_key, visitor_of
from models.report_suites import RSID_PATTERN


def test_the_natural_keys_join_their_parts_with_a_bar():
    assert report_suite_key("c1", "telco") == "c1|telco"
    assert visitor_key("c1", "telco", "cust-42") == "c1|telco|cust-42"
    assert hit_key("c1", "telco", "cust-42", 3) == "c1|telco|cust-42|3"
    assert snapshot_key("c1", "telco", "lead_1") == "c1|telco|lead_1"


@pytest.mark.parametrize("visitor_id", ["cust-42", "a|b", "|", "a||b|", "é-ü"])
def test_a_visitor_key_splits_back_into_its_rsid_and_visitor_id_even_when_the_id_holds_a_bar(visitor_id):
    assert visitor_of(visitor_key(new_id(), "my.site-2", visitor_id)) == ("my.site-2", visitor_id)


def test_no_rsid_or_company_id_holds_the_bar_so_keys_split_back_unambiguously():
    assert RSID_PATTERN.fullmatch("telco")
    assert RSID_PATTERN.fullmatch("a|b") is None
    assert keys.SEPARATOR not in new_id()


def test_keys_of_the_same_ids_in_two_report_suites_differ():
    assert visitor_key("c1", "a", "v") != visitor_key("c1", "b", "v")
    assert hit_key("c1", "a", "v", 1) != hit_key("c1", "b", "v", 1)
    assert snapshot_key("c1", "a", "t") != snapshot_key("c1", "b", "t")


def test_keys_of_the_same_rsid_and_ids_in_two_companies_differ():
    assert report_suite_key("c1", "shop") != report_suite_key("c2", "shop")
    assert visitor_key("c1", "shop", "v") != visitor_key("c2", "shop", "v")
    assert hit_key("c1", "shop", "v", 1) != hit_key("c2", "shop", "v", 1)
    assert snapshot_key("c1", "shop", "t") != snapshot_key("c2", "shop", "t")


def test_new_ids_sort_in_creation_order(monkeypatch):
    now = 1_780_000_000_000_000_000  # nanoseconds, as time.time_ns gives them
    ticks = iter([now, now + 1, now + 1, now + 60_000_000_000])
    monkeypatch.setattr(keys.time, "time_ns", lambda: next(ticks))

    first, second, same_moment, a_minute_later = (new_id() for _ in range(4))

    assert first < second < a_minute_later
    assert first < same_moment < a_minute_later
    assert same_moment != second  # made in the same nanosecond, told apart by their random part


def test_new_ids_are_unique():
    assert len({new_id() for _ in range(1000)}) == 1000
