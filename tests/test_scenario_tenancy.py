"""Scenario tests: tenancy proven by the schema itself. Two companies hold data made through
the public API (report suites under the same rsid and their own, data sources, hits,
snapshots, jobs, offline rows, problems, keys); then every Query field, list and
connection, every Mutation and every Subscription, enumerated from the schema
(tests/schema_walk.py), is run as company B with company A's rsids, visitor and
transaction ids, job names and global ids. None returns, counts or changes anything of
A's: B's answers are the same once A's documents are deleted, hold none of A's values,
and no mutation or subscription of B's changes a document of A's or answers differently
for an id of A's than for an id that never existed.

A field, mutation or subscription added later is walked too; one whose arguments the walk
cannot build fails here with what to add (tests/schema_walk.py, Aim.rules)."""

import asyncio
import json
from dataclasses import replace
from datetime import timedelta

import pytest
from strawberry.relay import GlobalID

from graph.context import Context
from graph.schema import schema
from models import store as collections
from resolvers import processing
from tests.conftest import make_company
from tests.helpers import DAY_ZERO, EVERY_COLLECTION
from tests.schema_walk import (
    SHARED_RSID,
    SHARED_TRANSACTION,
    SHARED_VISITOR,
    Aim,
    CompanyData,
    Operation,
    Variant,
    batched,
    make_data,
    packed,
    query_operations,
    root_operations,
    upload_file,
)


def never_existing(data: CompanyData) -> CompanyData:
    """Values shaped as `data`'s, naming nothing anybody holds: ids of the same types. A Web
    beacon's id names its report suite, so its twin names the twin of that suite."""
    rsids = {rsid: f"missing{n}.rsid" for n, rsid in enumerate(data.rsids)}

    def twin(n: int, global_id: str) -> str:
        decoded = GlobalID.from_id(global_id)
        beacon_of = decoded.node_id.removeprefix("web-beacon:")
        if beacon_of != decoded.node_id:
            return str(GlobalID(decoded.type_name, f"web-beacon:{rsids.get(beacon_of, 'missing.rsid')}"))
        return str(GlobalID(decoded.type_name, f"missing-{n}"))

    return replace(
        data,
        rsids=list(rsids.values()),
        visitor_ids=[f"missing-visitor-{n}" for n, _ in enumerate(data.visitor_ids)],
        transaction_ids=[f"missing-tx-{n}" for n, _ in enumerate(data.transaction_ids)],
        job_names=["missing-job" for _ in data.job_names],
        global_ids=[twin(n, g) for n, g in enumerate(data.global_ids)],
    )


def only_own(data: CompanyData) -> CompanyData:
    """`data` without what both companies hold: the shared rsid, visitor and transaction,
    and the ids that name the shared report suite (its own, its Web beacon's)."""
    shared = {SHARED_RSID, SHARED_VISITOR, SHARED_TRANSACTION, f"web-beacon:{SHARED_RSID}"}
    return replace(
        data,
        rsids=[r for r in data.rsids if r not in shared],
        visitor_ids=[v for v in data.visitor_ids if v not in shared],
        transaction_ids=[t for t in data.transaction_ids if t not in shared],
        global_ids=[g for g in data.global_ids if GlobalID.from_id(g).node_id not in shared],
    )


SIZE_GUARDS = {"QUERY_TOO_COSTLY", "QUERY_TOO_LARGE", "TOO_MANY_ALIASES", "GRAPHQL_PARSE_FAILED"}  # a batch too big: split it
REFUSALS = SIZE_GUARDS | {"QUERY_TOO_DEEP", "GRAPHQL_VALIDATION_FAILED", "BAD_USER_INPUT"}


