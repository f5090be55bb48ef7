"""Identifiers: random ids that sort in creation order, and the natural keys of documents.

A natural key is an `_id` built from what identifies the document, so the unique `_id`
index is the uniqueness rule: one report suite per company and rsid, one visitor per
report suite and visitor id, one hit per visitor and sequence number, one snapshot per
report suite and transaction id, one stored chunk, offline row or problem per job and
number. They are built and taken apart here only.

rsids are unique per company, not across companies (creating one tells nothing of other
companies'), so every key under a report suite starts with its company: two companies'
`shop|v-1` never meet in the one `_id` index. Jobs, data sources and the pieces of jobs
have random ids and need no company. '|' cannot appear in a company id (see `new_id`) or
an rsid, so the parts split back unambiguously even where a visitor or transaction id
holds one.
"""

import secrets
import time

SEPARATOR = "|"


def new_id() -> str:
    return f"{time.time_ns():x}{secrets.token_hex(4)}"


def report_suite_key(company_id: str, rsid: str) -> str:
    return f"{company_id}{SEPARATOR}{rsid}"


def visitor_key(company_id: str, rsid: str, visitor_id: str) -> str:
    return f"{report_suite_key(company_id, rsid)}{SEPARATOR}{visitor_id}"


def visitor_of(key: str) -> tuple[str, str]:
    """(rsid, visitor id) of a visitor key; the company is the caller's."""
    _company_id, rsid, visitor_id = key.split(SEPARATOR, 2)
    return rsid, visitor_id


def hit_key(company_id: str, rsid: str, visitor_id: str, seq: int) -> str:
    return f"{visitor_key(company_id, rsid, visitor_id)}{SEPARATOR}{seq}"


def snapshot_key(company_id: str, rsid: str, transaction_id: str) -> str:
    return f"{report_suite_key(company_id, rsid)}{SEPARATOR}{transaction_id}"


def job_key(job_id: str, n: int) -> str:
    """A piece of a job (a stored chunk, an offline row, a problem), by its number in the job.
    The number is zero-padded so that keys sort in the job's order."""
    return f"{job_id}{SEPARATOR}{n:010d}"


def problem_key(job_id: str, line: int, n: int) -> str:
    """The `n`th problem found on a line of a job."""
    return f"{job_key(job_id, line)}{SEPARATOR}{n}"


def receiving_key(data_source_id: str, job_name: str) -> str:
    """The rows job still receiving calls under this name on this data source: one at a time."""
    return f"{data_source_id}{SEPARATOR}{job_name}"


def upload_key(data_source_id: str, idempotency_key: str) -> str:
    """An upload (a file, or one call of rows) sent with this idempotency key to this data source."""
    return f"{data_source_id}{SEPARATOR}{idempotency_key}"


def content_key(data_source_id: str, sha256: str) -> str:
    """The file content (its SHA-256, in hex) a data source holds rows of."""
    return f"{data_source_id}{SEPARATOR}{sha256}"
