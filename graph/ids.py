"""Global ids as mutations and subscriptions take them: the stored id inside one."""

from strawberry import relay


def own_id(global_id: str, type_name: str) -> str:
    """The stored id inside a global id of `type_name`. A malformed id, or one of another
    type, names nothing: the look-up then answers NOT_FOUND on that field."""
    try:
        decoded = relay.GlobalID.from_id(global_id)
    except ValueError:
        return ""
    return decoded.node_id if decoded.type_name == type_name else ""
