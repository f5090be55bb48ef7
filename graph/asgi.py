"""The app for an ASGI server started directly, e.g. several workers against one MongoDB:

    MONGODB_URI=mongodb://db:27017 uvicorn --factory graph.asgi:create --workers 2 --port 8000

Each worker builds its own app; settings come from the environment only (ODG_CORS_ORIGINS,
ODG_PLAYGROUND, ODG_INTROSPECTION, ODG_WORKER, ODG_RATE_LIMIT, ODG_RATE_BURST,
ODG_REQUEST_TIMEOUT, ODG_UPLOAD_TIMEOUT), so every worker behaves the same; each keeps
its own rate-limit buckets.
"""

import os

from starlette.applications import Starlette

from graph import settings
from graph.app import create_app
from models.store import Store


def create() -> Starlette:
    return create_app(Store.connect(os.environ.get("MONGODB_URI") or None), settings.read(os.environ))
