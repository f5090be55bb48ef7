"""The `offline-graph` command: serve, export the schema, create companies and API keys,
upload a file to a server and watch a drop folder (these two speak HTTP only)."""

import argparse
import asyncio
import logging
import os
import signal
import sys
from pathlib import Path

from graph import drop_folder, remote, settings, uploading
from models.companies import Role
from models.embedded import EmbeddedStoreUnsupported
from models.problems import Rejected
from models.store import Store, StoreUnavailable
from resolvers import api_keys, demo, processing

UNREACHABLE = "error: the MongoDB that MONGODB_URI names does not answer; start it or fix the URI."


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return args.run(args)
    except EmbeddedStoreUnsupported as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="offline-graph", description=__doc__)
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the GraphQL server (embedded store unless MONGODB_URI is set)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--demo", action="store_true", help="seed a demo company and print its API key")
    serve.add_argument(
        "--cors-origin",
        action="append",
        metavar="ORIGIN",
        help=f"let pages on ORIGIN (e.g. https://app.example.com) call the API; repeatable; replaces {settings.CORS_ORIGINS_VARIABLE}",
    )
    serve.add_argument("--no-playground", action="store_true", help=f"serve no GraphiQL page (or {settings.PLAYGROUND_VARIABLE}=0)")
    serve.add_argument(
        "--no-introspection", action="store_true", help=f"refuse __schema and __type queries (or {settings.INTROSPECTION_VARIABLE}=0)"
    )
    serve.add_argument("--no-worker", action="store_true", help=f"process no uploads in this process (or {settings.WORKER_VARIABLE}=0)")
    serve.set_defaults(run=_serve)

    worker = commands.add_parser("worker", help="process uploaded jobs from the MongoDB that MONGODB_URI names, beside the servers")
    worker.set_defaults(run=_worker)

    export = commands.add_parser("export-schema", help="print the GraphQL SDL")
    export.add_argument("--output", help="write to this file instead of standard output")
    export.set_defaults(run=_export_schema)

    company = commands.add_parser("create-company", help="create a company and print its first ADMIN key")
    company.add_argument("name")
    company.set_defaults(run=_create_company)

    key = commands.add_parser("create-api-key", help="create an API key and print it (once)")
    key.add_argument("--company", required=True, help="the company id")
    key.add_argument("--role", required=True, choices=[r.value for r in Role])
    key.set_defaults(run=_create_api_key)

    upload = commands.add_parser("upload", help="upload a file to a data source on a server, with progress, and say what became of it")
    upload.add_argument("file", type=Path, metavar="FILE", help="a tab-delimited file, at most 50 MB")
    _remote_arguments(upload)
    upload.add_argument("--dry-run", action="store_true", help="check the file and link its rows as an upload would; store nothing")
    upload.add_argument(
        "--idempotency-key", metavar="KEY", help="the upload's key (default: a new one); sent again with it, it is stored once"
    )
    upload.add_argument("--allow-duplicate", action="store_true", help="store the file even if its content was uploaded before")
    upload.set_defaults(run=_upload)

    watch = commands.add_parser("watch", help="upload each NAME.txt of a drop folder once its NAME.fin marker is there")
    watch.add_argument("folder", type=Path, metavar="DIR")
    _remote_arguments(watch)
    watch.add_argument("--once", action="store_true", help="take what is ready, then exit (0: all done, 1: some failed)")
    watch.add_argument("--interval", type=float, default=5.0, help="seconds between looks at the folder (default 5)")
    watch.set_defaults(run=_watch)
    return parser


def _remote_arguments(command: argparse.ArgumentParser) -> None:
    command.add_argument("--data-source", required=True, metavar="ID", help="the data source's id (DataSource.id)")
    command.add_argument(
        "--endpoint",
        default=os.environ.get(remote.ENDPOINT_VARIABLE, remote.DEFAULT_ENDPOINT),
        metavar="URL",
        help=f"the server's GraphQL URL (default {remote.DEFAULT_ENDPOINT}, or {remote.ENDPOINT_VARIABLE})",
    )
    command.add_argument("--api-key", metavar="KEY", help=f"an UPLOADER or ADMIN key (default: {remote.API_KEY_VARIABLE})")
    command.add_argument("--poll", type=float, default=1.0, metavar="SECONDS", help="seconds between looks at a running job (default 1)")


