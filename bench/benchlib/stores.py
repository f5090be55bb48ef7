"""Which store a benchmark runs on: the embedded one, or MongoDB at a URI (`--store`)."""

import uuid

from models.store import Store

EMBEDDED = "embedded"


def describe(choice: str) -> str:
    return "the embedded store" if choice == EMBEDDED else "MongoDB at --store"


def connect(choice: str) -> tuple[Store, str]:
    """A fresh store: a new embedded one, or a new database on the MongoDB `choice` names."""
    database = f"bench_{uuid.uuid4().hex[:12]}"
    return Store.connect(None if choice == EMBEDDED else choice, database=database), database


def uri(choice: str) -> str | None:
    return None if choice == EMBEDDED else choice
