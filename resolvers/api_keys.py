"""Who may do what: companies, their API keys, and the role checks every use-case makes.

A key is looked up by its hash on every request, so a revoked key fails at the next one
(open WebSockets check again too, see graph/websockets.py). Its last use is written
at most once a minute: a request costs no write of its own.

Why a request has no caller is said in one of three ways: no Authorization header, a
header without the Bearer scheme, or a key that is not valid. An unknown key and a
revoked one get the same answer, so nobody can learn from it whether a key exists (or
ever did).
"""

from dataclasses import dataclass
from datetime import timedelta

from models import clock, store
from models.companies import KEY_PREFIX, NOT_REVOKED, ApiKey, Caller, Role, hash_key, new_api_key, new_company, to_ms
from models.problems import Denied, Problem, Rejected, not_found
from models.store import CompanyStore, Doc, Store
from models.text import check_name, with_article

BEARER = "bearer "
LAST_USED_EVERY = timedelta(minutes=1)
FIRST_KEY_NAME = "First ADMIN key"
COMMAND_LINE_KEY_NAME = "Made on the command line"


@dataclass(frozen=True)
class Refusal:
    """Why a request names no caller: a stable reason and what to do about it."""

    reason: str
    message: str


NO_AUTHORIZATION = Refusal("NO_AUTHORIZATION", "This needs an API key: send it as 'Authorization: Bearer <key>'.")
NOT_BEARER = Refusal("NOT_BEARER", "The Authorization header must use the Bearer scheme: 'Authorization: Bearer <key>'.")
INVALID_KEY = Refusal("INVALID_KEY", "This API key is not valid: it is unknown or was revoked. Ask an ADMIN of your company for a key.")
UNAUTHENTICATED_MESSAGE = NO_AUTHORIZATION.message


def refusal(authorization: str | None) -> Refusal:
    """Why `authorization` names no caller, when `authenticate` found none."""
    if not authorization or not authorization.strip():
        return NO_AUTHORIZATION
    if not authorization.lower().startswith(BEARER) or not authorization[len(BEARER) :].strip():
        return NOT_BEARER
    return INVALID_KEY


async def authenticate(db: Store, authorization: str | None) -> Caller | None:
    """The caller an `Authorization: Bearer <key>` header names, or None for no valid key."""
    if not authorization or not authorization.lower().startswith(BEARER):
        return None
    key = authorization[len(BEARER) :].strip()
    if not key.startswith(KEY_PREFIX):
        return None
    doc = await db.find_one(store.API_KEYS, {"hash": hash_key(key)})
    if doc is None:
        return None
    found = ApiKey.from_doc(doc)
    if found.revoked:
        return None
    await _note_use(db, found)
    return found.caller


async def still_valid(db: Store, caller: Caller) -> bool:
    """Whether the key `caller` came with is still there and not revoked."""
    doc = await db.find_one(store.API_KEYS, {"_id": caller.key_id})
    return doc is not None and not ApiKey.from_doc(doc).revoked


async def _note_use(db: Store, key: ApiKey) -> None:
    """Keep the key's last use to the minute: a write only when the stored one is a minute old.
    The condition is in the write too, so processes that raced write once."""
    now = clock.now()
    if key.last_used_at is not None and now - key.last_used_at < LAST_USED_EVERY:
        return
    stale = {"$or": [{"lastUsedMs": {"$lte": to_ms(now - LAST_USED_EVERY)}}, {"lastUsedMs": None}]}
    await db.set_fields(store.API_KEYS, {key.id: {"lastUsedMs": to_ms(now)}}, scope=stale)


def article(role: Role) -> str:
    """'an ADMIN', 'an UPLOADER', 'a READER': the role with the article it takes."""
    return with_article(role.value)


def require(caller: Caller | None, role: Role) -> Caller:
    if caller is None:
        raise Denied(Problem(None, "UNAUTHENTICATED", UNAUTHENTICATED_MESSAGE))
    if not caller.role.allows(role):
        raise Denied(Problem(None, "FORBIDDEN", f"This needs {article(role)} key; yours is {article(caller.role)} key."))
    return caller


def tenant(db: Store, caller: Caller | None, role: Role) -> CompanyStore:
    """The store as the caller's company sees it, once the caller is known to hold `role`."""
    return db.company(require(caller, role).company_id)


# --- companies and keys, from the command line (no caller: whoever holds the store) ----


async def create_company(db: Store, name: str) -> tuple[Doc, str]:
    """A new company and its first ADMIN key (the key is returned once, never stored)."""
    problems = check_name("name", name)
    if problems:
        raise Rejected(*problems)
    company = new_company(name.strip(), clock.now())
    await db.insert(store.COMPANIES, company)
    key = await create_api_key(db, company["_id"], Role.ADMIN, FIRST_KEY_NAME)
    return company, key