class Runner:
    """Runs operations as one caller through the schema, many variants in one document under
    aliases, and answers each variant on its own: its data and the errors at its alias."""

    def __init__(self, store, caller) -> None:
        self.store, self.caller = store, caller

    async def run(self, variants: list[Variant]) -> list[dict]:
        answers: list[dict] = []
        for batch in packed(variants):
            answers += await self._batch(batch)
        return answers

    async def _batch(self, variants: list[Variant]) -> list[dict]:
        document, variables, aliases = batched(variants)
        result = await schema.execute(document, variable_values=variables, context_value=Context(self.store, self.caller))
        errors = [e.formatted for e in result.errors or ()]
        codes_met = {(e.get("extensions") or {}).get("code") for e in errors}
        # Too big, or one variant's error took all the data with it (a null payload at the root): one by one.
        if len(variants) > 1 and (codes_met & SIZE_GUARDS or (result.data is None and errors)):
            half = len(variants) // 2
            return await self._batch(variants[:half]) + await self._batch(variants[half:])
        refused = [e for e in errors if (e.get("extensions") or {}).get("code") in REFUSALS]
        where = ", ".join(sorted({o.where for o, _ in variants}))
        assert not refused, f"{where}: the walk built an operation the server refuses: {refused}\n{document}"
        return [
            {"data": (result.data or {}).get(alias), "errors": [e for e in errors if (e.get("path") or [None])[0] == alias]}
            for alias in aliases
        ]

    async def run_all(self, operations: list[Operation]) -> dict[tuple[str, int], dict]:
        variants = [(o, n) for o in operations for n in range(len(o.variants))]
        return {(o.document, n): answer for (o, n), answer in zip(variants, await self.run(variants), strict=True)}

    async def subscribe(self, operation: Operation, variables: dict) -> list[dict]:
        """The first answers of a subscription (up to three, or what comes within a second)."""
        context = Context(self.store, self.caller)
        stream = await schema.subscribe(operation.document, variable_values=variables, context_value=context)
        if not hasattr(stream, "__aiter__"):
            return [{"data": stream.data, "errors": [e.formatted for e in stream.errors or ()]}]
        answers: list[dict] = []
        try:
            async with asyncio.timeout(1):
                async for result in stream:
                    answers.append({"data": result.data, "errors": [e.formatted for e in result.errors or ()]})
                    if len(answers) == 3:
                        break
        except TimeoutError:
            pass
        finally:
            await stream.aclose()
        return answers


def codes(answer: dict) -> list:
    """What a variant's answer says of its input: error codes and fields, and its payload's user errors."""
    said = [((e.get("extensions") or {}).get("code"), (e.get("extensions") or {}).get("field")) for e in answer["errors"]]
    if isinstance(answer["data"], dict):
        said += [(e.get("code"), e.get("field")) for e in answer["data"].get("userErrors") or ()]
    return said


async def of_company(store, company_id: str) -> dict[str, list]:
    found = {name: await store.find_many(name, {"companyId": company_id}) for name in EVERY_COLLECTION}
    found[collections.COMPANIES] = await store.find_many(collections.COMPANIES, {"_id": company_id})
    return found


@pytest.fixture
async def world(store, today):
    """Acme (A) and Globex (B), each with its data; B's own data answers B's operations."""
    today.now = DAY_ZERO + timedelta(days=3)
    acme, globex = await make_company(store, "Acme"), await make_company(store, "Globex")
    hits_day = DAY_ZERO + timedelta(days=1)
    return acme, await make_data(store, acme, "acme", hits_day), globex, await make_data(store, globex, "globex", hits_day)


async def test_the_walk_reaches_every_kind_of_data_when_a_company_reads_its_own(store, world):
    acme, acme_values, _, _ = world
    operations = query_operations(schema._schema, acme_values.aim())

    answers = await Runner(store, acme.admin).run_all(operations)

    text = json.dumps(list(answers.values()))
    assert acme_values.only in text and acme.id in text  # it reads A's data when A asks
    for value in ("-value", " page", " key", " tx source", " visitor source", "acme-visitor", "acme-tx", "acme-job"):
        assert value in text, value  # hit values, keys, data sources, visitors, transactions, jobs
    for typename in ("ReportSuite", "DataSource", "Job", "Problem", "Visitor", "Hit", "Transaction", "ApiKey", "ProfileValue"):
        assert f'"__typename": "{typename}"' in text, typename


