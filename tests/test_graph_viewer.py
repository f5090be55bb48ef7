"""graph/viewer.py: who the caller is, as its key says."""

from tests.queries import VIEWER


async def test_viewer_names_the_company_role_and_key(execute, company):
    for caller in (company.admin, company.uploader, company.reader):
        result = await execute(VIEWER, caller)
        assert result.errors is None
        assert result.data["viewer"] == {"companyId": company.id, "role": caller.role.value, "keyId": caller.key_id}
