"""The app on a temp copy of the articles, served on 127.0.0.1, and a real headless Chromium."""
from __future__ import annotations

import shutil
import socket
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def app_assistant(tmp_path_factory):
    from assistant import Assistant

    base = tmp_path_factory.mktemp("app")
    shutil.copytree(ROOT / "sources", base / "sources")
    return Assistant(sources_dir=base / "sources", index_dir=base / "index")


@pytest.fixture(scope="session")
def app_url(app_assistant):
    import app

    demo = app.build_demo(app_assistant)
    port = _free_port()
    app.launch(demo, "127.0.0.1", port, prevent_thread_lock=True, quiet=True)
    yield f"http://127.0.0.1:{port}/"
    demo.close()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is not installed: run `make browser` (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run", "--disable-quic"])
        yield b
        b.close()


@pytest.fixture
def page(browser, app_url):
    """A fresh browser context per test; any request leaving loopback is recorded and aborted."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    outside: list[str] = []

    def guard(route):
        url = route.request.url
        if url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:", "about:")):
            route.continue_()
        else:
            outside.append(url)
            route.abort()

    context.route("**/*", guard)
    pg = context.new_page()
    pg.outside_requests = outside
    pg.goto(app_url, wait_until="load")
    pg.wait_for_selector("#question textarea", timeout=30000)
    yield pg
    context.close()
