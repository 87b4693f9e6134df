"""Load: the real app (`python app.py`) in a child process on a free loopback port and a private index,
many gradio_client clients at once, each its own session asking FR or EN questions with follow-ups
through the `chat` API (`follow_up=True`: the question continues that client's conversation).

Every answer must carry the right figure in its own session's language and context: the bare follow-ups
("OpenAI?", "Tesla?", "Meta?") are the same text in both languages and are answered from the session's
previous question only (a GPU count in one session, a refusal in another, French or English), so any
leak of history or language between sessions fails a turn. Latencies (p50/p95) and the app's RSS before,
during and after the run are printed and written to load-*.json in the test's tmp dir.

`test_load_20_clients` is marked slow (`make test-all`); `test_load_small` (4 clients x 3 questions)
runs by default so CI always covers concurrent sessions.
"""
from __future__ import annotations

import json
import re
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pytest

from tests.reliability.conftest import ANSWER_TIMEOUT, App

pytestmark = [pytest.mark.filterwarnings("ignore::DeprecationWarning")]

P95_LIMIT = 10.0  # s: a p95 above this means the app queues badly (observed well under 1 s)
RSS_GROWTH_LIMIT = 80 * 2**20  # bytes the app may grow over a run after warm-up
ROUND_GROWTH_LIMIT = 24 * 2**20  # bytes a second identical round may add (a leak adds with every round)


@dataclass(frozen=True)
class Turn:
    question: str
    expected: str | None  # the figure as the answer must state it (before [1]); None: must be a refusal


# Blocks of one conversation each: a standalone question, then follow-ups that only it resolves.
# Bare entity follow-ups are written identically in both languages: the session alone sets the language.
BLOCKS = {
    "fr": [
        [Turn("Combien de GPU Meta a-t-elle en service ?", "500 000 GPU"),
         Turn("OpenAI?", "10 millions de GPU"),
         Turn("Tesla?", "300 000 GPU")],
        [Turn("Combien xAI perd-elle par mois ?", "1 milliard de dollars par mois"),
         Turn("Et sa valorisation ?", "18 milliards de dollars"),
         Turn("Et sa levée de fonds ?", "9,3 milliards de dollars")],
        [Turn("Combien de GPU H100 xAI exploite-t-elle ?", "30 000 GPU"),
         Turn("Meta?", "500 000 GPU")],
        [Turn("À combien xAI est-elle valorisée ?", "18 milliards de dollars"),
         Turn("Tesla?", None)],  # Tesla's valuation is not in the articles
    ],
    "en": [
        [Turn("How many GPUs does Meta run?", "500,000 GPUs"),
         Turn("OpenAI?", "10 million GPUs"),
         Turn("Tesla?", "300,000 GPUs")],
        [Turn("How much is xAI losing each month?", "$1 billion per month"),
         Turn("And its valuation?", "$18 billion"),
         Turn("And its revenue this year?", "$500 million")],
        [Turn("How many H100s is xAI running?", "30,000 GPUs"),
         Turn("Meta?", "500,000 GPUs")],
        [Turn("What is xAI valued at?", "$18 billion"),
         Turn("Tesla?", None)],
    ],
}
_SPACES = re.compile(r"[\s\u00a0\u202f]+")


