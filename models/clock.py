"""The one place the current time comes from, so tests can move it."""

from datetime import UTC, datetime


def now() -> datetime:
    return datetime.now(UTC)