def _api_key(args) -> str | None:
    key = args.api_key or os.environ.get(remote.API_KEY_VARIABLE)
    if not key:
        print(f"error: give an API key with --api-key or {remote.API_KEY_VARIABLE}.", file=sys.stderr)
    return key


def _upload(args) -> int:
    key = _api_key(args)
    if key is None:
        return uploading.EXIT_ERROR
    upload = uploading.Upload(
        args.file, args.data_source, args.endpoint, key, args.dry_run, args.idempotency_key, args.allow_duplicate, args.poll
    )
    return asyncio.run(uploading.run(upload))


def _watch(args) -> int:
    key = _api_key(args)
    if key is None:
        return uploading.EXIT_ERROR
    drop = drop_folder.DropFolder(args.folder, args.data_source, args.endpoint, key, args.poll)
    try:
        return asyncio.run(drop_folder.run(drop, args.once, args.interval))
    except KeyboardInterrupt:
        return 0


def _store() -> Store:
    return Store.connect(os.environ.get("MONGODB_URI") or None)


def _serve(args) -> int:
    import uvicorn

    from graph.app import create_app

    try:
        chosen = settings.read(os.environ, args.cors_origin, args.no_playground, args.no_introspection, args.no_worker)
    except settings.SettingsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(levelname)s: %(message)s")
    uri = os.environ.get("MONGODB_URI") or None
    if uri and not asyncio.run(Store.reachable(uri)):
        print(UNREACHABLE, file=sys.stderr)
        return 2
    store = Store.connect(uri)

    async def seed_demo() -> None:
        company_id, key = await demo.seed(store)
        print(f"Demo company {company_id}, report suite '{demo.DEMO_RSID}'.", flush=True)
        print(f'Paste into GraphiQL\'s headers: {{"Authorization": "Bearer {key}"}}', flush=True)

    app = create_app(store, chosen, on_startup=seed_demo if args.demo else None)
    uvicorn.run(app, host=args.host, port=args.port)
    return 0


def _worker(args) -> int:
    """Process jobs until interrupted. The embedded store lives in one process only, so a
    worker beside the server needs the MongoDB both use."""
    uri = os.environ.get("MONGODB_URI") or None
    if uri is None:
        print(
            "error: a worker needs MONGODB_URI: the embedded store is private to its server, which processes its own uploads.",
            file=sys.stderr,
        )
        return 2
    logging.basicConfig(level=logging.INFO, format="%(levelname)s: %(message)s")
    if not asyncio.run(Store.reachable(uri)):
        print(UNREACHABLE, file=sys.stderr)
        return 2

    async def run() -> None:
        store = Store.connect(uri)
        await store.create_indexes()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signal_number in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signal_number, stop.set)
        print("worker: processing uploaded jobs; Ctrl-C stops after the current batch.", flush=True)
        try:
            await processing.Worker(store).run(stop)
        finally:
            store.close()

    asyncio.run(run())
    return 0


def _export_schema(args) -> int:
    from graph.schema import schema  # here: upload and watch start faster without building it

    sdl = schema.as_str() + "\n"
    if args.output:
        with open(args.output, "w", encoding="utf-8") as out:
            out.write(sdl)
    else:
        sys.stdout.write(sdl)
    return 0


def _create_company(args) -> int:
    return _with_store(lambda store: _print_company(store, args.name))


def _create_api_key(args) -> int:
    async def create(store: Store) -> None:
        print(await api_keys.create_api_key(store, args.company, Role(args.role)))

    return _with_store(create)


async def _print_company(store: Store, name: str) -> None:
    company, key = await api_keys.create_company(store, name)
    print(f"company: {company['_id']}")
    print(f"ADMIN key (shown once): {key}")


def _with_store(work) -> int:
    store = _store()
    if store.embedded:
        print("warning: MONGODB_URI is not set; the embedded store forgets this when the command ends.", file=sys.stderr)

    async def run() -> None:
        await store.create_indexes()
        await work(store)

    try:
        asyncio.run(run())
    except Rejected as rejected:
        print(f"error: {rejected}", file=sys.stderr)
        return 1
    except StoreUnavailable:
        print(UNREACHABLE, file=sys.stderr)
        return 2
    finally:
        store.close()
    return 0
