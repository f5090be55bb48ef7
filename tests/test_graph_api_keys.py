"""graph/api_keys.py: the `apiKeys` query and the createApiKey, revokeApiKey and
rotateApiKey mutations, through the schema; the secret is shown once and never listed."""

from datetime import timedelta

import pytest
from strawberry.relay import GlobalID

from models import store as collections
from resolvers import api_keys
from tests.helpers import codes, query

KEY_FIELDS = "id keyId prefix role name createdAt lastUsedAt revokedAt"
LIST = f"query($first: Int, $after: String) {{ apiKeys(first: $first, after: $after) {{ edges {{ node {{ {KEY_FIELDS} }} }} pageInfo {{ hasNextPage endCursor }} }} }}"
CREATE = f"mutation($input: CreateApiKeyInput!) {{ createApiKey(input: $input) {{ apiKey {{ {KEY_FIELDS} }} secret userErrors {{ field code message }} }} }}"
REVOKE = f"mutation($input: RevokeApiKeyInput!) {{ revokeApiKey(input: $input) {{ apiKey {{ {KEY_FIELDS} }} userErrors {{ field code message }} }} }}"
ROTATE = (
    f"mutation($input: RotateApiKeyInput!) {{ rotateApiKey(input: $input) {{ apiKey {{ {KEY_FIELDS} }} secret"
    f" revokedApiKey {{ {KEY_FIELDS} }} userErrors {{ field code message }} }} }}"
)
NODE = "query($id: ID!) { node(id: $id) { id ... on ApiKey { name role } } }"


def global_id(key_id: str) -> str:
    return str(GlobalID("ApiKey", key_id))


async def listed(execute, caller) -> list[dict]:
    data = await query(execute, caller, LIST, first=100)
    return [edge["node"] for edge in data["apiKeys"]["edges"]]


async def create(execute, caller, role: str = "UPLOADER", name: str = "Nightly CRM upload") -> dict:
    return (await query(execute, caller, CREATE, input={"role": role, "name": name}))["createApiKey"]


# --- listing ----------------------------------------------------------------------------


async def test_an_admin_lists_its_companys_keys_with_prefix_role_and_name_and_never_a_secret(store, execute, company, other_company):
    made = await create(execute, company.admin, "READER", "Dashboard")

    keys = await listed(execute, company.admin)

    made_by_cli = api_keys.COMMAND_LINE_KEY_NAME  # the fixture's keys
    assert [(k["role"], k["name"]) for k in keys] == [
        ("ADMIN", "First ADMIN key"), ("READER", made_by_cli), ("UPLOADER", made_by_cli), ("READER", "Dashboard"),
    ]  # fmt: skip
    assert keys[0]["prefix"] == company.admin_key[:8] and keys[0]["prefix"].startswith("odg_")
    assert keys[-1]["prefix"] == made["secret"][:8]
    assert keys[0]["keyId"] == company.admin.key_id
    assert all(k["revokedAt"] is None and k["createdAt"] for k in keys)
    text = str(keys)
    stored = await store.find_many(collections.API_KEYS, {})
    for secret_or_hash in [company.admin_key, made["secret"], *(doc["hash"] for doc in stored)]:
        assert secret_or_hash not in text
    assert other_company.admin.key_id not in text


async def test_the_list_pages_with_a_cursor(execute, company):
    first = await query(execute, company.admin, LIST, first=2)
    rest = await query(execute, company.admin, LIST, first=2, after=first["apiKeys"]["pageInfo"]["endCursor"])

    assert first["apiKeys"]["pageInfo"]["hasNextPage"] is True
    assert len(first["apiKeys"]["edges"]) == 2 and len(rest["apiKeys"]["edges"]) == 1


@pytest.mark.parametrize("role", ["reader", "uploader"])
async def test_only_an_admin_sees_the_keys(execute, company, role):
    result = await execute(LIST, getattr(company, role))

    assert codes(result) == ["FORBIDDEN"]
    assert result.errors[0].message == f"This needs an ADMIN key; yours is {api_keys.article(getattr(company, role).role)} key."


