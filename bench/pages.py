"""Page benchmark: time to first paint of the lobby and a hall page in Chromium, on the demo
expo and on a 5,000-booth one, side by side.

    python -m bench pages [--runs 5] [--scales demo,large]

For each scale a fresh SQLite database is migrated and seeded (``seed_demo --scale``) and one
``hallserver serve`` process started on loopback; the system Chromium (Playwright,
``HALLSERVER_CHROMIUM`` or ``/usr/bin/chromium``) opens each page ``--runs`` times, each in a
fresh browser context (nothing cached), and reads:

- first contentful paint (``performance.getEntriesByType('paint')``);
- booths shown: when the first booth card is in the page (``performance.now()`` as the test
  sees it, so up to a polling interval late);
- the largest HTTP answer and WebSocket frame the page received, and the bytes of all of them
  until the booths are shown.

Medians (min-max) are printed as a markdown table. Needs the test extras (Playwright).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("HALLSERVER_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def _server(scale: str, work: Path):
    """A seeded database of ``scale`` and one daphne serving it; yields (url, seed seconds)."""
    data = work / scale
    data.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    env.update(HALLSERVER_DATA_DIR=str(data), HALLSERVER_SQLITE_PATH=str(data / "db.sqlite3"),
               HALLSERVER_ALLOWED_HOSTS="127.0.0.1,localhost", PYTHONUNBUFFERED="1",
               HALLSERVER_LOG_LEVEL="WARNING")
    manage = [sys.executable, "-m", "hallserver", "manage"]
    subprocess.run([*manage, "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    started = time.monotonic()
    subprocess.run([*manage, "seed_demo", "--scale", scale], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    seeded = time.monotonic() - started
    port = _free_port()
    with open(data / "server.log", "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "hallserver", "serve", "--port",
                                 str(port)], cwd=ROOT, env=env, stdout=log,
                                stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while True:
                with contextlib.suppress(OSError), socket.create_connection(
                        ("127.0.0.1", port), timeout=0.5):
                    break
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the {scale} server did not start; see {log.name}")
                time.sleep(0.1)
            yield f"http://127.0.0.1:{port}", seeded
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _measure(browser, url: str) -> dict:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    http: list[int] = []
    frames: list[int] = []

    def on_response(response) -> None:
        if "/api/" in response.url:
            with contextlib.suppress(Exception):
                http.append(len(response.body()))

    page.on("response", on_response)
    page.on("websocket", lambda ws: ws.on("framereceived", lambda p: frames.append(len(p))))
    try:
        page.goto(url)
        page.wait_for_selector("[data-testid=booth-card]", timeout=60_000)
        shown = page.evaluate("performance.now()")
        page.wait_for_function(
            "performance.getEntriesByType('paint').some(e => e.name === 'first-contentful-paint')")
        fcp = page.evaluate("performance.getEntriesByType('paint')"
                            ".find(e => e.name === 'first-contentful-paint').startTime")
        cards = page.locator("[data-testid=booth-card]").count()
        return {"fcp": fcp, "shown": shown, "cards": cards, "http_max": max(http, default=0),
                "frame_max": max(frames, default=0), "bytes": sum(http) + sum(frames)}
    finally:
        context.close()


def _summary(values: list[float], unit: str = "ms") -> str:
    return (f"{statistics.median(values):,.0f} {unit} "
            f"({min(values):,.0f}-{max(values):,.0f})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench pages", description=__doc__)
    parser.add_argument("--runs", type=int, default=5, help="page loads per page (default 5)")
    parser.add_argument("--scales", default="demo,large",
                        help="seed scales to compare (default demo,large)")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    scales = [s.strip() for s in args.scales.split(",") if s.strip()]
    results: dict[tuple[str, str], list[dict]] = {}
    booths: dict[str, int] = {}
    seeds: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="bench-pages-") as tmp, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            for scale in scales:
                with _server(scale, Path(tmp)) as (url, seeded):
                    seeds[scale] = seeded
                    with urllib.request.urlopen(url + "/api/expo", timeout=30) as resp:
                        halls = json.load(resp)["halls"]
                    booths[scale] = sum(h["booth_count"] for h in halls)
                    pages = {"lobby /": "/", "hall page /hall/<first>": f"/hall/{halls[0]['id']}"}
                    _measure(browser, url + "/")  # warm the server (first imports, caches)
                    for name, path in pages.items():
                        results[(name, scale)] = [_measure(browser, url + path)
                                                  for _ in range(args.runs)]
        finally:
            browser.close()

    head = ["page", "figure", *[f"{s} ({booths[s]:,} booths)" for s in scales]]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name in dict.fromkeys(n for n, _ in results):
        rows = {
            "first contentful paint": lambda r: _summary([x["fcp"] for x in r]),
            "booths shown": lambda r: _summary([x["shown"] for x in r]),
            "booth cards rendered": lambda r: str(r[0]["cards"]),
            "largest API answer / WebSocket frame": lambda r: (
                f"{max(x['http_max'] for x in r) / 1024:,.1f} KiB / "
                f"{max(x['frame_max'] for x in r) / 1024:,.1f} KiB"),
            "bytes received until shown": lambda r: _summary(
                [x["bytes"] / 1024 for x in r], "KiB"),
        }
        for figure, fn in rows.items():
            lines.append(f"| {name} | {figure} | "
                         + " | ".join(fn(results[(name, s)]) for s in scales) + " |")
    print(f"{args.runs} loads per page, each in a fresh browser context; "
          "median (min-max).")
    print("seeding: " + ", ".join(f"{s} {seeds[s]:.1f} s" for s in scales))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
