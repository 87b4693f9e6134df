"""The app on a temporary copy of the articles, served on 127.0.0.1, and a real headless Chromium
(Debian's; Playwright's own browser download cannot work offline)."""
from __future__ import annotations

import shutil
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from index import settings as _settings  # noqa: F401  (offline environment first)
from tests.conftest import free_port

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
ROOT = Path(__file__).resolve().parents[2]
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


@pytest.fixture(scope="session")
def app_assistant(tmp_path_factory):
    """The real engine on a private copy of sources/ and a fresh index (uploads never touch the project)."""
    from assistant import Assistant

    base = tmp_path_factory.mktemp("app")
    shutil.copytree(ROOT / "sources", base / "sources", ignore=shutil.ignore_patterns(".*"))
    return Assistant(sources_dir=base / "sources", index_dir=base / "index")


@pytest.fixture(scope="session")
def app_server(app_assistant):
    """`build_demo` served on a free loopback port; yields (url, seconds from launch to the first page)."""
    import urllib.request

    import app

    demo = app.build_demo(app_assistant)
    port = free_port()
    started = time.perf_counter()
    app.launch(demo, "127.0.0.1", port, prevent_thread_lock=True, quiet=True)
    url = f"http://127.0.0.1:{port}/"
    with urllib.request.urlopen(url, timeout=30) as response:
        assert response.status == 200
    served = time.perf_counter() - started
    yield url, served
    demo.close()


@pytest.fixture(scope="session")
def app_url(app_server) -> str:
    return app_server[0]


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is not installed: `apt-get install chromium` (or `make browser`)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def open_page(browser, url: str):
    """A fresh browser context (a new Gradio session) on the app. Every request to a host other than
    loopback is recorded in `page.outside_requests` and aborted."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    outside: list[str] = []

    def is_local(address: str) -> bool:
        parts = urlsplit(address)
        return parts.scheme in ("data", "blob", "about") or parts.hostname in LOOPBACK

    def guard(route) -> None:
        if is_local(route.request.url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    context.on("request", lambda r: None if is_local(r.url) else outside.append(r.url))
    page = context.new_page()
    page.outside_requests = outside
    page.errors = []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    # "networkidle" never comes: Gradio keeps a heartbeat request open.
    page.goto(url, wait_until="load")
    page.wait_for_selector("#proof .proof", timeout=30000)
    return page


@pytest.fixture
def page(browser, app_url):
    pg = open_page(browser, app_url)
    yield pg
    pg.context.close()