async def create_api_key(db: Store, company_id: str, role: Role, name: str = COMMAND_LINE_KEY_NAME) -> str:
    if await db.find_one(store.COMPANIES, {"_id": company_id}) is None:
        raise not_found("company", f"Company '{company_id}'")
    _, secret = await _issue(db.company(company_id), role, name)
    return secret


async def company_keys(db: Store, company_id: str) -> list[ApiKey]:
    """Every key of a company, oldest first."""
    if await db.find_one(store.COMPANIES, {"_id": company_id}) is None:
        raise not_found("company", f"Company '{company_id}'")
    return [ApiKey.from_doc(doc) for doc in await db.company(company_id).find_many(store.API_KEYS, {}, [("_id", 1)])]


async def revoke_key(db: Store, key_id: str) -> ApiKey:
    return await _revoke(await _scope_of(db, key_id), key_id)


async def rotate_key(db: Store, key_id: str) -> tuple[ApiKey, str, ApiKey]:
    return await _rotate(await _scope_of(db, key_id), key_id)


async def _scope_of(db: Store, key_id: str) -> CompanyStore:
    doc = await db.find_one(store.API_KEYS, {"_id": key_id})
    if doc is None:
        raise not_found("id", f"API key '{key_id}'")
    return db.company(doc["companyId"])


# --- keys, as a company's ADMIN manages them -------------------------------------------


async def page(db: Store, caller: Caller | None, after: str | None, first: int) -> tuple[list[ApiKey], bool]:
    """The caller's company's keys, oldest first, revoked ones included."""
    docs, more = await tenant(db, caller, Role.ADMIN).find_page(store.API_KEYS, {}, "_id", False, after, first)
    return [ApiKey.from_doc(doc) for doc in docs], more


async def get_many(db: Store, caller: Caller | None, ids: list[str]) -> list[ApiKey | None]:
    """The caller's company's keys among `ids`, in order; None where it has none."""
    docs = await tenant(db, caller, Role.ADMIN).find_many(store.API_KEYS, {"_id": {"$in": list(ids)}})
    found = {doc["_id"]: ApiKey.from_doc(doc) for doc in docs}
    return [found.get(i) for i in ids]


async def create(db: Store, caller: Caller | None, role: Role, name: str) -> tuple[ApiKey, str]:
    """A new key of the caller's company; its secret is returned this once."""
    return await _issue(tenant(db, caller, Role.ADMIN), role, name)


async def revoke(db: Store, caller: Caller | None, key_id: str) -> ApiKey:
    """Revoke a key of the caller's company: it fails from the next request on."""
    return await _revoke(tenant(db, caller, Role.ADMIN), key_id)


async def rotate(db: Store, caller: Caller | None, key_id: str) -> tuple[ApiKey, str, ApiKey]:
    """A new key with the role and name of `key_id`, which is revoked: (new, its secret, old)."""
    return await _rotate(tenant(db, caller, Role.ADMIN), key_id)


async def _issue(scope: CompanyStore, role: Role, name: str) -> tuple[ApiKey, str]:
    problems = check_name("name", name)
    if problems:
        raise Rejected(*problems)
    secret, doc = new_api_key(scope.company_id, role, name.strip(), clock.now())
    await scope.insert(store.API_KEYS, doc)
    return ApiKey.from_doc(doc), secret


async def _own(scope: CompanyStore, key_id: str) -> ApiKey:
    doc = await scope.find_one(store.API_KEYS, {"_id": key_id})
    if doc is None:
        raise not_found("id", "API key")
    return ApiKey.from_doc(doc)


async def _revoke(scope: CompanyStore, key_id: str) -> ApiKey:
    key = await _own(scope, key_id)
    if key.revoked:
        return key  # revoked once, at its first revocation
    if key.role is Role.ADMIN and await scope.count(store.API_KEYS, {"role": Role.ADMIN.value, **NOT_REVOKED}) <= 1:
        message = "This is your company's last ADMIN key: create another ADMIN key before you revoke it."
        raise Rejected(Problem("id", "LAST_ADMIN_KEY", message))
    now = clock.now()
    await scope.set_fields(store.API_KEYS, {key.id: {"revokedMs": to_ms(now)}})
    return await _own(scope, key_id)


async def _rotate(scope: CompanyStore, key_id: str) -> tuple[ApiKey, str, ApiKey]:
    old = await _own(scope, key_id)
    if old.revoked:
        raise Rejected(Problem("id", "REVOKED", "This key is revoked already: create a new key instead."))
    # The new key first: whatever fails between the two writes, the company keeps a working key.
    new, secret = await _issue(scope, old.role, old.name or COMMAND_LINE_KEY_NAME)
    return new, secret, await _revoke(scope, old.id)
