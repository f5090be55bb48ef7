"""models/snapshots.py: what a transaction snapshot holds, which hit records one (the first
occurrence of its id), what becomes of an id the store already holds, and its window."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from models.hits import AppliedHit, CheckedHit, StoredHit
from models.report_suites import Recording, ReportSuite
from models.snapshots import Snapshot, TransactionIdResult, TransactionStatus, first_occurrences, resolve_taken, settle, take_snapshot

MADE, ALREADY, OFF, EXPIRED = (
    TransactionIdResult.SNAPSHOT_MADE,
    TransactionIdResult.ALREADY_RECORDED,
    TransactionIdResult.RECORDING_OFF,
    TransactionIdResult.EXPIRED,
)
START = datetime(2031, 3, 2, 15, 0, tzinfo=UTC)
NOW = START + timedelta(days=1)


def suite(recording: bool = True, window_days: int = 90) -> ReportSuite:
    return ReportSuite("rs", "acme", "RS", START, transaction_id_window_days=window_days, recording=Recording(enabled=recording))


def applied(
    index: int, minutes: int, transaction_ids: tuple[str, ...], visitor: str = "v-1", **in_force: str
) -> tuple[AppliedHit, StoredHit]:
    """The hit sent `index`-th, `minutes` after START, as applied (with `in_force`) and stored."""
    hit = CheckedHit(index, visitor, START + timedelta(minutes=minutes), {}, {}, transaction_ids, ",".join(transaction_ids) or None)
    pair = AppliedHit(hit, index + 1, 1, dict(in_force))
    return pair, StoredHit.of(pair, "acme", "rs", "2031-03-02")


def snapshot(hit_id: str = "acme|rs|v-1|1", expires_at: datetime = NOW + timedelta(days=30), version: int = 1) -> Snapshot:
    return Snapshot("acme|rs|t-1", "rs", "acme", "t-1", "v-1", hit_id, {"evar1": "a"}, 1, START, expires_at, version=version)


# --- what a snapshot holds --------------------------------------------------------------


def test_a_snapshot_keeps_the_snapshot_dimensions_in_force_and_no_page_zip_or_metric():
    hit, stored = applied(0, 5, ("lead_100",), evar1="email", evar2="sofa", trackingCode="spring-sale", pageName="lead-form", zip="10001")

    taken = take_snapshot(suite(), hit, "lead_100", stored.id)

    assert taken.values == {"evar1": "email", "evar2": "sofa", "trackingCode": "spring-sale"}
    assert (taken.id, taken.rsid, taken.company_id, taken.transaction_id) == ("acme|rs|lead_100", "rs", "acme", "lead_100")
    assert (taken.visitor_id, taken.hit_id, taken.visit_number) == ("v-1", "acme|rs|v-1|1", 1)
    assert taken.recorded_at == START + timedelta(minutes=5)
    assert (taken.linked_row_count, taken.version) == (0, 1)


def test_a_snapshot_expires_the_report_suites_window_after_its_hit():
    hit, stored = applied(0, 5, ("t-1",))

    taken = take_snapshot(suite(window_days=30), hit, "t-1", stored.id)

    assert taken.expires_at == START + timedelta(minutes=5, days=30)


def test_a_snapshot_reads_back_from_its_document_as_it_was():
    kept = replace(snapshot(), linked_row_count=2, version=3)

    assert Snapshot.from_doc(kept.to_doc()) == kept


# --- which hit records an id -----------------------------------------------------------


def test_within_a_call_the_earliest_hit_records_an_id_whatever_the_order_sent():
    later, earlier = applied(0, 20, ("t-1",), evar1="b"), applied(1, 0, ("t-1",), evar1="a")

    made, results = first_occurrences(suite(), [later, earlier], NOW)

    assert [(s.transaction_id, s.values) for s in made] == [("t-1", {"evar1": "a"})]
    assert results == {1: [("t-1", MADE)], 0: [("t-1", ALREADY)]}


def test_hits_at_the_same_moment_leave_an_id_to_the_one_sent_first():
    first, second = applied(0, 0, ("t-1",), evar1="a"), applied(1, 0, ("t-1",), visitor="v-2", evar1="b")

    made, results = first_occurrences(suite(), [second, first], NOW)

    assert [s.visitor_id for s in made] == ["v-1"]
    assert results == {0: [("t-1", MADE)], 1: [("t-1", ALREADY)]}


def test_several_ids_on_one_hit_each_record_the_same_state_in_the_order_given():
    made, results = first_occurrences(suite(), [applied(0, 0, ("call_1", "lead_1"), evar5="x")], NOW)

    assert [(s.transaction_id, s.values) for s in made] == [("call_1", {"evar5": "x"}), ("lead_1", {"evar5": "x"})]
    assert results == {0: [("call_1", MADE), ("lead_1", MADE)]}


def test_with_recording_off_no_id_records_anything():
    made, results = first_occurrences(suite(recording=False), [applied(0, 0, ("t-1",))], NOW)

    assert (made, results) == ([], {0: [("t-1", OFF)]})


def test_a_hit_already_past_the_window_records_nothing():
    old = applied(0, -90 * 24 * 60, ("t-old",))  # 90 days before START, a day more before NOW

    made, results = first_occurrences(suite(), [old], NOW)

    assert (made, results) == ([], {0: [("t-old", EXPIRED)]})


def test_a_hit_without_ids_has_no_results():
    assert first_occurrences(suite(), [applied(0, 0, ())], NOW) == ([], {})


# --- once the store has answered --------------------------------------------------------


def test_an_id_the_store_did_not_record_for_this_call_was_already_recorded():
    results = {0: [("t-1", MADE), ("t-2", MADE)], 1: [("t-3", OFF)], 2: [("t-4", EXPIRED)]}

    settled = settle(results, {"t-2"})

    assert settled == {0: [("t-1", ALREADY), ("t-2", MADE)], 1: [("t-3", OFF)], 2: [("t-4", EXPIRED)]}


def test_the_same_hit_sent_again_finds_the_snapshot_it_made():
    held = snapshot(hit_id="acme|rs|v-1|1")

    assert resolve_taken(replace(held, values={}), held, NOW) == (held, None)


def test_an_expired_snapshot_gives_way_to_the_new_one_over_the_version_read():
    held = snapshot(hit_id="acme|rs|v-9|4", expires_at=NOW, version=2)  # its window ends now: expired
    wanted = snapshot(hit_id="acme|rs|v-1|1")

    assert resolve_taken(wanted, held, NOW) == (None, replace(wanted, version=3))


def test_a_snapshot_another_hit_holds_within_its_window_stays_and_nothing_is_recorded():
    held = snapshot(hit_id="acme|rs|v-9|4", expires_at=NOW + timedelta(seconds=1))

    assert resolve_taken(snapshot(hit_id="acme|rs|v-1|1"), held, NOW) == (None, None)


# --- the window ---------------------------------------------------------------------------


def test_a_snapshot_links_rows_until_its_window_ends():
    ends = NOW + timedelta(days=1)

    assert snapshot(expires_at=ends).linkable(ends - timedelta(microseconds=1)) is True
    assert snapshot(expires_at=ends).linkable(ends) is False


def test_the_status_is_expired_past_the_window_else_linked_once_rows_link():
    ends = NOW + timedelta(days=1)
    unlinked, linked = snapshot(expires_at=ends), replace(snapshot(expires_at=ends), linked_row_count=1)

    assert (unlinked.status(NOW), linked.status(NOW)) == (TransactionStatus.UNLINKED, TransactionStatus.LINKED)
    assert (unlinked.status(ends), linked.status(ends)) == (TransactionStatus.EXPIRED, TransactionStatus.EXPIRED)
