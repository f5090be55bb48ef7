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


@pytest.mark.parametrize(
    ("needed", "held", "message"),
    [
        (Role.ADMIN, Role.READER, "This needs an ADMIN key; yours is a READER key."),
        (Role.ADMIN, Role.UPLOADER, "This needs an ADMIN key; yours is an UPLOADER key."),
        (Role.UPLOADER, Role.READER, "This needs an UPLOADER key; yours is a READER key."),
    ],
)
async def test_a_forbidden_message_names_both_roles_with_their_articles(store, company, needed, held, message):
    caller = {Role.READER: company.reader, Role.UPLOADER: company.uploader}[held]

    with pytest.raises(Denied) as denied:
        api_keys.require(caller, needed)

    assert denied.value.problems[0].message == message


# --- managing keys ----------------------------------------------------------------------


@pytest.mark.wire
async def test_a_key_keeps_its_name_and_first_characters_and_a_revoked_one_authenticates_nobody(any_store):
    company, _ = await api_keys.create_company(any_store, "Acme")
    key = await api_keys.create_api_key(any_store, company["_id"], Role.READER, "Dashboard")
    caller = await api_keys.authenticate(any_store, f"Bearer {key}")

    (listed,) = [k for k in await api_keys.company_keys(any_store, company["_id"]) if k.id == caller.key_id]
    assert (listed.name, listed.prefix, listed.role, listed.revoked_at) == ("Dashboard", key[:8], Role.READER, None)
    assert listed.last_used_at is not None  # noted on the way in
    assert await api_keys.still_valid(any_store, caller)

    revoked = await api_keys.revoke_key(any_store, caller.key_id)

    assert revoked.revoked_at is not None
    assert await api_keys.authenticate(any_store, f"Bearer {key}") is None
    assert not await api_keys.still_valid(any_store, caller)


@pytest.mark.wire
async def test_a_company_keeps_one_admin_key_and_rotating_keeps_it_working(any_store):
    _, admin_key = await api_keys.create_company(any_store, "Acme")
    admin = await api_keys.authenticate(any_store, f"Bearer {admin_key}")

    with pytest.raises(Rejected) as last:
        await api_keys.revoke(any_store, admin, admin.key_id)
    new, secret, old = await api_keys.rotate(any_store, admin, admin.key_id)

    assert last.value.problems[0].code == "LAST_ADMIN_KEY"
    assert old.revoked and not new.revoked and new.role is Role.ADMIN
    assert (await api_keys.authenticate(any_store, f"Bearer {secret}")).key_id == new.id
    assert await api_keys.authenticate(any_store, f"Bearer {admin_key}") is None


async def test_one_company_cannot_revoke_or_rotate_anothers_key(store, company, other_company):
    for manage in (api_keys.revoke, api_keys.rotate):
        with pytest.raises(Rejected) as missing:
            await manage(store, company.admin, other_company.reader.key_id)
        assert missing.value.problems[0].code == "NOT_FOUND"
    assert await api_keys.still_valid(store, other_company.reader)
