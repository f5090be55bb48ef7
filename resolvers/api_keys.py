"""Who may do what: companies, their API keys, and the role checks every use-case makes."""

from models import clock, store
from models.companies import KEY_PREFIX, Caller, Role, hash_key, new_api_key, new_company
from models.problems import Denied, Problem, Rejected, not_found
from models.store import CompanyStore, Doc, Store
from models.text import check_name

BEARER = "bearer "
UNAUTHENTICATED_MESSAGE = "Send a valid API key as 'Authorization: Bearer <key>'."


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
    return Caller(company_id=doc["companyId"], role=Role(doc["role"]), key_id=doc["_id"])


def require(caller: Caller | None, role: Role) -> Caller:
    if caller is None:
        raise Denied(Problem(None, "UNAUTHENTICATED", UNAUTHENTICATED_MESSAGE))
    if not caller.role.allows(role):
        raise Denied(Problem(None, "FORBIDDEN", f"This needs a {role.value} key; yours is {caller.role.value}."))
    return caller


def tenant(db: Store, caller: Caller | None, role: Role) -> CompanyStore:
    """The store as the caller's company sees it, once the caller is known to hold `role`."""
    return db.company(require(caller, role).company_id)


async def create_company(db: Store, name: str) -> tuple[Doc, str]:
    """A new company and its first ADMIN key (the key is returned once, never stored)."""
    problems = check_name("name", name)
    if problems:
        raise Rejected(*problems)
    company = new_company(name.strip(), clock.now())
    await db.insert(store.COMPANIES, company)
    key = await create_api_key(db, company["_id"], Role.ADMIN)
    return company, key


async def create_api_key(db: Store, company_id: str, role: Role) -> str:
    if await db.find_one(store.COMPANIES, {"_id": company_id}) is None:
        raise not_found("company", f"Company '{company_id}'")
    key, doc = new_api_key(company_id, role, clock.now())
    await db.insert(store.API_KEYS, doc)
    return key
