"""Companies (tenants), their API keys and the roles a key grants."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from models.keys import new_id

KEY_PREFIX = "odg_"
NEVER = 0  # a time in epoch milliseconds that has not come (see ApiKey)
NOT_REVOKED: dict[str, Any] = {"revokedMs": {"$in": [NEVER, None]}}  # None: keys stored before keys could be revoked
SHOWN_PREFIX_LENGTH = len(KEY_PREFIX) + 4  # 'odg_ab12': enough to tell a company's keys apart, far too little to guess one


class Role(str, Enum):
    READER = "READER"
    UPLOADER = "UPLOADER"
    ADMIN = "ADMIN"

    def allows(self, needed: "Role") -> bool:
        order = [Role.READER, Role.UPLOADER, Role.ADMIN]
        return order.index(self) >= order.index(needed)


@dataclass(frozen=True)
class Caller:
    """Who is asking: the company an API key belongs to and the role it grants."""

    company_id: str
    role: Role
    key_id: str


@dataclass(frozen=True)
class ApiKey:
    """An API key as its company's ADMINs see it: never the secret or its hash.

    The times set after a key is made (last used, revoked) are stored as epoch
    milliseconds, 0 for never: they are `$set` on the stored key, some wire servers store a
    `$set` datetime as a string, and not all of them find a stored null by `None`."""

    id: str
    company_id: str
    role: Role
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def caller(self) -> Caller:
        return Caller(company_id=self.company_id, role=self.role, key_id=self.id)

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> "ApiKey":
        return cls(
            id=doc["_id"],
            company_id=doc["companyId"],
            role=Role(doc["role"]),
            name=doc.get("name") or "",  # keys made before keys had names
            prefix=doc.get("prefix") or KEY_PREFIX,
            created_at=doc["createdAt"],
            last_used_at=from_ms(doc.get("lastUsedMs")),
            revoked_at=from_ms(doc.get("revokedMs")),
        )


def to_ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def from_ms(ms: int | None) -> datetime | None:
    return datetime.fromtimestamp(ms / 1000, UTC) if ms else None


def hash_key(key: str) -> str:
    # Keys are 256 random bits, so a fast unsalted hash is enough to keep them out of the
    # store without making them guessable.
    return hashlib.sha256(key.encode()).hexdigest()


def new_company(name: str, now: datetime) -> dict[str, Any]:
    return {"_id": new_id(), "name": name, "createdAt": now}


def new_api_key(company_id: str, role: Role, name: str, now: datetime) -> tuple[str, dict[str, Any]]:
    """A fresh key (shown once) and the document that stores only its hash and first characters."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    doc = {
        "_id": new_id(),
        "companyId": company_id,
        "role": role.value,
        "name": name,
        "prefix": key[:SHOWN_PREFIX_LENGTH],
        "hash": hash_key(key),
        "createdAt": now,
        "lastUsedMs": NEVER,
        "revokedMs": NEVER,
    }
    return key, doc
