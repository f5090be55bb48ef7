"""Operations built from the schema itself, so that the tests that must cover every field
(tenancy in test_scenario_tenancy.py, roles in test_scenario_roles.py) cover a field added
later without anyone remembering to.

- `query_operations` walks every root Query field down every object, list and connection
  (each type once on a path), one small operation per object reached, selecting its leaf
  fields; a field whose arguments take many alternatives (`node(id:)` with every global
  id) is expanded one level, as what lies below it is reached from the other roots.
- `root_operations` makes one operation per Mutation or Subscription field, selecting its
  payload whole (to a depth).
- Arguments and input fields are built from their types and from RULES: by `Owner.name`,
  then by `name`, each a value, `Each([...])` alternatives (the operation is run once per
  alternative) or OMIT. An argument (or a required input field) of a type RULES has no
  rule for stops the walk with a `CannotBuild` that says what to add.
"""

import functools
import io
import itertools
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from graphql import (
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    Undefined,
    get_named_type,
    is_abstract_type,
    is_leaf_type,
    parse,
)
from strawberry.relay import GlobalID

from graph.extensions.max_aliases import MAX_ALIASES
from graph.extensions.max_query_fields import MAX_FIELDS, FieldCount

OMIT = object()
_MISSING = object()
MAX_DEPTH = 8  # objects along one path: within the depth guard, deep enough for every path of today's schema
PAYLOAD_DEPTH = 2  # a payload and what it holds; the query walk goes deeper into the same types
MANY = 4  # alternatives past which a field is expanded one level only
MAX_VARIANTS = 64  # alternatives of one operation, all arguments together


@dataclass(frozen=True)
class Each:
    """Alternatives: the operation is run once with each."""

    values: list[Any]


class CannotBuild(AssertionError):
    pass


@dataclass
class Aim:
    """What the operations name: the rsids, ids and names of the company they aim at."""

    rsids: list[str]
    visitor_ids: list[str]
    transaction_ids: list[str]
    job_names: list[str]
    global_ids: list[str]
    upload: Callable[[], Any]  # a fresh file for an Upload variable

    def rules(self) -> dict[str, Any]:
        return {
            # paging and filters of lists
            "first": 2,
            "after": OMIT,
            "status": OMIT,
            "lookbackDays": 30,
            "ReportSuite.jobs.name": Each(self.job_names),
            "DataSource.jobs.name": Each(self.job_names),
            "ReportSuite.evarSetting.number": 1,
            # reports: every way of crediting, over the default range (the last 30 days)
            "ReportInput.dimension": "evar1",
            "ReportInput.metrics": ["occurrences", "revenue", "visitors"],
            "ReportInput.participation": Each(["NONE", "VISIT", "VISITOR"]),
            "ReportInput.granularity": Each(["TOTAL", "DAY"]),
            # what names the aimed-at company's objects
            "rsid": Each(self.rsids),
            "visitorId": Each(self.visitor_ids),
            "transactionId": Each(self.transaction_ids),
            "jobName": Each(self.job_names),
            "ID": Each(self.global_ids),  # every ID, by its type: each of the company's global ids
            # the rest of the inputs: values the use-cases take, whoever's they are
            "name": "Probe",
            "timestamp": "2026-01-01T10:00:00Z",
            "HitInput.evars": [{"number": 1, "value": "probe"}],
            "HitInput.events": [{"number": 1, "value": 1}],
            "header": "Evar 1",
            "CreateDataSourceInput.category": "GENERIC",
            "CreateDataSourceInput.type": "GENERIC_SUMMARY",
            "CreateDataSourceInput.metrics": [{"header": "Event 1"}],
            "ConfigureDataSourceInput.name": "Probe",
            "UpdateReportSuiteInput.name": "Probe",
            "columns": ["Date", "Evar 1"],
            "rows": [["01/01/2026", "probe"]],
            "number": 1,
            "value": "probe",
            "Boolean": True,
            "Float": 1.0,
            "Upload": Each([self.upload()]),
        }


@dataclass(frozen=True)
class Step:
    """One field on a path, with its arguments ((name, type, alternatives)) and, below an
    interface, the type its selection is for."""

    name: str
    arguments: tuple[tuple[str, str, tuple[Any, ...]], ...] = ()
    on: str | None = None


