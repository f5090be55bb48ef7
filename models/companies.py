"""Companies (tenants), their API keys and the roles a key grants."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from models.keys import new_id

KEY_PREFIX = "odg_"


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


def hash_key(key: str) -> str:
    # Keys are 256 random bits, so a fast unsalted hash is enough to keep them out of the
    # store without making them guessable.
    return hashlib.sha256(key.encode()).hexdigest()


def new_company(name: str, now: datetime) -> dict[str, Any]:
    return {"_id": new_id(), "name": name, "createdAt": now}


def new_api_key(company_id: str, role: Role, now: datetime) -> tuple[str, dict[str, Any]]:
    """A fresh key (shown once) and the document that stores only its hash."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    return key, {"_id": new_id(), "companyId": company_id, "role": role.value, "hash": hash_key(key), "createdAt": now}
