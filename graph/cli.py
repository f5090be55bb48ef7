"""The `offline-graph` command: serve, run workers, export the schema, create companies and
manage API keys; upload a file to a server and watch a drop folder (these two speak HTTP only)."""

import argparse
import asyncio
import logging
import os
import signal
import sys
from pathlib import Path

from strawberry import relay

from graph import drop_folder, remote, settings, uploading
from models.companies import ApiKey, Role
from models.embedded import EmbeddedStoreUnsupported
from models.problems import Rejected
from models.store import Store, StoreUnavailable
from resolvers import api_keys, demo, processing

UNREACHABLE = "error: the MongoDB that MONGODB_URI names does not answer; start it or fix the URI."
NEEDS_MONGODB = (
    "error: this command needs MONGODB_URI: without it, it would work on an embedded store of its own "
    "that is forgotten when it ends, so a key it printed could never be used. Set MONGODB_URI to the servers' MongoDB."
)


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
    _add_serve(commands)
    worker = commands.add_parser("worker", help="process uploaded jobs from the MongoDB that MONGODB_URI names, beside the servers")
    worker.set_defaults(run=_worker)

    export = commands.add_parser("export-schema", help="print the GraphQL SDL")
    export.add_argument("--output", help="write to this file instead of standard output")
    export.set_defaults(run=_export_schema)

    _add_key_commands(commands)
    _add_remote_commands(commands)
    return parser


def _add_serve(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    serve = commands.add_parser("serve", help="run the GraphQL server (embedded store unless MONGODB_URI is set)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--demo", action="store_true", help="seed a demo company and print a key of each role")
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
    serve.add_argument(
        "--rate-limit",
        metavar="RATE",
        help=f"requests each API key (or client address without one) may make, e.g. 20/s or 600/min, or off; default 20/s (or {settings.RATE_LIMIT_VARIABLE})",
    )
    serve.add_argument(
        "--rate-burst",
        metavar="N",
        help=f"requests a key may make at once before the rate applies; default twice the rate a second (or {settings.RATE_BURST_VARIABLE})",
    )
    serve.add_argument(
        "--request-timeout",
        metavar="SECONDS",
        help=f"stop an operation after this long, with code TIMEOUT, or off; default 30 (or {settings.REQUEST_TIMEOUT_VARIABLE})",
    )
    serve.add_argument(
        "--upload-timeout",
        metavar="SECONDS",
        help=f"the same for a multipart upload, counted once its body is in; default 300 (or {settings.UPLOAD_TIMEOUT_VARIABLE})",
    )
    serve.set_defaults(run=_serve)


def _add_key_commands(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """The company and key commands: they work on the MongoDB that MONGODB_URI names, as its servers do."""
    company = commands.add_parser("create-company", help="create a company and print its first ADMIN key")
    company.add_argument("name")
    company.set_defaults(run=_create_company)

    key = commands.add_parser("create-api-key", help="create an API key and print it (once)")
    key.add_argument("--company", required=True, help="the company id")
    key.add_argument("--role", required=True, choices=[r.value for r in Role])
    key.add_argument("--name", default=api_keys.COMMAND_LINE_KEY_NAME, help="what the key is for, e.g. 'Nightly CRM upload'")
    key.set_defaults(run=_create_api_key)

    listing = commands.add_parser("list-api-keys", help="list a company's API keys (never their secrets)")
    listing.add_argument("--company", required=True, help="the company id")
    listing.set_defaults(run=_list_api_keys)

    revoke = commands.add_parser("revoke-api-key", help="revoke an API key: it fails from the next request on")
    revoke.add_argument("id", help="the key id, as list-api-keys prints it (or its GraphQL id)")
    revoke.set_defaults(run=_revoke_api_key)

    rotate = commands.add_parser("rotate-api-key", help="replace an API key by a new one of its role and name, and revoke it")
    rotate.add_argument("id", help="the key id, as list-api-keys prints it (or its GraphQL id)")
    rotate.set_defaults(run=_rotate_api_key)


def _add_remote_commands(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """The commands that talk to a server over HTTP, wherever it runs."""
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
        chosen = settings.read(
            os.environ, args.cors_origin, args.no_playground, args.no_introspection, args.no_worker,
            rate_limit=args.rate_limit, rate_burst=args.rate_burst, request_timeout=args.request_timeout, upload_timeout=args.upload_timeout,
        )  # fmt: skip
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
        company_id, keys = await demo.seed(store)
        print(
            f"Demo company {company_id}, report suite '{demo.DEMO_RSID}'. A key of each role, to paste into GraphiQL's headers:", flush=True
        )
        for role, key in keys.items():
            print(f'  {role.value:<8} {{"Authorization": "Bearer {key}"}}', flush=True)

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
        print(await api_keys.create_api_key(store, args.company, Role(args.role), args.name))

    return _with_store(create)


def _list_api_keys(args) -> int:
    async def show(store: Store) -> None:
        print(f"{'id':<26} {'prefix':<10} {'role':<9} {'created':<17} {'last used':<17} {'revoked':<17} name")
        for key in await api_keys.company_keys(store, args.company):
            print(_key_line(key))

    return _with_store(show)


def _revoke_api_key(args) -> int:
    async def revoke(store: Store) -> None:
        key = await api_keys.revoke_key(store, _key_id(args.id))
        print(f"revoked: {_key_line(key)}")

    return _with_store(revoke)


def _rotate_api_key(args) -> int:
    async def rotate(store: Store) -> None:
        new, secret, old = await api_keys.rotate_key(store, _key_id(args.id))
        print(f"revoked: {_key_line(old)}")
        print(f"new:     {_key_line(new)}")
        print(f"{new.role.value} key (shown once): {secret}")

    return _with_store(rotate)


def _key_id(given: str) -> str:
    """A key id, or the GraphQL id of a key (ApiKey.id), as the key id."""
    try:
        decoded = relay.GlobalID.from_id(given)
    except ValueError:
        return given
    return decoded.node_id if decoded.type_name == "ApiKey" else given


def _key_line(key: ApiKey) -> str:
    def when(at) -> str:
        return at.strftime("%Y-%m-%d %H:%M") if at else "-"

    return f"{key.id:<26} {key.prefix:<10} {key.role.value:<9} {when(key.created_at):<17} {when(key.last_used_at):<17} {when(key.revoked_at):<17} {key.name}"


async def _print_company(store: Store, name: str) -> None:
    company, key = await api_keys.create_company(store, name)
    print(f"company: {company['_id']}")
    print(f"ADMIN key (shown once): {key}")


def _with_store(work) -> int:
    """Run `work` on the MongoDB that MONGODB_URI names; refused on the embedded store."""
    if not os.environ.get("MONGODB_URI"):
        print(NEEDS_MONGODB, file=sys.stderr)
        return 2
    store = _store()

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
