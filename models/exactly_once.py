"""Exactly once: what makes a second sending of an upload recognisable (DOMAIN.md, "Where
this product goes further").

- An idempotency key names one request: a file upload, or one call of a rows job. The
  same key again on the same data source within 24 hours stores nothing new and answers
  the job the first request made. The key is a document `_id` (keys.upload_key), so of
  two sendings that race, the unique `_id` index lets exactly one have it.
- A file's content is known by its SHA-256, taken while it streams in. A data source
  holds one job per content (keys.content_key) for as long as that job's rows are, or
  will be, stored; the same content again is refused unless the caller allows it.
"""

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from models.keys import content_key, upload_key
from models.problems import Problem, invalid

KEY_WINDOW = timedelta(hours=24)
MAX_KEY_CHARS = 200
_KEY = re.compile(r"[\x21-\x7e]+")  # visible ASCII: a UUID, a file's digest, 'crm-2024-06-01-call-3'


def check_key(key: str) -> list[Problem]:
    if 0 < len(key) <= MAX_KEY_CHARS and _KEY.fullmatch(key):
        return []
    return [invalid("idempotencyKey", f"an idempotency key is 1 to {MAX_KEY_CHARS} visible ASCII characters, without spaces.")]


def call_digest(job_name: str, columns: Sequence[str], rows: Sequence[Sequence[str]], finished: bool) -> str:
    """What one call of rows sent: the same key with other rows is another request."""
    sent = json.dumps([job_name, list(columns), [list(r) for r in rows], finished], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(sent.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class KeyClaim:
    """An idempotency key as stored: the job its first request made, the digest of a rows
    call (None for a file), and when the key is free again."""

    job_id: str
    digest: str | None
    expires_at: datetime

    def live(self, now: datetime) -> bool:
        return self.expires_at > now

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> "KeyClaim":
        return cls(doc["jobId"], doc.get("digest"), doc["expiresAt"])


def key_doc(company_id: str, data_source_id: str, key: str, job_id: str, now: datetime, digest: str | None = None) -> dict[str, Any]:
    return {
        "_id": upload_key(data_source_id, key),
        "companyId": company_id,
        "dataSourceId": data_source_id,
        "jobId": job_id,
        "digest": digest,
        "expiresAt": now + KEY_WINDOW,  # a TTL index removes it; reads check it themselves
    }


def content_doc(company_id: str, data_source_id: str, sha256: str, job_id: str, version: int = 1) -> dict[str, Any]:
    return {
        "_id": content_key(data_source_id, sha256),
        "companyId": company_id,
        "dataSourceId": data_source_id,
        "jobId": job_id,
        "version": version,
    }
