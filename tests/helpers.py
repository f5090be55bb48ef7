"""Helpers more than one test file uses: times near the real clock, reading GraphQL
answers, and collecting hits through the schema."""

from datetime import UTC, datetime, time, timedelta

from graph.context import Context
from graph.schema import schema
from models import store as collections
from models.companies import Caller
from models.store import Store
from tests.queries import COLLECT

# Hits are dated in the last few days of the real calendar: the stores' TTL index removes
# snapshots whose expiry is past by the real clock, whatever models.clock says. The
# `today` fixture sets models.clock to day 9 at 12:00.
DAY_ZERO = datetime.combine(datetime.now(UTC).date() - timedelta(days=10), time(), UTC)
RSID = "furniture"  # the report suite of the `suite` fixture
EVERY_COLLECTION = [
    collections.COMPANIES, collections.API_KEYS, collections.REPORT_SUITES, collections.DATA_SOURCES, collections.VISITORS,
    collections.HITS, collections.SNAPSHOTS, collections.JOBS, collections.JOB_CHUNKS, collections.JOB_NAMES,
    collections.PROBLEMS, collections.ROWS,
]  # fmt: skip


def moment(day: int, hhmm: str) -> datetime:
    """`hhmm` (UTC) on day `day` after DAY_ZERO."""
    hours, minutes = map(int, hhmm.split(":"))
    return DAY_ZERO + timedelta(days=day, hours=hours, minutes=minutes)


def at(day: int, hhmm: str) -> str:
    """`moment(day, hhmm)` as the ISO-8601 string a client sends."""
    return moment(day, hhmm).isoformat()


def parsed(text: str) -> datetime:
    return datetime.fromisoformat(text)


def values(pairs: list[dict]) -> dict[str, str]:
    """[{dimension, value}, ...] as the dict it stands for."""
    return {p["dimension"]: p["value"] for p in pairs}


def codes(result) -> list[str | None]:
    """The codes of an ExecutionResult's errors, in order."""
    return [(e.extensions or {}).get("code") for e in result.errors or []]


def hit(visitor_id: str, day: int, hhmm: str, **fields) -> dict:
    """One HitInput, as a client sends it."""
    return {"visitorId": visitor_id, "timestamp": at(day, hhmm)} | fields


def executor(store: Store):
    """`execute` on `store`: runs one operation through the schema as `caller` (None: no key)
    would, and returns the ExecutionResult."""

    async def run(query: str, caller: Caller | None, **variables):
        return await schema.execute(query, variable_values=variables, context_value=Context.build(store, caller))

    return run


async def query(execute, caller, text: str, **variables) -> dict:
    """The data of an operation that must not fail."""
    result = await execute(text, caller, **variables)
    assert result.errors is None, result.errors
    return result.data


async def collect(execute, caller, hits: list[dict], rsid: str = RSID) -> dict:
    """The collectHits payload for `hits`, sent as `caller`."""
    return (await query(execute, caller, COLLECT, input={"rsid": rsid, "hits": hits}))["collectHits"]


async def stored(store, collection: str) -> list[dict]:
    """Every document of a collection, whoever's."""
    return await store.find_many(collection, {})
