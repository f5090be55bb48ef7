"""Manual check in a real headless browser (CI does not run it): GraphiQL works offline,
keeps no key, and pages on other origins reach the API only when their origin is allowed.

Needs Chromium and Playwright's Python package, for this check only (never `playwright install`):

    apt-get install -y chromium && .venv/bin/pip install playwright
    .venv/bin/python scripts/browser_check.py [--screenshot graphiql.png]

It starts `offline-graph serve --demo` on port 8000 allowing the origin http://127.0.0.1:8001,
and two blank pages on ports 8001 (allowed) and 8002 (not allowed). Every request the
browser makes to a host other than 127.0.0.1 is blocked and counted: GraphiQL must load
and answer without any.
"""

import argparse
import json
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.request
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import sync_playwright

API = "http://127.0.0.1:8000"
ALLOWED_PORT, OTHER_PORT = 8001, 8002
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
KEY_LINE = re.compile(r'ADMIN\s+\{"Authorization": "Bearer (odg_[^"]+)"')  # the demo prints a key of each role
CROSS_ORIGIN_FETCH = """async ([url, key]) => {
  try {
    const response = await fetch(url, {method: "POST",
      headers: {"Content-Type": "application/json", "Authorization": "Bearer " + key},
      body: JSON.stringify({query: "{ viewer { role } }"})});
    return "read: " + JSON.stringify(await response.json());
  } catch (error) { return "refused: " + error.message; }
}"""
CROSS_ORIGIN_SOCKET = """(url) => new Promise((resolve) => {
  const socket = new WebSocket(url, "graphql-transport-ws");
  socket.onopen = () => socket.send(JSON.stringify({type: "connection_init"}));
  socket.onmessage = (event) => { resolve("answered: " + event.data); socket.close(); };
  socket.onerror = () => resolve("refused");
})"""


def main() -> int:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--screenshot", default="graphiql.png")
    args = options.parse_args()
    failures: list[str] = []

    def check(what: str, ok: bool, detail: str = "") -> None:
        print(f"{'ok  ' if ok else 'FAIL'} {what}{': ' + detail if detail else ''}")
        if not ok:
            failures.append(what)

    with api_server() as key, blank_page(ALLOWED_PORT), blank_page(OTHER_PORT), sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        blocked: list[str] = []
        context = offline_context(browser, blocked)
        run_example(context, "/graphql", key, check, args.screenshot)
        check("the key is not kept in the browser's storage", key not in visit_storage(context, "/graphql"))
        context.close()
        context = offline_context(browser, blocked)
        run_example(context, "/graphql?persistHeaders=true", key, check)
        check("with ?persistHeaders=true the key is kept", key in visit_storage(context, "/graphql?persistHeaders=true"))
        check("a later visit without it forgets the key", key not in visit_storage(context, "/graphql"))
        context.close()
        check("no request left 127.0.0.1", not blocked, ", ".join(blocked))
        cross_origin(browser, key, check)
        browser.close()
    print("all checks passed" if not failures else f"{len(failures)} check(s) failed")
    return 1 if failures else 0


def offline_context(browser, blocked: list):
    """A fresh browser profile whose requests to any host but 127.0.0.1 are blocked (and listed)."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.route("**/*", lambda route: _only_local(route, blocked))
    return context


def run_example(context, path: str, key: str, check, screenshot: str | None = None) -> None:
    """Open GraphiQL, paste the key into the Headers pane and run the example query."""
    page = open_graphiql(context, path)
    page.get_by_role("button", name="Headers").click()
    page.locator(".graphiql-editor-tool .CodeMirror").last.click()
    page.keyboard.insert_text(json.dumps({"Authorization": f"Bearer {key}"}))
    page.locator(".graphiql-execute-button").click()
    result = page.locator(".result-window")
    result.get_by_text('"companyId"').wait_for(timeout=10_000)
    answer = result.inner_text()
    check(f"GraphiQL at {path} runs the example with the pasted key", '"role": "ADMIN"' in answer, " ".join(answer.split())[:70])
    if screenshot:
        page.screenshot(path=screenshot)
        print(f"screenshot: {screenshot}")
    page.close()


def visit_storage(context, path: str) -> str:
    """What the browser keeps (localStorage) after opening GraphiQL at `path` again."""
    page = open_graphiql(context, path)
    page.wait_for_timeout(500)  # GraphiQL settles its storage after it renders
    stored = page.evaluate("JSON.stringify(localStorage)")
    page.close()
    return stored


def open_graphiql(context, path: str):
    page = context.new_page()
    page.goto(f"{API}{path}")
    page.wait_for_selector(".graphiql-query-editor .CodeMirror", timeout=20_000)
    return page


def cross_origin(browser, key: str, check) -> None:
    """A page on the allowed origin reads the API's answers; one on another origin cannot."""
    page = browser.new_page()
    for port, allowed in ((ALLOWED_PORT, True), (OTHER_PORT, False)):
        page.goto(f"http://127.0.0.1:{port}/")
        fetched = page.evaluate(CROSS_ORIGIN_FETCH, [f"{API}/graphql", key])
        socket = page.evaluate(CROSS_ORIGIN_SOCKET, "ws://127.0.0.1:8000/graphql")
        which = "allowed" if allowed else "other"
        check(f"fetch from the {which} origin :{port}", fetched.startswith("read:") == allowed, fetched)
        check(f"WebSocket from the {which} origin :{port}", socket.startswith("answered:") == allowed, socket)
    page.close()


def _only_local(route, blocked: list) -> None:
    if urlsplit(route.request.url).hostname == "127.0.0.1":
        route.continue_()
    else:
        blocked.append(route.request.url)
        route.abort()


@contextmanager
def api_server():
    """`offline-graph serve --demo`, allowing the page on ALLOWED_PORT; yields the demo key."""
    binary = shutil.which("offline-graph", path=str(Path(sys.executable).parent)) or "offline-graph"
    allowed = f"http://127.0.0.1:{ALLOWED_PORT}"
    server = subprocess.Popen(
        [binary, "serve", "--demo", "--port", "8000", "--cors-origin", allowed],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        key = None
        for line in server.stdout:
            found = KEY_LINE.search(line)
            if found:
                key = found.group(1)
            if "Application startup complete" in line:
                break
        if key is None:
            raise SystemExit("the server did not print a demo key")
        _wait_for(f"{API}/healthz")
        threading.Thread(target=server.stdout.read, daemon=True).start()  # keep its pipe drained
        yield key
    finally:
        server.terminate()
        server.wait(timeout=10)


@contextmanager
def blank_page(port: int):
    """A blank page on http://127.0.0.1:port: another origin to call the API from."""

    class Blank(BaseHTTPRequestHandler):
        def do_GET(self):
            body = b"<!doctype html><title>another origin</title>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Blank)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield
    finally:
        server.shutdown()


def _wait_for(url: str) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not answer in 20 s")


if __name__ == "__main__":
    sys.exit(main())