@dataclass
class Operation:
    """One document and the variables of each of its variants."""

    kind: str  # query, mutation, subscription
    where: str  # the path, for messages
    document: str
    variants: list[dict[str, Any]] = field(default_factory=list)
    body: str = ""  # the root field's selection, `$v0`... its variables
    declared: list[tuple[str, str]] = field(default_factory=list)  # (variable, type)

    @functools.cached_property
    def fields(self) -> int:
        """The fields one variant selects, as the server's field limit counts them."""
        return FieldCount(parse(self.document)).total()


Variant = tuple[Operation, int]  # an operation and the index of one of its variants


def packed(variants: list[Variant]) -> list[list[Variant]]:
    """The variants in order, in batches within the server's field and alias limits."""
    batches: list[list[Variant]] = []
    fields = 0
    for variant in variants:
        size = variant[0].fields
        if not batches or fields + size > MAX_FIELDS or len(batches[-1]) >= MAX_ALIASES:
            batches.append([])
            fields = 0
        batches[-1].append(variant)
        fields += size
    return batches


def batched(variants: list[Variant]) -> tuple[str, dict[str, Any], list[str]]:
    """Variants of operations of one kind in one document, each under an alias of its own:
    the document, its variables and the aliases (one document is checked and validated once,
    as many are not). Mutations in one document run one after another, in this order."""
    parts, variables, aliases, declared = [], {}, [], []
    for position, (operation, n) in enumerate(variants):
        alias = f"a{position}"
        aliases.append(alias)
        parts.append(f"{alias}: " + re.sub(r"\$v(\d+)", rf"${alias}_v\1", operation.body))
        for name, kind in operation.declared:
            declared.append(f"${alias}_{name}: {kind}")
            variables[f"{alias}_{name}"] = operation.variants[n][name]
    heading = f"({', '.join(declared)})" if declared else ""
    return f"{variants[0][0].kind}{heading} {{ {' '.join(parts)} }}", variables, aliases


def _required(slot: GraphQLArgument | GraphQLInputField) -> bool:
    return isinstance(slot.type, GraphQLNonNull) and slot.default_value is Undefined


def type_name(kind: Any) -> str:
    if isinstance(kind, GraphQLNonNull):
        return f"{type_name(kind.of_type)}!"
    if isinstance(kind, GraphQLList):
        return f"[{type_name(kind.of_type)}]"
    return kind.name


