"""Which store a benchmark runs on (`--store`): 'embedded', a MongoDB URI, or 'mongodb' for
the one MONGODB_URI names."""

import os
import uuid

from models.store import Store

EMBEDDED = "embedded"
FROM_ENVIRONMENT = "mongodb"


def describe(choice: str) -> str:
    return "the embedded store" if choice == EMBEDDED else "MongoDB"


def uri(choice: str) -> str | None:
    if choice == EMBEDDED:
        return None
    if choice == FROM_ENVIRONMENT:
        if not os.environ.get("MONGODB_URI"):
            raise SystemExit("--store mongodb needs MONGODB_URI")
        return os.environ["MONGODB_URI"]
    return choice


def connect(choice: str) -> tuple[Store, str]:
    """A fresh store: a new embedded one, or a new database on the MongoDB `choice` names."""
    database = f"bench_{uuid.uuid4().hex[:12]}"
    return Store.connect(uri(choice), database=database), database