# --- creating ---------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["READER", "UPLOADER", "ADMIN"])
async def test_a_new_key_is_shown_once_and_works_with_its_role(store, execute, company, role):
    made = await create(execute, company.admin, role, "  Script  ")

    caller = await api_keys.authenticate(store, f"Bearer {made['secret']}")

    assert made["userErrors"] == []
    assert (caller.company_id, caller.role.value, caller.key_id) == (company.id, role, made["apiKey"]["keyId"])
    assert made["apiKey"]["name"] == "Script"
    assert made["apiKey"]["prefix"] == made["secret"][:8]
    assert made["secret"] not in str(await store.find_many(collections.API_KEYS, {}))


@pytest.mark.parametrize("name", ["", "   ", "x" * 101, "two\nlines"])
async def test_a_key_needs_a_name_and_none_is_made_without_one(store, execute, company, name):
    before = await store.count(collections.API_KEYS, {})

    made = await create(execute, company.admin, "READER", name)

    assert (made["apiKey"], made["secret"]) == (None, None)
    assert [(e["field"], e["code"]) for e in made["userErrors"]] == [("name", "INVALID")]
    assert await store.count(collections.API_KEYS, {}) == before


# --- revoking ---------------------------------------------------------------------------


async def test_a_revoked_key_fails_at_once_and_stays_listed_with_its_time(store, execute, company, today):
    made = await create(execute, company.admin)

    revoked = (await query(execute, company.admin, REVOKE, input={"id": made["apiKey"]["id"]}))["revokeApiKey"]

    assert revoked["userErrors"] == []
    assert revoked["apiKey"]["revokedAt"] is not None
    assert await api_keys.authenticate(store, f"Bearer {made['secret']}") is None
    (listed_key,) = [k for k in await listed(execute, company.admin) if k["keyId"] == made["apiKey"]["keyId"]]
    assert listed_key["revokedAt"] == revoked["apiKey"]["revokedAt"]


async def test_revoking_twice_keeps_the_first_time(execute, company, today):
    made = await create(execute, company.admin)
    first = (await query(execute, company.admin, REVOKE, input={"id": made["apiKey"]["id"]}))["revokeApiKey"]
    today.now += timedelta(hours=1)

    again = (await query(execute, company.admin, REVOKE, input={"id": made["apiKey"]["id"]}))["revokeApiKey"]

    assert again["userErrors"] == [] and again["apiKey"]["revokedAt"] == first["apiKey"]["revokedAt"]


async def test_the_last_admin_key_cannot_be_revoked(store, execute, company):
    result = (await query(execute, company.admin, REVOKE, input={"id": global_id(company.admin.key_id)}))["revokeApiKey"]

    assert [(e["field"], e["code"]) for e in result["userErrors"]] == [("id", "LAST_ADMIN_KEY")]
    assert await api_keys.authenticate(store, f"Bearer {company.admin_key}") is not None


async def test_an_admin_may_revoke_its_own_key_once_another_admin_key_exists(store, execute, company):
    other_admin = await create(execute, company.admin, "ADMIN", "Second admin")

    result = (await query(execute, company.admin, REVOKE, input={"id": global_id(company.admin.key_id)}))["revokeApiKey"]

    assert result["userErrors"] == []
    assert await api_keys.authenticate(store, f"Bearer {company.admin_key}") is None
    assert await api_keys.authenticate(store, f"Bearer {other_admin['secret']}") is not None


@pytest.mark.parametrize("mutation", [REVOKE, ROTATE])
async def test_another_companys_key_or_a_malformed_id_is_not_found_and_nothing_changes(store, execute, company, other_company, mutation):
    before = await store.find_many(collections.API_KEYS, {})

    for key_id in (global_id(other_company.reader.key_id), other_company.reader.key_id, "garbage", str(GlobalID("ReportSuite", "x"))):
        result = await query(execute, company.admin, mutation, input={"id": key_id})
        (payload,) = result.values()
        assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [("id", "NOT_FOUND")]
        assert other_company.id not in str(payload)

    assert await store.find_many(collections.API_KEYS, {}) == before


