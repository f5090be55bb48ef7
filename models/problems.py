"""Expected failures: what was wrong, where, and a stable code for clients."""

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Problem:
    field: str | None
    code: str
    message: str


class Rejected(Exception):
    """Raised by use-cases when the caller's request cannot be carried out as asked.

    `extensions` is read by graphql-core, so a Rejected that escapes a resolver reaches
    the client as an error with its code instead of being masked.
    """

    def __init__(self, *problems: Problem) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.problems = problems

    @property
    def extensions(self) -> dict[str, Any]:
        first = self.problems[0]
        return {"code": first.code, "field": first.field}


class Denied(Rejected):
    """The caller may not ask this at all: no valid key, or a role too weak."""


def not_found(field: str, what: str) -> Rejected:
    return Rejected(Problem(field, "NOT_FOUND", f"{what} was not found."))


def invalid(field: str, message: str) -> Problem:
    return Problem(field, "INVALID", message)
