"""Fair use: a token bucket per API key, and per client address for requests without a
valid key, in this process's memory.

Each bucket holds up to `burst` tokens and refills at `rate` a second; a request takes one.
An empty bucket answers 429 with `Retry-After` (whole seconds until a token is back) and
code RATE_LIMITED. Buckets live in one process: behind a load balancer with N processes a
key may make up to N times the rate (README, "Fair use"). Full buckets are forgotten, so
memory follows the keys and addresses active in the last `burst / rate` seconds.

A request with a key is counted against the key once the key is found (one look-up);
without a valid key, against the address it came from, so random keys buy no fresh bucket.
"""

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from graph.requests import errors_response
from models.companies import Caller

RATE_LIMITED = "RATE_LIMITED"
PRUNE_ABOVE = 10_000  # buckets held before the full ones are dropped


@dataclass
class _Bucket:
    tokens: float
    at: float


class RateLimited(Exception):
    """A request over its bucket's rate: answered 429, with the seconds to wait."""

    def __init__(self, retry_after: int, message: str) -> None:
        super().__init__(message)
        self.retry_after, self.message = retry_after, message

    def response(self):
        response = errors_response(429, self.message, RATE_LIMITED)
        response.headers["Retry-After"] = str(self.retry_after)
        return response

    @property
    def extensions(self) -> dict[str, object]:
        """As a GraphQL error (an operation on a WebSocket) shows it."""
        return {"code": RATE_LIMITED, "retryAfter": self.retry_after}


class RateLimiter:
    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate, self.burst, self.clock = rate, burst, clock
        self._buckets: dict[str, _Bucket] = {}

    def take(self, who: str) -> float:
        """Take a token from `who`'s bucket; 0 when it had one, else the seconds until it will."""
        now = self.clock()
        bucket = self._buckets.get(who)
        if bucket is None:
            if len(self._buckets) >= PRUNE_ABOVE:
                self._prune(now)
            bucket = self._buckets[who] = _Bucket(float(self.burst), now)
        bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.at) * self.rate)
        bucket.at = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        return (1 - bucket.tokens) / self.rate

    def check(self, caller: Caller | None, address: str | None) -> None:
        """Count one request of `caller` (or of `address` without one); RateLimited when over."""
        who = f"key:{caller.key_id}" if caller else f"address:{address or 'unknown'}"
        wait = self.take(who)
        if not wait:
            return
        retry_after = max(1, math.ceil(wait))
        whose = "this API key" if caller else "requests without a valid API key from your address"
        message = f"Too many requests for {whose}: at most {self.rate:g} a second, in bursts of {self.burst}. Try again in {retry_after} s."
        raise RateLimited(retry_after, message)

    def _prune(self, now: float) -> None:
        """Forget the buckets that have refilled: a new one starts full anyway."""
        refill = self.burst / self.rate
        self._buckets = {who: b for who, b in self._buckets.items() if now - b.at < refill}
