"""Checks of text from clients: it must be valid Unicode, and fit in so many UTF-8 bytes."""

import unicodedata

from models.problems import Problem


def check_text(where: str, name: str, value: str, max_bytes: int) -> list[Problem]:
    try:
        size = len(value.encode())
    except UnicodeEncodeError:  # a lone UTF-16 surrogate, such as "\ud800" in JSON
        return [Problem(where, "INVALID_TEXT", f"{name} is not valid Unicode text.")]
    if size > max_bytes:
        return [Problem(where, "TOO_LONG", f"{name} is at most {max_bytes} bytes of UTF-8, not {size}.")]
    return []


def with_article(noun: str) -> str:
    """'an ADMIN', 'an Email Campaign Data Source', 'a READER': every noun messages name starts
    as it is spelt, so its first letter says which article it takes."""
    return f"{'an' if noun[:1].upper() in 'AEIOU' else 'a'} {noun}"


NAME_LENGTH = 100
BREAKING = {"Cc", "Zl", "Zp"}  # control characters (tab, CR, LF, ...) and line or paragraph separators


def check_name(where: str, name: str) -> list[Problem]:
    """A name people read: 1 to 100 characters on one line, not blank."""
    problems = check_text(where, where, name, 4 * NAME_LENGTH)
    if problems:
        return problems
    if 0 < len(name.strip()) <= NAME_LENGTH and not any(unicodedata.category(c) in BREAKING for c in name):
        return []
    return [Problem(where, "INVALID", f"{where} must be 1 to {NAME_LENGTH} characters, not blank, with no tab or line break.")]
