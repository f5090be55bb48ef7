"""models/exactly_once.py: which idempotency keys are taken, and what makes two rows calls the same."""

import pytest

from models.exactly_once import MAX_KEY_CHARS, call_digest, check_key


@pytest.mark.parametrize("key", ["7f3a9c1e-5b2d-4c8e-9a1f-2b3c4d5e6f70", "crm-2024-06-01-call-3", "a", "x" * MAX_KEY_CHARS])
def test_a_key_of_visible_ascii_is_taken(key):
    assert check_key(key) == []


@pytest.mark.parametrize("key", ["", "two words", "tab\there", "clé", "x" * (MAX_KEY_CHARS + 1), "line\n"])
def test_an_empty_long_spaced_or_non_ascii_key_is_refused_on_its_field(key):
    (problem,) = check_key(key)

    assert (problem.field, problem.code) == ("idempotencyKey", "INVALID")


def test_a_rows_call_is_the_same_call_only_with_the_same_job_columns_rows_and_finish():
    call = ("crm", ["Date", "Evar 1"], [["06/01/2026", "a"]], False)

    assert call_digest(*call) == call_digest(*call)
    assert call_digest("crm-2", *call[1:]) != call_digest(*call)
    assert call_digest("crm", ["Date", "Evar 2"], *call[2:]) != call_digest(*call)
    assert call_digest("crm", call[1], [["06/01/2026", "b"]], False) != call_digest(*call)
    assert call_digest(*call[:3], True) != call_digest(*call)
    # Fields are kept apart: a tab inside a value is not a field boundary.
    assert call_digest("crm", ["Date"], [["a", "b"]], False) != call_digest("crm", ["Date"], [["a\tb"]], False)
