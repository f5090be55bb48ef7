"""How one server process faces browsers and the public, read once from flags and environment.

A flag wins over its environment variable; without either, a server answers browsers on
its own origin only and offers GraphiQL and introspection (public deployments turn both off),
lets each key (or each client address, for requests without a valid key) make 20 requests a
second in bursts of 40, and stops an operation after 30 seconds (an upload after 300).
"""

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from strawberry.http.websocket_origin import normalize_allowed_origins

CORS_ORIGINS_VARIABLE = "ODG_CORS_ORIGINS"
PLAYGROUND_VARIABLE = "ODG_PLAYGROUND"
INTROSPECTION_VARIABLE = "ODG_INTROSPECTION"
WORKER_VARIABLE = "ODG_WORKER"
RATE_LIMIT_VARIABLE = "ODG_RATE_LIMIT"
RATE_BURST_VARIABLE = "ODG_RATE_BURST"
REQUEST_TIMEOUT_VARIABLE = "ODG_REQUEST_TIMEOUT"
UPLOAD_TIMEOUT_VARIABLE = "ODG_UPLOAD_TIMEOUT"

DEFAULT_RATE = 20.0  # requests a second
DEFAULT_REQUEST_TIMEOUT = 30.0
DEFAULT_UPLOAD_TIMEOUT = 300.0
_OFF = {"off", "none", "0"}
_RATE = re.compile(r"(\d+(?:\.\d+)?)\s*(?:/\s*(s|sec|second|m|min|minute|h|hour))?")
_PER_SECOND = {None: 1, "s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hour": 3600}

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class SettingsError(ValueError):
    """A setting that cannot be used; the message names the flag or variable and the value."""


@dataclass(frozen=True)
class Settings:
    cors_origins: tuple[str, ...] = ()  # origins whose pages may call the API (HTTP and WebSocket); "*" is any
    playground: bool = True  # GET /graphql in a browser opens GraphiQL
    introspection: bool = True  # __schema and __type are answered
    worker: bool = True  # this process processes uploaded jobs too (`offline-graph worker` runs more)
    rate_limit: float | None = DEFAULT_RATE  # requests a second per key (or client address without one); None: no limit
    rate_burst: int = 2 * int(DEFAULT_RATE)  # requests a key may make at once before the rate applies
    request_timeout: float | None = DEFAULT_REQUEST_TIMEOUT  # seconds an operation may run; None: no limit
    upload_timeout: float | None = DEFAULT_UPLOAD_TIMEOUT  # the same for a multipart upload, once its body is in


def read(
    environ: Mapping[str, str],
    cors_origins: Sequence[str] | None = None,
    no_playground: bool = False,
    no_introspection: bool = False,
    no_worker: bool = False,
    rate_limit: str | None = None,
    rate_burst: str | None = None,
    request_timeout: str | None = None,
    upload_timeout: str | None = None,
) -> Settings:
    """The settings from the command line's values (None or False: not given) and `environ`."""
    if cors_origins is None:
        listed = environ.get(CORS_ORIGINS_VARIABLE, "")
        origins = _origins([o.strip() for o in listed.split(",") if o.strip()], CORS_ORIGINS_VARIABLE)
    else:
        origins = _origins(cors_origins, "--cors-origin")
    return Settings(
        cors_origins=origins,
        playground=not no_playground and _switch(environ, PLAYGROUND_VARIABLE),
        introspection=not no_introspection and _switch(environ, INTROSPECTION_VARIABLE),
        worker=not no_worker and _switch(environ, WORKER_VARIABLE),
        **_fair_use(environ, rate_limit, rate_burst, request_timeout, upload_timeout),
    )


def _given(environ: Mapping[str, str], flag_value: str | None, flag: str, variable: str) -> tuple[str | None, str]:
    """The value a flag or (else) its variable gives, and the name to blame if it is wrong."""
    if flag_value is not None:
        return flag_value, flag
    value = environ.get(variable, "").strip()
    return (value or None), variable


def _fair_use(environ, rate_limit, rate_burst, request_timeout, upload_timeout) -> dict:
    rate_text, rate_source = _given(environ, rate_limit, "--rate-limit", RATE_LIMIT_VARIABLE)
    rate = DEFAULT_RATE if rate_text is None else _rate(rate_text, rate_source)
    burst_text, burst_source = _given(environ, rate_burst, "--rate-burst", RATE_BURST_VARIABLE)
    default_burst = max(1, math.ceil(2 * rate)) if rate else 1
    burst = default_burst if burst_text is None else _count(burst_text, burst_source)
    return {
        "rate_limit": rate,
        "rate_burst": burst,
        "request_timeout": _seconds(
            *_given(environ, request_timeout, "--request-timeout", REQUEST_TIMEOUT_VARIABLE), DEFAULT_REQUEST_TIMEOUT
        ),
        "upload_timeout": _seconds(*_given(environ, upload_timeout, "--upload-timeout", UPLOAD_TIMEOUT_VARIABLE), DEFAULT_UPLOAD_TIMEOUT),
    }


def _rate(text: str, source: str) -> float | None:
    """'20/s', '600/min', '20' (a second), or 'off'."""
    value = text.strip().lower()
    if value in _OFF:
        return None
    match = _RATE.fullmatch(value)
    if match is None or float(match.group(1)) <= 0:
        raise SettingsError(f"{source}: {text!r} is not a rate; give requests per second or minute, e.g. 20/s or 600/min, or off")
    return float(match.group(1)) / _PER_SECOND[match.group(2)]


def _count(text: str, source: str) -> int:
    if not text.strip().isdigit() or int(text) < 1:
        raise SettingsError(f"{source}: {text!r} is not a burst; give a whole number of requests, 1 or more, e.g. 40")
    return int(text)


def _seconds(text: str | None, source: str, default: float) -> float | None:
    if text is None:
        return default
    value = text.strip().lower().removesuffix("s")
    if value in _OFF:
        return None
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not math.isfinite(seconds) or seconds <= 0:
        raise SettingsError(f"{source}: {text!r} is not a time-out; give seconds, e.g. 30, or off")
    return seconds


def _origins(origins: Sequence[str], source: str) -> tuple[str, ...]:
    """Each origin as browsers send it (lower case, no default port), in the order given."""
    normalized = []
    for origin in origins:
        try:
            (value,) = normalize_allowed_origins([origin])
        except ValueError:
            raise SettingsError(
                f"{source}: {origin!r} is not an origin; give one like https://app.example.com "
                "(scheme, host and optional port, no path), or * for any"
            ) from None
        if value not in normalized:
            normalized.append(value)
    return tuple(normalized)


def _switch(environ: Mapping[str, str], variable: str) -> bool:
    value = environ.get(variable, "").strip().lower()
    if not value:
        return True
    if value in _TRUE | _FALSE:
        return value in _TRUE
    raise SettingsError(f"{variable}: {environ[variable]!r} is not a switch; use 1 or 0 (or true/false)")
