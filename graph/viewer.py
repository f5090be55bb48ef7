"""Who the caller is, so a client can check its key before doing anything else."""

import strawberry

from graph.context import Info
from models.companies import Role as RoleModel
from resolvers.api_keys import require

Role = strawberry.enum(RoleModel, name="Role")


@strawberry.type
class Viewer:
    company_id: str
    role: Role
    key_id: str


@strawberry.type
class ViewerQueries:
    @strawberry.field(description="The company and role of the API key this request carries.")
    def viewer(self, info: Info) -> Viewer:
        caller = require(info.context.caller, RoleModel.READER)
        return Viewer(company_id=caller.company_id, role=caller.role, key_id=caller.key_id)
