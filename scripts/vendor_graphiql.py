"""Refresh the GraphiQL scripts and styles this server serves, from the npm registry.

GraphiQL's usual page loads React, GraphiQL and the explorer plugin from a public CDN,
so it stays blank without internet access. This script fetches the pinned versions'
tarballs, checks each against the registry's `dist.integrity` (sha512), copies the
minified files the page needs into graph/static/graphiql/ and records each file's SRI
hash (sha384) in manifest.json, which the page uses for its `integrity=` attributes.
Where Strawberry's own page loads the same file, the hash must match the one it pins.

    python scripts/vendor_graphiql.py     # needs HTTPS access to registry.npmjs.org

To move to new versions, change PINS, run it, look at the page, and commit the result.
"""

import base64
import hashlib
import io
import json
import re
import shutil
import sys
import tarfile
import urllib.parse
import urllib.request
from pathlib import Path

import strawberry

REGISTRY = "https://registry.npmjs.org"
ASSETS = Path(__file__).resolve().parent.parent / "graph" / "static" / "graphiql"
STRAWBERRY_PAGE = Path(strawberry.__file__).parent / "static" / "graphiql.html"

# What Strawberry 0.341's page loads, in page order, minus js-cookie (it reads a Django
# CSRF cookie this server never sets).
PINS = [
    ("react", "18.2.0", ["umd/react.production.min.js"]),
    ("react-dom", "18.2.0", ["umd/react-dom.production.min.js"]),
    ("graphiql", "3.8.3", ["graphiql.min.css", "graphiql.min.js"]),
    ("@graphiql/plugin-explorer", "1.0.2", ["dist/style.css", "dist/index.umd.js"]),
]


def main() -> int:
    pinned_by_strawberry = _strawberry_hashes()
    if ASSETS.exists():
        shutil.rmtree(ASSETS)
    ASSETS.mkdir(parents=True)
    packages, files = [], []
    for name, version, paths in PINS:
        dist = _fetch_json(f"{REGISTRY}/{urllib.parse.quote(name, safe='@')}/{version}")["dist"]
        tarball = _fetch(dist["tarball"])
        _check_integrity(tarball, dist["integrity"], f"{name}@{version} tarball")
        packages.append({"name": name, "version": version, "tarball": dist["tarball"], "integrity": dist["integrity"]})
        with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
            for path in paths:
                files.append(_copy(archive, name, version, path, pinned_by_strawberry))
    manifest = {"packages": packages, "files": files}
    (ASSETS / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    total = sum(f["bytes"] for f in files)
    print(f"wrote {len(files)} files, {total / 1024:,.0f} KiB, and manifest.json to {ASSETS}")
    return 0


def _copy(archive: tarfile.TarFile, name: str, version: str, path: str, pinned_by_strawberry: dict) -> dict:
    """Copy one file out of the package; its manifest entry (served path, SRI hash, size)."""
    content = archive.extractfile(f"package/{path}").read()
    served = f"{name}@{version}/{path}"
    integrity = sri(content)
    expected = pinned_by_strawberry.get(served)
    if expected is not None and expected != integrity:
        raise SystemExit(f"error: {served} hashes to {integrity}, but Strawberry's page pins {expected}")
    target = ASSETS / served
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(content)
    checked = "matches Strawberry's pin" if expected else "not on Strawberry's page"
    print(f"{served}: {len(content) / 1024:,.0f} KiB, {integrity} ({checked})")
    return {"path": served, "integrity": integrity, "bytes": len(content)}


def sri(content: bytes) -> str:
    """The Subresource Integrity value a browser checks: sha384, base64."""
    return "sha384-" + base64.b64encode(hashlib.sha384(content).digest()).decode()


def _check_integrity(content: bytes, integrity: str, what: str) -> None:
    algorithm, _, expected = integrity.partition("-")
    actual = base64.b64encode(hashlib.new(algorithm, content).digest()).decode()
    if actual != expected:
        raise SystemExit(f"error: {what} does not match the registry's {algorithm} integrity")


def _strawberry_hashes() -> dict[str, str]:
    """{'graphiql@3.8.3/graphiql.min.js': 'sha384-...'} from Strawberry's own GraphiQL page."""
    page = STRAWBERRY_PAGE.read_text(encoding="utf-8")
    pairs = re.findall(r'(?:src|href)="https://unpkg\.com/([^"]+)"\s+integrity="([^"]+)"', page)
    return dict(pairs)


def _fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=60) as response:
        return response.read()


def _fetch_json(url: str) -> dict:
    return json.loads(_fetch(url))


if __name__ == "__main__":
    sys.exit(main())