# --- rotating ---------------------------------------------------------------------------


async def test_rotating_gives_a_new_secret_of_the_same_role_and_name_and_revokes_the_old(store, execute, company):
    made = await create(execute, company.admin, "UPLOADER", "CRM")

    rotated = (await query(execute, company.admin, ROTATE, input={"id": made["apiKey"]["id"]}))["rotateApiKey"]

    assert rotated["userErrors"] == []
    assert (rotated["apiKey"]["role"], rotated["apiKey"]["name"]) == ("UPLOADER", "CRM")
    assert rotated["secret"] != made["secret"] and rotated["apiKey"]["prefix"] == rotated["secret"][:8]
    assert rotated["revokedApiKey"]["keyId"] == made["apiKey"]["keyId"] and rotated["revokedApiKey"]["revokedAt"]
    assert await api_keys.authenticate(store, f"Bearer {made['secret']}") is None
    caller = await api_keys.authenticate(store, f"Bearer {rotated['secret']}")
    assert (caller.company_id, caller.role.value) == (company.id, "UPLOADER")


async def test_the_only_admin_key_may_be_rotated(store, execute, company):
    rotated = (await query(execute, company.admin, ROTATE, input={"id": global_id(company.admin.key_id)}))["rotateApiKey"]

    assert rotated["userErrors"] == []
    assert (await api_keys.authenticate(store, f"Bearer {rotated['secret']}")).role.value == "ADMIN"
    assert await api_keys.authenticate(store, f"Bearer {company.admin_key}") is None


async def test_a_revoked_key_is_not_rotated(store, execute, company):
    made = await create(execute, company.admin)
    await query(execute, company.admin, REVOKE, input={"id": made["apiKey"]["id"]})
    before = await store.count(collections.API_KEYS, {})

    rotated = (await query(execute, company.admin, ROTATE, input={"id": made["apiKey"]["id"]}))["rotateApiKey"]

    assert [(e["field"], e["code"]) for e in rotated["userErrors"]] == [("id", "REVOKED")]
    assert rotated["secret"] is None
    assert await store.count(collections.API_KEYS, {}) == before


# --- last use ---------------------------------------------------------------------------


async def test_last_use_is_kept_to_the_minute_with_at_most_one_write_a_minute(store, execute, company, today, monkeypatch):
    writes = []
    original = store.set_fields

    async def counted(collection, changes, scope=None):
        if collection == collections.API_KEYS:
            writes.append(changes)
        await original(collection, changes, scope)

    monkeypatch.setattr(store, "set_fields", counted)
    made = await create(execute, company.admin, "READER", "Dashboard")
    assert [k["lastUsedAt"] for k in await listed(execute, company.admin) if k["keyId"] == made["apiKey"]["keyId"]] == [None]

    for _ in range(5):
        await api_keys.authenticate(store, f"Bearer {made['secret']}")
        today.now += timedelta(seconds=10)
    assert len(writes) == 1
    today.now += timedelta(seconds=30)  # a minute and more after the first use
    await api_keys.authenticate(store, f"Bearer {made['secret']}")

    assert len(writes) == 2
    (key,) = [k for k in await listed(execute, company.admin) if k["keyId"] == made["apiKey"]["keyId"]]
    assert key["lastUsedAt"].startswith(today.now.isoformat()[:16])


# --- node -------------------------------------------------------------------------------


async def test_node_finds_a_key_for_its_companys_admins_only(execute, company, other_company):
    own = await query(execute, company.admin, NODE, id=global_id(company.reader.key_id))
    others = await query(execute, other_company.admin, NODE, id=global_id(company.reader.key_id))
    reader = await execute(NODE, company.reader, id=global_id(company.reader.key_id))

    assert own["node"] == {"id": global_id(company.reader.key_id), "name": api_keys.COMMAND_LINE_KEY_NAME, "role": "READER"}
    assert others["node"] is None
    assert codes(reader) == ["FORBIDDEN"]