class Builder:
    def __init__(self, schema: GraphQLSchema, aim: Aim) -> None:
        self.schema, self.rules = schema, aim.rules()

    # --- values ----------------------------------------------------------------------

    def arguments(self, owner: str, field_name: str, definition: GraphQLField) -> tuple[tuple[str, str, tuple[Any, ...]], ...]:
        built = []
        for name, argument in definition.args.items():
            alternatives = self.value(f"{owner}.{field_name}", name, argument, required=True)
            if alternatives != [OMIT]:
                built.append((name, type_name(argument.type), tuple(alternatives)))
        return tuple(built)

    def value(self, owner: str, name: str, slot: GraphQLArgument | GraphQLInputField, required: bool) -> list[Any]:
        """The alternatives for an argument or input field; [OMIT] to leave it out. An
        optional input field is left out unless a rule names it with its owner."""
        rule = self.rules.get(f"{owner}.{name}", _MISSING)
        if rule is _MISSING and not required:
            return [OMIT]
        if rule is _MISSING:
            rule = self.rules.get(name, _MISSING)
        if rule is _MISSING:
            return self.by_type(owner, name, slot.type)
        return rule.values if isinstance(rule, Each) else [rule]

    def by_type(self, owner: str, name: str, kind: GraphQLInputType) -> list[Any]:
        nullable = kind.of_type if isinstance(kind, GraphQLNonNull) else kind
        if isinstance(nullable, GraphQLList):
            return [[item] for item in self.by_type(owner, name, nullable.of_type)]
        if isinstance(nullable, GraphQLInputObjectType):
            return self.input_object(nullable)
        if isinstance(nullable, GraphQLEnumType):
            return [next(iter(nullable.values))]
        if isinstance(nullable, GraphQLScalarType) and nullable.name in self.rules:
            rule = self.rules[nullable.name]
            return rule.values if isinstance(rule, Each) else [rule]
        raise CannotBuild(
            f"{owner}.{name} ({type_name(kind)}): no rule builds it. Add one to Aim.rules in tests/schema_walk.py, "
            f"as '{owner}.{name}' or '{name}', with a value the use-case takes (Each([...]) for the aimed-at company's ids)."
        )

    def input_object(self, kind: GraphQLInputObjectType) -> list[dict[str, Any]]:
        fields = []
        for name, definition in kind.fields.items():
            required = _required(definition)
            alternatives = self.value(kind.name, name, definition, required)
            if alternatives != [OMIT]:
                fields.append((name, alternatives))
        combos = itertools.islice(itertools.product(*(alts for _, alts in fields)), MAX_VARIANTS)
        return [{name: value for (name, _), value in zip(fields, combo, strict=True)} for combo in combos]

    # --- selections ------------------------------------------------------------------

    def leaves(self, kind: GraphQLNamedType) -> list[str]:
        assert isinstance(kind, GraphQLObjectType)
        names = []
        for name, definition in kind.fields.items():
            if is_leaf_type(get_named_type(definition.type)):
                if definition.args:
                    raise CannotBuild(f"{kind.name}.{name}: a leaf field with arguments; teach tests/schema_walk.py to select it.")
                names.append(name)
        return names

    def children(self, kind: GraphQLObjectType) -> Iterator[tuple[str, GraphQLField, list[GraphQLObjectType], bool]]:
        """Each object-typed field: its name, definition, the object types it may be, and
        whether it is abstract (selected with `... on`)."""
        for name, definition in kind.fields.items():
            named = get_named_type(definition.type)
            if is_leaf_type(named):
                continue
            if is_abstract_type(named):
                yield name, definition, list(self.schema.get_possible_types(named)), True  # type: ignore[arg-type]
            else:
                yield name, definition, [named], False  # type: ignore[list-item]

    def payload(self, kind: GraphQLObjectType, depth: int, on_path: frozenset[str]) -> str:
        """Every field of `kind`, objects to `depth` more levels, each type once on a path."""
        parts = ["__typename", *self.leaves(kind)]
        if depth > 0:
            for name, definition, kinds, abstract in self.children(kind):
                if any(_required(a) for a in definition.args.values()):
                    continue  # a nested field that needs arguments: reached by the query walk
                inner = []
                for child in kinds:
                    if child.name in on_path:
                        continue
                    body = self.payload(child, depth - 1, on_path | {child.name})
                    inner.append(f"... on {child.name} {{ {body} }}" if abstract else body)
                if inner:
                    parts.append(f"{name} {{ {' '.join(inner)} }}")
        return " ".join(parts)


def _render(steps: list[Step], leaves: list[str]) -> tuple[str, list[tuple[str, str, tuple[Any, ...]]]]:
    """The selection along `steps` ending in `leaves`, and its variables in order."""
    variables: list[tuple[str, str, tuple[Any, ...]]] = []
    body = " ".join(["__typename", *leaves])
    for step in reversed(steps):
        if step.on:
            body = f"__typename ... on {step.on} {{ {body} }}"
        arguments = []
        for name, kind, alternatives in step.arguments:
            variable = f"v{len(variables)}"
            variables.append((variable, kind, alternatives))
            arguments.append(f"{name}: ${variable}")
        call = f"{step.name}({', '.join(arguments)})" if arguments else step.name
        body = f"{call} {{ {body} }}"
    return body, variables


def _operation(kind: str, where: str, body: str, variables: list[tuple[str, str, tuple[Any, ...]]]) -> Operation:
    declared = ", ".join(f"${name}: {kind_}" for name, kind_, _ in variables)
    document = f"{kind}{f'({declared})' if declared else ''} {{ {body} }}"
    combos = itertools.islice(itertools.product(*(alts for _, _, alts in variables)), MAX_VARIANTS)
    variants = [{name: value for (name, _, _), value in zip(variables, combo, strict=True)} for combo in combos]
    return Operation(kind, where, document, variants, body, [(name, kind_) for name, kind_, _ in variables])


