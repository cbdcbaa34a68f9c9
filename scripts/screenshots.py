"""The pictures in docs/screenshots/: the queue, an item, the sources page, the issue
editor and the email, at 1280 and 390 px wide, taken from the offline demo with Debian's
Chromium (Playwright never downloads a browser). `make screenshots` runs it.

It builds the demo in a temporary folder (never touching var/), serves it on a free
loopback port without the scheduler, and saves one viewport-high PNG per page and width.
"""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
# Phone height as an iPhone 12-15 shows it; a laptop screen's for the wide ones.
VIEWPORTS = {1280: 800, 390: 844}
ZONE = "America/New_York"  # the field's newsletters are American: its curators' clock
USER, PASSWORD = "demo", "demo-curator"  # cbewatch.demo's curator


def cbewatch(config: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "cbewatch", "--config", str(config), *args]


def build_demo(folder: Path) -> Path:
    """`cbewatch demo --no-serve` with the default config's sections; its config path."""
    topics = (ROOT / "sources.yaml").read_text().split("\ntopics:", 1)[1].split("\nsources:")[0]
    config = folder / "sources.yaml"
    config.write_text(f"data_dir: {folder / 'var'}\ntopics:{topics}\nsources: []\n")
    subprocess.run(cbewatch(config, "demo", "--no-serve"), check=True, stdout=subprocess.DEVNULL)
    demo = folder / "var" / "demo" / "sources.yaml"
    with demo.open("a") as file:
        file.write(f"timezone: {ZONE}\n")
    return demo


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve(config: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    args = cbewatch(config, "serve", "--port", str(port), "--no-scheduler")
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(url + "/healthz", timeout=1)
            return process, url
        except httpx.TransportError:
            time.sleep(0.2)
    process.terminate()
    raise SystemExit(f"serve did not start on {url} within 30 s")


def shoot(page: Page, url: str, name: str, width: int) -> Path:
    page.goto(url)
    page.wait_for_load_state("networkidle")
    path = OUT / f"{name}-{width}.png"
    page.screenshot(path=str(path))  # the viewport only: the first screen a reader sees
    return path


def take(url: str, month: str) -> list[Path]:
    taken = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        for width, height in VIEWPORTS.items():
            page = browser.new_context(viewport={"width": width, "height": height}).new_page()
            page.goto(url + "/login")
            page.fill("input[name=username]", USER)
            page.fill("input[name=password]", PASSWORD)
            page.press("input[name=password]", "Enter")
            page.wait_for_url(url + "/queue")
            item = page.locator("#queue .item").first.get_attribute("data-id")
            for name, path in (
                ("queue", "/queue"),
                ("item", f"/items/{item}"),
                ("sources", "/sources"),
                ("issue-editor", f"/issues/{month}/edit"),
                ("email", f"/issues/{month}/preview"),
            ):
                taken.append(shoot(page, url + path, name, width))
        browser.close()
    return taken


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="cbewatch-shots-") as folder:
        config = build_demo(Path(folder))
        process, url = serve(config)
        try:
            month = demo_month(url)
            for path in take(url, month):
                print(f"{path.relative_to(ROOT)}: {path.stat().st_size // 1024} KB")
        finally:
            process.terminate()
            process.wait(10)


def demo_month(url: str) -> str:
    """The month of the demo's approved issue, read from the public archive's index."""
    found = re.search(r'/issues/(\d{4}-\d{2})/"', httpx.get(url + "/").text)
    if not found:
        raise SystemExit("the demo made no issue: nothing to show in the editor")
    return found.group(1)


if __name__ == "__main__":
    main()
