"""resolvers/api_keys.py: companies and their keys, stored hashed; the Bearer header. What
each role may do across the graph is in test_scenario_roles.py."""

import hashlib

import pytest

from models import store as collections
from models.companies import Role, hash_key
from models.problems import Denied, Rejected
from resolvers import api_keys

# --- keys -------------------------------------------------------------------------


async def test_a_new_company_gets_an_admin_key_that_authenticates(store):
    company, key = await api_keys.create_company(store, "  Acme  ")

    caller = await api_keys.authenticate(store, f"Bearer {key}")

    assert company["name"] == "Acme"
    assert caller is not None
    assert caller.company_id == company["_id"]
    assert caller.role is Role.ADMIN


@pytest.mark.wire
async def test_keys_are_stored_hashed_never_in_clear(any_store):
    company, admin_key = await api_keys.create_company(any_store, "Acme")
    reader_key = await api_keys.create_api_key(any_store, company["_id"], Role.READER)

    docs = await any_store.find_many(collections.API_KEYS, {"companyId": company["_id"]})

    assert len(docs) == 2
    for doc in docs:
        stored = repr(doc)
        assert admin_key not in stored
        assert reader_key not in stored
        assert admin_key.removeprefix("odg_") not in stored
    hashes = {doc["hash"] for doc in docs}
    assert hashes == {hashlib.sha256(k.encode()).hexdigest() for k in (admin_key, reader_key)}
    assert hashes == {hash_key(k) for k in (admin_key, reader_key)}
    for key in (admin_key, reader_key):
        assert (await api_keys.authenticate(any_store, f"Bearer {key}")).company_id == company["_id"]


async def test_each_key_is_new_and_carries_its_role(store):
    company, admin_key = await api_keys.create_company(store, "Acme")
    keys = {role: await api_keys.create_api_key(store, company["_id"], role) for role in Role}

    assert len(set(keys.values()) | {admin_key}) == len(Role) + 1
    for role, key in keys.items():
        caller = await api_keys.authenticate(store, f"Bearer {key}")
        assert (caller.company_id, caller.role) == (company["_id"], role)


async def test_the_bearer_scheme_is_case_insensitive(store, company):
    for scheme in ("bearer", "BEARER", "Bearer"):
        caller = await api_keys.authenticate(store, f"{scheme} {company.admin_key}")
        assert caller is not None and caller.company_id == company.id


@pytest.mark.parametrize(
    "header",
    [None, "", "Bearer", "Bearer ", "Bearer odg_not-a-key", "Bearer not-even-prefixed", "Basic {key}", "{key}", "Token {key}"],
)
async def test_missing_wrong_or_malformed_keys_authenticate_nobody(store, company, header):
    value = None if header is None else header.format(key=company.admin_key)
    assert await api_keys.authenticate(store, value) is None


async def test_a_key_for_an_unknown_company_is_refused_and_nothing_stored(store):
    with pytest.raises(Rejected) as rejected:
        await api_keys.create_api_key(store, "no-such-company", Role.READER)

    assert rejected.value.problems[0].code == "NOT_FOUND"
    assert "no-such-company" in rejected.value.problems[0].message
    assert await store.count(collections.API_KEYS, {}) == 0


async def test_a_company_needs_a_name(store):
    with pytest.raises(Rejected) as rejected:
        await api_keys.create_company(store, "   ")

    assert rejected.value.problems[0].field == "name"
    assert await store.count(collections.COMPANIES, {}) == 0
    assert await store.count(collections.API_KEYS, {}) == 0


# --- the role check every use-case makes -------------------------------------------------


async def test_tenant_is_the_callers_company_view_once_its_role_is_enough(store, company):
    assert api_keys.tenant(store, company.reader, Role.READER).company_id == company.id
    assert api_keys.tenant(store, company.admin, Role.UPLOADER).company_id == company.id

    with pytest.raises(Denied) as weak:
        api_keys.tenant(store, company.reader, Role.UPLOADER)
    with pytest.raises(Denied) as nobody:
        api_keys.tenant(store, None, Role.READER)

    assert [p.code for p in weak.value.problems] == ["FORBIDDEN"]
    assert "UPLOADER" in weak.value.problems[0].message
    assert [p.code for p in nobody.value.problems] == ["UNAUTHENTICATED"]
