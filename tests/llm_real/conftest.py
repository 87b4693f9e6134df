"""The real local LLM server (tests/llm_real/local_server.py: llama.cpp built from PyPI, a pinned 0.5B GGUF)
for the session, and the Assistant that uses it. Set-up (a first build takes ~13 min) happens only when
these tests are selected: `pytest tests/llm_real -m slow`, `make test-llm`, `make test-all`, CI."""
from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest

from index import settings as _settings  # noqa: F401  (offline environment first)

ROOT = Path(__file__).resolve().parents[2]
REPORT = ROOT / "var" / "llm-real-report.json"
TIMEOUT = float(os.environ.get("LLM_REAL_TIMEOUT", "120"))  # per call: this machine's 2 cores are shared

ROWS: list[dict] = []  # one per answer, for the summary table and REPORT
SETUP: dict[str, float] = {}


@pytest.fixture(scope="session")
def llm_server():
    from tests.llm_real import local_server

    t0 = time.monotonic()
    try:
        binary, model = local_server.ensure_binary(), local_server.ensure_model()
    except local_server.SetupError as exc:
        pytest.fail(f"local LLM set-up failed: {exc}")
    SETUP["setup_s"] = time.monotonic() - t0
    try:
        server = local_server.start()
    except local_server.SetupError as exc:
        pytest.fail(f"llama-server did not start: {exc}")
    SETUP["start_s"] = server.started_in
    SETUP["binary"], SETUP["model"] = str(binary), str(model)  # type: ignore[assignment]
    yield server
    server.stop()


@pytest.fixture(scope="session")
def real_assistant(llm_server, tmp_path_factory):
    """The real engine over a private copy of sources/, its LLM the local server."""
    from assistant import Assistant
    from assistant.llm import LLMEngine, LLMSettings
    from tests.llm_real.local_server import MODEL_NAME

    base = tmp_path_factory.mktemp("llm-real")
    shutil.copytree(ROOT / "sources", base / "sources", ignore=shutil.ignore_patterns(".*"))
    settings = LLMSettings("openai", MODEL_NAME, llm_server.base_url, "", TIMEOUT)
    engine = LLMEngine.from_settings(settings, cooldown=0.0)  # one slow call must not skip the next ones
    ok, models = engine.ping()
    assert ok and MODEL_NAME in models, models
    return Assistant(sources_dir=base / "sources", index_dir=base / "index", llm=engine)


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    if not ROWS:
        return
    tr = terminalreporter
    tr.section("real LLM: engine, fallback and latency per answer")
    if SETUP:
        tr.write_line(f"set-up (binary + model, cached) {SETUP.get('setup_s', 0):.1f} s; "
                      f"llama-server start to /health 200: {SETUP.get('start_s', 0):.1f} s")
    tr.write_line(f"{'question':58} {'lang':4} {'engine':10} {'LLM s':>6} {'total s':>7} judged  fallback")
    for r in ROWS:
        tr.write_line(f"{r['question'][:58]:58} {r['language']:4} {r['engine']:10} {r['llm_s']:6.1f} "
                      f"{r['total_s']:7.1f} {'right' if r['right'] else 'WRONG':7} {r['fallback_reason'][:90]}")
    llm = [r for r in ROWS if r["engine"] == "llm"]
    replies = [r for r in ROWS if r["engine"] == "llm" or r["fallback_reason"].startswith(("verifier", "llm-declined",
                                                                                              "llm-empty"))]
    tr.write_line(f"LLM replies: {len(replies)}; passed the verifier: {len(llm)}, of which judged right: "
                  f"{sum(r['right'] for r in llm)}; final answers judged right: {sum(r['right'] for r in ROWS)}"
                  f"/{len(ROWS)}")
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps({"setup": SETUP, "answers": ROWS}, indent=2, ensure_ascii=False) + "\n")
    tr.write_line(f"written to {REPORT.relative_to(ROOT)}")