def query_operations(schema: GraphQLSchema, aim: Aim) -> list[Operation]:
    builder = Builder(schema, aim)
    operations: list[Operation] = []
    root = schema.query_type
    assert root is not None

    def walk(kind: GraphQLObjectType, steps: list[Step], on_path: frozenset[str], depth_left: int) -> None:
        body, variables = _render(steps, builder.leaves(kind))
        operations.append(_operation("query", ".".join(s.name for s in steps), body, variables))
        if depth_left <= 0:
            return
        for name, definition, kinds, abstract in builder.children(kind):
            arguments = builder.arguments(kind.name, name, definition)
            reachable = [child for child in kinds if child.name not in on_path]
            many = any(len(alternatives) > MANY for _, _, alternatives in arguments)
            for child in reachable:
                step = Step(name, arguments, child.name if abstract else None)
                walk(child, [*steps, step], on_path | {child.name}, 0 if many else depth_left - 1)

    walk(root, [], frozenset({root.name}), MAX_DEPTH)
    return [o for o in operations if o.where]  # the root alone selects nothing of interest


def root_operations(schema: GraphQLSchema, aim: Aim, kind: str) -> list[Operation]:
    """One operation per field of the Mutation or Subscription type (none when it has none)."""
    root = schema.mutation_type if kind == "mutation" else schema.subscription_type
    if root is None:
        return []
    builder = Builder(schema, aim)
    operations = []
    for name, definition in root.fields.items():
        arguments = builder.arguments(root.name, name, definition)
        named = get_named_type(definition.type)
        selection = f" {{ {builder.payload(named, PAYLOAD_DEPTH, frozenset({named.name}))} }}" if not is_leaf_type(named) else ""  # type: ignore[arg-type]
        variables = []
        calls = []
        for argument, argument_type, alternatives in arguments:
            variable = f"v{len(variables)}"
            variables.append((variable, argument_type, alternatives))
            calls.append(f"{argument}: ${variable}")
        call = f"{name}({', '.join(calls)})" if calls else name
        operations.append(_operation(kind, name, call + selection, variables))
    return operations


# --- a company's data to aim at, made through the public API --------------------------

SHARED_RSID = "shop"  # every company made here holds a report suite of this rsid
SHARED_VISITOR = "v-shared"  # and a visitor and a transaction id of these, in it
SHARED_TRANSACTION = "tx-shared"
_CREATE_SUITE = "mutation($input: CreateReportSuiteInput!) { createReportSuite(input: $input) { userErrors { code } } }"
_RECORDING = "mutation($rsid: String!) { setTransactionIdRecording(input: {rsid: $rsid, enabled: true}) { userErrors { code } } }"
_CREATE_SOURCE = "mutation($input: CreateDataSourceInput!) { createDataSource(input: $input) { dataSource { id } userErrors { code } } }"
_COLLECT = "mutation($input: CollectHitsInput!) { collectHits(input: $input) { collectedCount userErrors { code } } }"
_SEND_ROWS = "mutation($input: UploadDataSourceRowsInput!) { uploadDataSourceRows(input: $input) { job { id } userErrors { code } } }"
_CREATE_KEY = "mutation($name: String!) { createApiKey(input: {role: READER, name: $name}) { apiKey { id } userErrors { code } } }"
_GLOBAL_IDS = """
query($rsid: String!) {
  reportSuite(rsid: $rsid) {
    id
    dataSources(first: 10) { edges { node { id jobs(first: 10) { edges { node { id } } } } } }
    visitors(first: 10) { edges { node { id hits(first: 10) { edges { node { id } } } } } }
    transactions(first: 10) { edges { node { id } } }
  }
  apiKeys(first: 10) { edges { node { id } } }
}"""


@dataclass
class CompanyData:
    """What `make_data` made: the values operations name, and the token every value no
    operation sends carries (to look for it in another company's answers)."""

    only: str
    rsids: list[str]
    visitor_ids: list[str]
    transaction_ids: list[str]
    job_names: list[str]
    global_ids: list[str]

    def aim(self) -> Aim:
        return Aim(self.rsids, self.visitor_ids, self.transaction_ids, self.job_names, self.global_ids, upload_file)