def script(client: int, questions: int) -> tuple[str, list[Turn]]:
    """Client i: French when i is even, English when odd; the blocks rotated so that clients asking at
    the same moment are in different conversations."""
    language = "fr" if client % 2 == 0 else "en"
    blocks = BLOCKS[language]
    shift = (client // 2) % len(blocks)
    turns = [t for block in blocks[shift:] + blocks[:shift] for t in block]
    while len(turns) < questions:
        turns += turns
    return language, turns[:questions]


def lead(answer: str) -> str:
    """The assistant's own words before the first citation, spaces normalised."""
    return _SPACES.sub(" ", answer.split("[1]")[0]).strip()


def problem(turn: Turn, language: str, answer: object) -> str | None:
    """Why an answer is wrong for this session, or None."""
    from assistant.language import detect_language

    if not isinstance(answer, str) or not answer.strip():
        return f"no answer text: {answer!r}"
    head = lead(answer)
    if detect_language(head)[0] != language:
        return f"not in {language}: {head!r}"
    if turn.expected is None:
        if any(ch.isdigit() for ch in head):
            return f"expected a refusal, got a figure: {head!r}"
        return None
    if "[1]" not in answer:
        return f"no citation: {answer[:200]!r}"
    if turn.expected not in head:
        return f"expected {turn.expected!r}, got {head!r}"
    return None


# ---------------------------------------------------------------- the load

@dataclass
class Result:
    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # a wrong answer (figure, language, refusal)
    differs: list[str] = field(default_factory=list)  # not the answer the same script gets when asked alone
    errors: list[str] = field(default_factory=list)  # an exception, a timeout
    answers: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def client_session(url: str, client: int, questions: int, start: threading.Barrier | None, result: Result,
                   reference: list[str] | None = None) -> None:
    """One gradio_client Client (one session hash) asking its script in order; never raises. With a
    reference (the answers the same script got when asked alone), every answer must be identical to it."""
    from gradio_client import Client

    language, turns = script(client, questions)
    try:
        session = Client(url, verbose=False)
    except Exception as exc:  # noqa: BLE001 — reported by the test, not lost in a thread
        with result.lock:
            result.errors.append(f"client {client}: cannot connect: {type(exc).__name__}: {exc}")
        if start is not None:
            start.abort()
        return
    if start is not None:
        try:
            start.wait(timeout=120)
        except threading.BrokenBarrierError:
            with result.lock:
                result.errors.append(f"client {client}: the start barrier broke")
            return
    for n, turn in enumerate(turns, 1):
        where = f"client {client} ({language}) turn {n} {turn.question!r}"
        t0 = time.perf_counter()
        try:
            answer = session.submit(turn.question, True, api_name="/chat").result(timeout=ANSWER_TIMEOUT)
        except Exception as exc:  # noqa: BLE001
            with result.lock:
                result.errors.append(f"{where}: {type(exc).__name__}: {exc}")
            continue
        elapsed = time.perf_counter() - t0
        why = problem(turn, language, answer)
        with result.lock:
            result.latencies.append(elapsed)
            result.answers.append(answer)
            if why:
                result.failures.append(f"{where}: {why}")
            if reference is not None and answer != reference[n - 1]:
                result.differs.append(f"{where}: {lead(str(answer))!r}, alone: {lead(reference[n - 1])!r}")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def references(app: App, clients: int, questions: int) -> dict[int, list[str]]:
    """Each distinct script asked alone, one session at a time: the answers every concurrent session of
    the same script must get word for word. Also warms the app up (RSS 'before' is then steady)."""
    by_script: dict[tuple, list[str]] = {}
    out: dict[int, list[str]] = {}
    for client in range(clients):
        language, turns = script(client, questions)
        key = (language, tuple(t.question for t in turns))
        if key not in by_script:
            result = Result()
            client_session(app.url, client, questions, None, result)
            assert not result.errors, result.errors
            assert not result.failures, ("wrong answers with one session at a time (the engine, not the load):",
                                         result.failures)
            by_script[key] = result.answers
        out[client] = by_script[key]
    return out


def run_load(app: App, clients: int, questions: int, report: Path,
             alone: dict[int, list[str]] | None = None) -> dict:
    """All clients at once (a barrier starts them together); returns the figures, also written to
    `report`. `alone`: the reference answers, computed (and the app warmed up) when not given."""
    assert app.alive()
    alone = alone or references(app, clients, questions)
    rss_before = app.rss()
    samples: list[int] = []
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            try:
                samples.append(app.rss())
            except psutil.Error:
                return
            stop.wait(0.25)

    sampler = threading.Thread(target=sample, name="rss-sampler", daemon=True)
    sampler.start()
    result = Result()
    barrier = threading.Barrier(clients)
    started = time.perf_counter()
    with ThreadPoolExecutor(clients, thread_name_prefix="load-client") as pool:
        futures = [pool.submit(client_session, app.url, c, questions, barrier, result, alone[c])
                   for c in range(clients)]
        for f in futures:
            f.result(timeout=120 + questions * ANSWER_TIMEOUT)
    wall = time.perf_counter() - started
    stop.set()
    sampler.join(5)
    rss_after = app.rss()
    lat = result.latencies
    figures = {
        "clients": clients, "questions_per_client": questions, "answers": len(lat),
        "errors": len(result.errors), "wrong": len(result.failures), "differ_from_alone": len(result.differs),
        "wall_s": round(wall, 2),
        "p50_s": round(percentile(lat, 0.50), 3) if lat else None,
        "p95_s": round(percentile(lat, 0.95), 3) if lat else None,
        "max_s": round(max(lat), 3) if lat else None,
        "mean_s": round(statistics.fmean(lat), 3) if lat else None,
        "throughput_per_s": round(len(lat) / wall, 1) if wall else None,
        "rss_before_mb": round(rss_before / 2**20, 1), "rss_peak_mb": round(max(samples + [rss_after]) / 2**20, 1),
        "rss_after_mb": round(rss_after / 2**20, 1), "app_start_s": round(app.started_in, 1),
    }
    report.write_text(json.dumps({**figures, "error_list": result.errors, "wrong_list": result.failures,
                                  "differ_list": result.differs}, indent=1), encoding="utf-8")
    print(f"\nload {clients}x{questions}: " + json.dumps(figures) + f"\n  -> {report}")
    assert app.alive(), "the app died under load:\n" + app.log.read_text(errors="replace")[-3000:]
    assert result.errors == [], result.errors[:10]
    assert result.differs == [], result.differs[:10]
    assert result.failures == [], result.failures[:10]
    assert len(lat) == clients * questions
    assert figures["p95_s"] < P95_LIMIT, figures
    assert rss_after - rss_before < RSS_GROWTH_LIMIT, figures
    figures["rss_after_bytes"] = rss_after
    figures["alone"] = alone
    return figures


def test_load_small(app_process: App, tmp_path) -> None:
    """4 concurrent sessions x 3 questions (FR and EN, follow-ups): the default CI's concurrency check."""
    run_load(app_process, clients=4, questions=3, report=tmp_path / "load-4x3.json")


def test_new_session_inherits_nothing(app_process: App) -> None:
    """A fresh client's bare follow-up is not resolved from anyone else's conversation, and its
    conversation starts in its own language."""
    from gradio_client import Client

    app = app_process
    busy = Client(app.url, verbose=False)
    assert "500,000 GPUs" in lead(busy.submit("How many GPUs does Meta run?", True, api_name="/chat")
                                  .result(timeout=ANSWER_TIMEOUT))
    fresh = Client(app.url, verbose=False)
    assert fresh.session_hash != busy.session_hash
    alone = lead(fresh.submit("OpenAI?", True, api_name="/chat").result(timeout=ANSWER_TIMEOUT))
    assert "GPU" not in alone and not any(ch.isdigit() for ch in alone), alone
    # and the busy session still has its own context
    assert "10 million GPUs" in lead(busy.submit("OpenAI?", True, api_name="/chat").result(timeout=ANSWER_TIMEOUT))
    # without follow_up, a call stands alone even in a session that has a conversation
    alone = lead(busy.submit("Tesla?", api_name="/chat").result(timeout=ANSWER_TIMEOUT))
    assert "GPU" not in alone, alone


@pytest.mark.slow
def test_load_20_clients(app_process: App, tmp_path) -> None:
    """Issue 9: 20 concurrent clients x 10 FR/EN questions with follow-ups; every answer right, in its
    session's language and context, and word for word what its script gets asked alone; no errors; p95
    recorded. Memory stable: RSS measured after the scripts were asked once alone, then over two full
    rounds; the second round (200 more answers, 20 new sessions) must add almost nothing."""
    first = run_load(app_process, clients=20, questions=10, report=tmp_path / "load-20x10-round1.json")
    second = run_load(app_process, clients=20, questions=10, report=tmp_path / "load-20x10-round2.json",
                      alone=first["alone"])
    growth = second["rss_after_bytes"] - first["rss_after_bytes"]
    print(f"RSS after round 1: {first['rss_after_mb']} MB, after round 2: {second['rss_after_mb']} MB "
          f"({growth / 2**20:+.1f} MB)")
    assert growth < ROUND_GROWTH_LIMIT, (first["rss_after_mb"], second["rss_after_mb"])


# ---------------------------------------------------------------- an upload in the middle of the load

def upload_through_the_page(url: str, path: Path) -> dict:
    """What the page does when a file is dropped on the Articles box: the file to Gradio's upload route,
    then the (page-only) upload event through the queue, read to its end. Returns the final status HTML,
    the seconds it took and the progress messages seen."""
    import urllib.request
    import uuid

    config = json.loads(urllib.request.urlopen(url + "config", timeout=30).read())
    box = next(c for c in config["components"] if c.get("props", {}).get("elem_id") == "upload")
    event = next(d for d in config["dependencies"] if [box["id"], "upload"] in [list(t) for t in d["targets"]])
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{path.name}\"\r\n"
            "Content-Type: text/plain\r\n\r\n").encode() + path.read_bytes() + f"\r\n--{boundary}--\r\n".encode()
    started = time.perf_counter()
    request = urllib.request.Request(url + "gradio_api/upload", data=body, method="POST",
                                     headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    stored = json.loads(urllib.request.urlopen(request, timeout=60).read())
    session = uuid.uuid4().hex
    payload = {"data": [[{"path": stored[0], "orig_name": path.name, "meta": {"_type": "gradio.FileData"}}]],
               "fn_index": event["id"], "session_hash": session, "event_data": None, "trigger_id": box["id"]}
    join = urllib.request.Request(url + "gradio_api/queue/join", data=json.dumps(payload).encode(),
                                  headers={"Content-Type": "application/json"})
    urllib.request.urlopen(join, timeout=60).read()
    progress: list[str] = []
    status = ""
    with urllib.request.urlopen(url + f"gradio_api/queue/data?session_hash={session}", timeout=900) as stream:
        for raw in stream:
            line = raw.decode("utf-8", "replace").strip()
            if not line.startswith("data:"):
                continue
            message = json.loads(line[5:])
            if message.get("msg") == "progress":
                progress += [p.get("desc") or "" for p in message.get("progress_data") or []]
            if message.get("msg") == "process_completed":
                status = ((message.get("output") or {}).get("data") or [""])[0]
                break
    return {"status": status, "seconds": time.perf_counter() - started, "progress": progress,
            "cached_copy": stored[0]}


@pytest.mark.slow
def test_load_20_clients_with_an_upload_midway(app_process: App, tmp_path) -> None:
    """20 concurrent sessions x 10 FR/EN questions with follow-ups, and an article uploaded through the page
    once a quarter of the answers are in: no error, every answer right in its own session's language and
    context (leakage), answers word for word those of the script asked alone (refusals may point to another
    closest passage once the new article is in), p95 within the bar while the upload is being indexed."""
    from tests.reliability.test_ingest_never_blocks import long_article, percentile as pct

    clients, questions = 20, 10
    alone = references(app_process, clients, questions)
    article = tmp_path / "quorvex-midway.txt"
    article.write_text(long_article(30_000), encoding="utf-8")
    result = Result()
    stamps: list[tuple[float, float]] = []  # (end time, latency) of every answer
    upload: dict = {}
    window: dict = {}

    def uploader() -> None:
        while len(result.latencies) < clients * questions // 4:
            time.sleep(0.2)
        window["start"] = time.perf_counter()
        try:
            upload.update(upload_through_the_page(app_process.url, article))
        except Exception as exc:  # noqa: BLE001
            upload["error"] = f"{type(exc).__name__}: {exc}"
        window["end"] = time.perf_counter()

    class Stamped(list):
        def append(self, value: float) -> None:  # when each answer came in, to place it against the upload
            stamps.append((time.perf_counter(), value))
            super().append(value)

    result.latencies = Stamped()
    barrier = threading.Barrier(clients)
    side = threading.Thread(target=uploader, name="uploader", daemon=True)
    side.start()
    started = time.perf_counter()
    with ThreadPoolExecutor(clients, thread_name_prefix="load-client") as pool:
        futures = [pool.submit(client_session, app_process.url, c, questions, barrier, result, alone[c])
                   for c in range(clients)]
        for f in futures:
            f.result(timeout=120 + questions * ANSWER_TIMEOUT)
    side.join(900)
    wall = time.perf_counter() - started
    lat = [v for _, v in stamps]
    during = [v for end, v in stamps if window.get("start", 1e18) <= end - v and end <= window.get("end", 0)]
    overlap = [v for end, v in stamps if end >= window.get("start", 1e18) and end - v <= window.get("end", 0)]
    # A refusal's "closest passage" may come from the new article: still a refusal, in its language.
    refusal_turns = {(c, n) for c in range(clients) for n, t in enumerate(script(c, questions)[1], 1) if t.expected is None}
    differs = [d for d in result.differs
               if (int(d.split()[1]), int(d.split("turn ")[1].split()[0])) not in refusal_turns]
    figures = {
        "clients": clients, "questions_per_client": questions, "answers": len(lat), "errors": len(result.errors),
        "wrong": len(result.failures), "differ_from_alone": len(differs), "wall_s": round(wall, 1),
        "p50_s": round(pct(lat, 0.5), 3), "p95_s": round(pct(lat, 0.95), 3), "max_s": round(max(lat), 3),
        "upload_s": round(upload.get("seconds", -1), 1),
        "answers_overlapping_upload": len(overlap),
        "p50_during_upload_s": round(pct(overlap, 0.5), 3) if overlap else None,
        "p95_during_upload_s": round(pct(overlap, 0.95), 3) if overlap else None,
        "answers_entirely_during_upload": len(during),
    }
    (tmp_path / "load-20x10-upload.json").write_text(json.dumps({**figures, "upload_status": upload.get("status"),
                                                                 "errors": result.errors, "wrong": result.failures,
                                                                 "differs": differs}, indent=1), encoding="utf-8")
    print("\nload 20x10 with an upload midway: " + json.dumps(figures))
    assert "error" not in upload, upload["error"]
    assert "you can ask about it now" in upload["status"], upload["status"][:500]
    assert any("passages" in p for p in upload["progress"]), upload["progress"][:5]  # progress, passage by passage
    assert not Path(upload["cached_copy"]).exists()  # the upload left Gradio's cache
    assert app_process.alive()
    assert result.errors == [], result.errors[:10]
    assert result.failures == [], result.failures[:10]
    assert differs == [], differs[:10]
    assert len(lat) == clients * questions
    assert overlap, "no answer overlapped the upload: the load was over before it began"
    assert figures["p95_during_upload_s"] <= P95_LIMIT, figures
    from gradio_client import Client

    answer = Client(app_process.url, verbose=False).predict(
        "Combien le consortium Quorvex a-t-il levé auprès de Helios Partners ?", api_name="/chat")
    assert "73 millions d'euros" in answer, answer
