"""Identifiers that sort in creation order, so keyset pages follow insertion."""

import secrets
import time


def new_id() -> str:
    return f"{time.time_ns():x}{secrets.token_hex(4)}"