def upload_file() -> Any:
    from starlette.datastructures import UploadFile

    return UploadFile(io.BytesIO(b"Date\tEvar 3\tEvent 5\ttransactionID\n01/01/2026\tprobe\t1\ttx-shared\n"), filename="probe.txt")


async def make_data(store: Any, company: Any, marker: str, day: datetime) -> CompanyData:
    """Report suites (SHARED_RSID and '<marker>.private'), a Transaction ID and a visitor ID
    data source, hits of two visitors with two transaction ids, a rows job on each source
    (the visitor one stops on its error: locked), a READER key; processed by the worker.
    Hits are on `day`, rows the day after."""
    from graph.context import Context
    from graph.schema import schema
    from resolvers import processing

    async def run(caller: Any, document: str, **variables: Any) -> dict:
        result = await schema.execute(document, variable_values=variables, context_value=Context(store, caller))
        assert result.errors is None, result.errors
        payloads = [p for p in (result.data or {}).values() if isinstance(p, dict)]
        assert all(not p.get("userErrors") for p in payloads), result.data
        return result.data or {}

    only = f"{marker.upper()}-ONLY"
    own_rsid = f"{marker}.private"
    admin, uploader = company.admin, company.uploader
    for rsid in (SHARED_RSID, own_rsid):
        await run(admin, _CREATE_SUITE, input={"rsid": rsid, "name": f"{only} suite", "timeZone": "America/New_York"})
        await run(admin, _RECORDING, rsid=rsid)
    sources = {}
    for kind, source_type, id_header, category, stop in (
        ("tx", "GENERIC_TRANSACTION_ID", "transactionID", "GENERIC", False),
        ("visitor", "CALL_CENTER_VISITOR_ID", "visitorID", "CALL_CENTER", True),
    ):
        source = {
            "rsid": SHARED_RSID, "name": f"{only} {kind} source", "category": category, "type": source_type,
            "dimensions": [{"header": "Evar 3"}, {"header": id_header}], "metrics": [{"header": "Event 5"}], "stopOnErrors": stop,
        }  # fmt: skip
        sources[kind] = (await run(admin, _CREATE_SOURCE, input=source))["createDataSource"]["dataSource"]["id"]
    visitors = [SHARED_VISITOR, f"{marker}-visitor"]
    transactions = [SHARED_TRANSACTION, f"{marker}-tx"]
    hits = [
        {"visitorId": visitor, "timestamp": (day + timedelta(hours=hour)).isoformat(), "evars": [{"number": 1, "value": f"{only}-value"}],
         "pageName": f"{only} page", "transactionId": transaction}
        for hour, (visitor, transaction) in enumerate(zip(visitors, transactions, strict=True))
    ]  # fmt: skip
    await run(uploader, _COLLECT, input={"rsid": SHARED_RSID, "hits": hits})
    row_day = f"{day + timedelta(days=1):%m/%d/%Y}"
    jobs = {
        "tx": (["Date", "Evar 3", "Event 5", "transactionID"], [[row_day, f"{only} deal", "1", t] for t in transactions]),
        "visitor": (["Date", "Evar 3", "Event 5", "visitorID"], [[row_day, f"{only} call", "1", v] for v in visitors]),
    }
    for kind, (columns, rows) in jobs.items():
        bad_row = [row_day, "x", "not a number", rows[0][3]]  # a problem on line 3; the visitor source stops on it
        job = {"dataSourceId": sources[kind], "jobName": f"{marker}-job", "columns": columns, "rows": [*rows, bad_row], "finished": True}
        await run(uploader, _SEND_ROWS, input=job)
    await run(admin, _CREATE_KEY, name=f"{only} key")
    worker = processing.Worker(store)
    while await worker.run_once():
        pass
    found = json.dumps([await run(admin, _GLOBAL_IDS, rsid=rsid) for rsid in (SHARED_RSID, own_rsid)])
    ids = {part.split('"')[0] for part in found.split('"id": "')[1:]}
    beacons = {str(GlobalID("DataSource", f"web-beacon:{rsid}")) for rsid in (SHARED_RSID, own_rsid)}
    return CompanyData(only, [SHARED_RSID, own_rsid], visitors, transactions, [f"{marker}-job"], sorted(ids | beacons))
