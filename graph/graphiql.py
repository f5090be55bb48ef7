"""GraphiQL served whole from this server: the page and its pinned scripts and styles.

Strawberry's own page loads them from a public CDN, so it stays blank without internet
access. The files and their SRI hashes are in static/graphiql/ (refreshed by
scripts/vendor_graphiql.py); the page links them by relative URL, so it also works
behind a proxy that serves the API under a path prefix.
"""

import functools
import html
import json
from pathlib import Path

from starlette.staticfiles import StaticFiles

ASSETS_DIR = Path(__file__).resolve().parent / "static" / "graphiql"
ASSETS_PATH = "/static/graphiql"  # where the app mounts ASSETS_DIR
TEMPLATE = Path(__file__).resolve().parent / "graphiql.html"


def manifest() -> dict:
    """The served files in page order, each with its path under ASSETS_DIR and SRI hash."""
    return json.loads((ASSETS_DIR / "manifest.json").read_text(encoding="utf-8"))


@functools.cache
def page() -> str:
    """The GraphiQL page, linking every script and style to its local copy, with its hash."""
    styles, scripts = [], []
    for file in manifest()["files"]:
        url = html.escape(f"{ASSETS_PATH.lstrip('/')}/{file['path']}")
        integrity = html.escape(file["integrity"])
        if file["path"].endswith(".css"):
            styles.append(f'<link rel="stylesheet" href="{url}" integrity="{integrity}" />')
        else:
            scripts.append(f'<script src="{url}" integrity="{integrity}"></script>')
    template = TEMPLATE.read_text(encoding="utf-8")
    return template.replace("<!-- styles -->", "\n    ".join(styles)).replace("<!-- scripts -->", "\n    ".join(scripts))


def assets() -> StaticFiles:
    return StaticFiles(directory=ASSETS_DIR)
