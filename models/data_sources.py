"""Data sources: offline feeds attached to a report suite, and the template each one hands out."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any

from models.fields import DATE, TRANSACTION_ID, VISITOR_ID, Field, Kind, allowed_headers, by_header
from models.problems import Problem, invalid
from models.text import check_name, with_article

MAX_COLUMNS = 300
WEB_BEACON_PREFIX = "web-beacon:"


class Category(str, Enum):
    WEB_BEACON = "WEB_BEACON"
    GENERIC = "GENERIC"
    CALL_CENTER = "CALL_CENTER"
    AD_SERVER = "AD_SERVER"
    EMAIL = "EMAIL"


class Integration(str, Enum):
    """How a source's rows are tied to online data (DOMAIN.md's three kinds, plus online)."""

    ONLINE = "ONLINE"
    SUMMARY = "SUMMARY"
    TRANSACTION_ID = "TRANSACTION_ID"
    VISITOR_ID = "VISITOR_ID"


class SourceType(str, Enum):
    WEB_BEACON = "WEB_BEACON"
    GENERIC_SUMMARY = "GENERIC_SUMMARY"
    GENERIC_TRANSACTION_ID = "GENERIC_TRANSACTION_ID"
    CALL_CENTER_VISITOR_ID = "CALL_CENTER_VISITOR_ID"
    AD_SERVER = "AD_SERVER"
    EMAIL = "EMAIL"


class Status(str, Enum):
    ACTIVE = "ACTIVE"
    DEACTIVATED = "DEACTIVATED"


@dataclass(frozen=True)
class TypeEntry:
    type: SourceType
    category: Category
    label: str
    integration: Integration

    @property
    def id_header(self) -> Field | None:
        """The column that links rows to online data, which the template must have."""
        return {Integration.TRANSACTION_ID: TRANSACTION_ID, Integration.VISITOR_ID: VISITOR_ID}.get(self.integration)


CATALOGUE = {
    entry.type: entry
    for entry in [
        TypeEntry(SourceType.WEB_BEACON, Category.WEB_BEACON, "Web beacon", Integration.ONLINE),
        TypeEntry(SourceType.GENERIC_SUMMARY, Category.GENERIC, "Generic Summary Data Source (Summary Data Only)", Integration.SUMMARY),
        TypeEntry(SourceType.GENERIC_TRANSACTION_ID, Category.GENERIC, "Generic Data Source (Transaction ID)", Integration.TRANSACTION_ID),
        TypeEntry(SourceType.CALL_CENTER_VISITOR_ID, Category.CALL_CENTER, "Call Center Data Source (Visitor ID)", Integration.VISITOR_ID),
        TypeEntry(SourceType.AD_SERVER, Category.AD_SERVER, "Ad Server Data Source (Summary Data Only)", Integration.SUMMARY),
        TypeEntry(SourceType.EMAIL, Category.EMAIL, "Email Campaign Data Source (Summary Data Only)", Integration.SUMMARY),
    ]
}
OFFLINE_TYPES = [t for t in SourceType if t is not SourceType.WEB_BEACON]


@dataclass(frozen=True)
class Column:
    header: str  # canonical header
    friendly_name: str


@dataclass(frozen=True)
class DataSource:
    id: str
    company_id: str
    rsid: str
    name: str
    type: SourceType
    created_at: datetime | None
    dimensions: tuple[Column, ...] = ()
    metrics: tuple[Column, ...] = ()
    stop_on_errors: bool = False
    status: Status = Status.ACTIVE
    locked_by: str | None = None  # the job that failed with stop-on-errors on; uploads wait for a restart
    version: int = 1

    @property
    def entry(self) -> TypeEntry:
        return CATALOGUE[self.type]

    @property
    def built_in(self) -> bool:
        return self.type is SourceType.WEB_BEACON

    def template_file(self) -> str | None:
        """The tab-delimited template: type and id comment, friendly names comment, header row."""
        if self.built_in:
            return None
        columns = self._template_columns()
        lines = [
            f"# {self.entry.label} template file (ds_id: {self.id})",
            "\t".join(["#"] + [c.friendly_name for c in columns]),
            "\t".join([DATE] + [c.header for c in columns]),
        ]
        return "\n".join(lines) + "\n"

    def _template_columns(self) -> list[Column]:
        # The linking id goes last, as in the suites' own templates.
        id_header = self.entry.id_header
        linking = [c for c in self.dimensions if id_header and c.header == id_header.header]
        others = [c for c in self.dimensions if c not in linking]
        return others + list(self.metrics) + linking

    def to_doc(self) -> dict[str, Any]:
        return {
            "_id": self.id,
            "companyId": self.company_id,
            "rsid": self.rsid,
            "name": self.name,
            "type": self.type.value,
            "createdAt": self.created_at,
            "dimensions": [_column_doc(c) for c in self.dimensions],
            "metrics": [_column_doc(c) for c in self.metrics],
            "stopOnErrors": self.stop_on_errors,
            "status": self.status.value,
            "lockedBy": self.locked_by,
            "version": self.version,
        }

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> "DataSource":
        return cls(
            id=doc["_id"],
            company_id=doc["companyId"],
            rsid=doc["rsid"],
            name=doc["name"],
            type=SourceType(doc["type"]),
            created_at=doc["createdAt"],
            dimensions=tuple(Column(c["header"], c["friendlyName"]) for c in doc["dimensions"]),
            metrics=tuple(Column(c["header"], c["friendlyName"]) for c in doc["metrics"]),
            stop_on_errors=doc["stopOnErrors"],
            status=Status(doc["status"]),
            locked_by=doc["lockedBy"],
            version=doc["version"],
        )


def web_beacon(rsid: str, company_id: str) -> DataSource:
    """The built-in online source every report suite lists first; it is not stored."""
    return DataSource(WEB_BEACON_PREFIX + rsid, company_id, rsid, "Web beacon", SourceType.WEB_BEACON, None)


@dataclass
class ColumnCheck:
    """Columns as given, checked: the canonical columns and every problem found."""

    dimensions: list[Column] = field(default_factory=list)
    metrics: list[Column] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def check_columns(entry: TypeEntry, dimensions: Sequence[tuple[str, str | None]], metrics: Sequence[tuple[str, str | None]]) -> ColumnCheck:
    """Check (header, friendly name) pairs against the header catalogue and the type."""
    if len(dimensions) + len(metrics) > MAX_COLUMNS:
        count = len(dimensions) + len(metrics)
        return ColumnCheck(problems=[Problem("dimensions", "TOO_MANY", f"a data source has at most {MAX_COLUMNS} columns, not {count}.")])
    check = ColumnCheck()
    seen: set[str] = set()
    given_columns: list[tuple[str, Kind, Sequence[tuple[str, str | None]], list[Column]]] = [
        ("dimensions", Kind.DIMENSION, dimensions, check.dimensions),
        ("metrics", Kind.METRIC, metrics, check.metrics),
    ]
    for field_name, kind, given, into in given_columns:
        for index, (text, friendly) in enumerate(given):
            checked = _check_column(f"{field_name}.{index}", kind, text, friendly, seen)
            if isinstance(checked, Problem):
                check.problems.append(checked)
            else:
                into.append(checked)
                seen.add(checked.header)
    check.problems += _check_shape(entry, check, seen)
    return check


def _check_column(where: str, kind: Kind, text: str, friendly: str | None, seen: set[str]) -> Column | Problem:
    found = by_header(text)
    if found is None or found.header is None:
        message = f"'{text}' is not a known {kind.value.lower()} header; headers keep their spaces. Allowed: {allowed_headers(kind)}."
        return Problem(f"{where}.header", "UNKNOWN_HEADER", message)
    if found.kind is not kind:
        return invalid(f"{where}.header", f"'{found.header}' is a {found.kind.value.lower()}, not a {kind.value.lower()}.")
    if found.header in seen:
        return invalid(f"{where}.header", f"'{found.header}' is listed twice.")
    name = found.header if friendly is None else friendly
    problems = check_name(f"{where}.friendlyName", name)
    if problems:
        return problems[0]
    return Column(found.header, name.strip())


def _check_shape(entry: TypeEntry, check: ColumnCheck, headers: set[str]) -> list[Problem]:
    problems = []
    if not check.dimensions and not any((p.field or "").startswith("dimensions") for p in check.problems):
        problems.append(invalid("dimensions", "a data source needs at least one dimension column."))
    if not check.metrics and not any((p.field or "").startswith("metrics") for p in check.problems):
        problems.append(invalid("metrics", "a data source needs at least one metric column."))
    for id_header in (TRANSACTION_ID, VISITOR_ID):
        if id_header is entry.id_header and id_header.header not in headers:
            problems.append(invalid("dimensions", f"{with_article(entry.label)} needs the '{id_header.header}' column."))
        if id_header is not entry.id_header and id_header.header in headers:
            problems.append(invalid("dimensions", f"'{id_header.header}' does not belong in {with_article(entry.label)}."))
    return problems


def _column_doc(column: Column) -> dict[str, Any]:
    return {"header": column.header, "friendlyName": column.friendly_name}
