"""Which store a benchmark runs on (`--store`): 'embedded', a MongoDB URI, or 'mongodb' for
the one MONGODB_URI names."""

import os
import uuid

from models.companies import Caller, Role
from models.store import Store
from resolvers import report_suites

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


def fresh_database() -> str:
    """A database name no earlier run used."""
    return f"bench_{uuid.uuid4().hex[:12]}"


def connect(choice: str) -> tuple[Store, str]:
    """A fresh store: a new embedded one, or a new database on the MongoDB `choice` names."""
    database = fresh_database()
    return Store.connect(uri(choice), database=database), database


async def recording_suite(store: Store) -> Caller:
    """The indexes, and report suite 'bench' recording Transaction IDs; returns its company's ADMIN."""
    await store.create_indexes()
    admin = Caller(company_id="bench", role=Role.ADMIN, key_id="bench")
    await report_suites.create(store, admin, "bench", "Bench")
    await report_suites.set_recording(store, admin, "bench", True)
    return admin
