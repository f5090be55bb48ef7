"""How one server process faces browsers and the public, read once from flags and environment.

A flag wins over its environment variable; without either, a server answers browsers on
its own origin only and offers GraphiQL and introspection (public deployments turn both off).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from strawberry.http.websocket_origin import normalize_allowed_origins

CORS_ORIGINS_VARIABLE = "ODG_CORS_ORIGINS"
PLAYGROUND_VARIABLE = "ODG_PLAYGROUND"
INTROSPECTION_VARIABLE = "ODG_INTROSPECTION"
WORKER_VARIABLE = "ODG_WORKER"

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


def read(
    environ: Mapping[str, str],
    cors_origins: Sequence[str] | None = None,
    no_playground: bool = False,
    no_introspection: bool = False,
    no_worker: bool = False,
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
    )


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