async def test_no_query_returns_or_counts_anything_of_another_company(store, world):
    acme, acme_values, globex, _ = world
    operations = query_operations(schema._schema, acme_values.aim())
    runner = Runner(store, globex.admin)

    with_acme = await runner.run_all(operations)
    for name in EVERY_COLLECTION:  # A is gone: B's answers must not change
        await store.delete_many(name, {"companyId": acme.id})
    await store.delete_many(collections.COMPANIES, {"_id": acme.id})
    without_acme = await runner.run_all(operations)

    for key, answer in with_acme.items():
        text = json.dumps(answer)
        assert acme_values.only not in text and acme.id not in text, (key, text)
        assert answer == without_acme[key], f"{key[0]}\nwith A: {answer}\nwithout A: {without_acme[key]}"
    assert "GLOBEX-ONLY" in json.dumps(list(with_acme.values()))  # B's answers are B's data, not empty ones


async def test_no_mutation_changes_or_reveals_anything_of_another_company(store, world):
    acme, acme_values, globex, globex_values = world
    before = await of_company(store, acme.id)
    runner = Runner(store, globex.admin)

    # A's own values paired with values nobody holds: B must get the same answers for both.
    aimed = root_operations(schema._schema, only_own(acme_values).aim(), "mutation")
    missing = root_operations(schema._schema, never_existing(only_own(acme_values)).aim(), "mutation")
    for operation, twin in zip(aimed, missing, strict=True):  # a mutation's twins next to it: B's own changes come to both alike
        assert len(operation.variants) == len(twin.variants), operation.where
        count = len(operation.variants)
        answers = await runner.run([(operation, n) for n in range(count)] + [(twin, n) for n in range(count)])
        for n, (answer, twin_answer) in enumerate(zip(answers[:count], answers[count:], strict=True)):
            assert acme_values.only not in json.dumps(answer) and acme.id not in json.dumps(answer), (operation.where, answer)
            assert codes(answer) == codes(twin_answer), (
                f"{operation.where} #{n}: {codes(answer)} for A's ids, {codes(twin_answer)} for none"
            )
    # and with the values both hold: B's own report suite, visitor and transaction
    shared = root_operations(schema._schema, acme_values.aim(), "mutation")
    answers = await runner.run([(o, n) for o in shared for n in range(len(o.variants))])
    assert acme_values.only not in json.dumps(answers) and acme.id not in json.dumps(answers)
    worker = processing.Worker(store)
    while await worker.run_once():
        pass

    assert await of_company(store, acme.id) == before
    assert globex_values.only  # B's data was there to be changed


async def test_no_subscription_streams_anything_of_another_company(store, world):
    acme, acme_values, globex, _ = world
    runner = Runner(store, globex.admin)
    aimed = root_operations(schema._schema, only_own(acme_values).aim(), "subscription")
    missing = root_operations(schema._schema, never_existing(only_own(acme_values)).aim(), "subscription")
    before = await of_company(store, acme.id)

    for operation, twin in zip(aimed, missing, strict=True):
        for variables, twin_variables in zip(operation.variants, twin.variants, strict=True):
            answers = await runner.subscribe(operation, variables)
            twin_answers = await runner.subscribe(twin, twin_variables)
            assert acme_values.only not in json.dumps(answers) and acme.id not in json.dumps(answers), (operation.where, answers)
            assert [codes(a) for a in answers] == [codes(a) for a in twin_answers], operation.where

    assert await of_company(store, acme.id) == before


def test_the_walk_covers_every_root_field_of_the_schema():
    aim = Aim(["r"], ["v"], ["t"], ["j"], [str(GlobalID("ReportSuite", "r"))], upload_file)
    walked = {o.where.split(".")[0] for o in query_operations(schema._schema, aim)}
    mutations = {o.where for o in root_operations(schema._schema, aim, "mutation")}
    subscriptions = {o.where for o in root_operations(schema._schema, aim, "subscription")}

    assert walked == set(schema._schema.query_type.fields)
    assert mutations == set(schema._schema.mutation_type.fields)
    assert subscriptions == set(getattr(schema._schema.subscription_type, "fields", {}))
