"""Latency overhead of verifying LLM answers, and which check rejects which scripted reply.

    .venv/bin/python bench/verifier_overhead.py [--repeat 200]

The scripted replies of tests/assistant/test_llm.py are fed to the real LLMEngine through an in-process
llama-index LLM (no HTTP, so only the engine's own work is timed), over the real retrieval on a temporary
copy of sources/ (the project's var/index is never touched). For each reply: the outcome (used, or the
check that rejected it) and the `llm_verify` timing the engine records (markers, quotations, the shared
verifier: exact spans, figures in cited spans, language; agreement with the extractive figure), median
and p95 over --repeat runs, warm (figure parsing memoised, as for a repeated reply) and cold (the
figure-parsing caches cleared before every run, as for a reply never seen); then the extractive answer's
own latency for scale.
"""
from __future__ import annotations

import argparse
import logging
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from index import settings as _settings  # noqa: E402,F401  (offline, no telemetry: before any model import)

from llama_index.core.llms import CompletionResponse, CustomLLM, LLMMetadata  # noqa: E402
from llama_index.core.llms.callbacks import llm_completion_callback  # noqa: E402

from assistant import Assistant  # noqa: E402
from assistant import figures as _figures  # noqa: E402
from assistant.llm import MAX_EVIDENCE, SENTINEL, LLMEngine, select_evidence  # noqa: E402

VALUED = "What is xAI valued at?"
VALUED_SPAN = "évalué à 18 milliards"
LOSS_FR = "Combien xAI perd-elle par mois ?"
LOSS_SPAN = "1 milliard de dollars par mois"

# (case, question, reply with {n} = the evidence number of the span holding `needle`, needle)
CASES = [
    ("grounded (en)", VALUED, "According to the Financial Times coverage, xAI is valued at $18 billion [{n}].",
     VALUED_SPAN),
    ("grounded (fr)", LOSS_FR, "Selon Bloomberg, xAI perdrait environ 1 milliard de dollars par mois [{n}].", LOSS_SPAN),
    ("invented figure (en)", VALUED, "xAI is valued at $7 billion [{n}].", VALUED_SPAN),
    ("invented figure (fr)", LOSS_FR, "xAI perd environ 7 milliards de dollars par mois [{n}].", LOSS_SPAN),
    ("wrong language", VALUED, "Selon l'article, la start-up xAI serait évaluée à 18 milliards de dollars [{n}].",
     VALUED_SPAN),
    ("no citation marker", VALUED, "xAI is valued at $18 billion.", VALUED_SPAN),
    ("citation out of range", VALUED, "xAI is valued at $18 billion [{n}][9].", VALUED_SPAN),
    ("figure outside its cited span", VALUED, "xAI is valued at $18 billion [{n}] and raised $9.3 billion.",
     VALUED_SPAN),
    ("invented quotation", VALUED, "The article says “xAI is worth every cent” [{n}].", VALUED_SPAN),
    ("other figure of the article", VALUED, "xAI is raising $9.3 billion [{n}].", "9,3 milliards"),
    ("empty reply", VALUED, "   ", VALUED_SPAN),
    ("declined", VALUED, SENTINEL, VALUED_SPAN),
]


class Scripted(CustomLLM):
    """A llama-index LLM that returns one fixed reply at once."""

    reply: str = ""

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata(model_name="scripted")

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        return CompletionResponse(text=self.reply)

    @llm_completion_callback()
    def stream_complete(self, prompt: str, formatted: bool = False, **kwargs: Any):
        yield CompletionResponse(text=self.reply, delta=self.reply)


class Recorder(LLMEngine):
    """Keeps what the Assistant hands an LLM engine (frame, standalone, segments, views, extractive)."""

    def __init__(self) -> None:
        super().__init__(Scripted(), "recorder")
        self.seen: tuple | None = None

    def answer(self, frame, standalone, segments, views, extractive, on_delta=None):  # noqa: ANN001
        self.seen = (frame, standalone, segments, views, extractive)
        return extractive


def clear_caches() -> None:
    for name in ("_parse", "_number_part"):
        fn = getattr(_figures, name, None)
        if hasattr(fn, "cache_clear"):
            fn.cache_clear()


def ms(values: list[float], q: float) -> float:
    values = sorted(values)
    return 1000 * values[min(len(values) - 1, int(q * len(values)))]


def stats(values: list[float]) -> str:
    return f"{1000 * statistics.median(values):.2f} / {ms(values, 0.95):.2f}" if values else "—"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    logging.getLogger("assistant.llm").setLevel(logging.ERROR)  # one fallback warning per run otherwise
    work = Path(tempfile.mkdtemp(prefix="verifier-bench-"))
    try:
        shutil.copytree(ROOT / "sources", work / "sources")
        assistant = Assistant(sources_dir=work / "sources", index_dir=work / "index", llm=None)
        rows, all_verify, all_cold = [], [], []
        extractive_total: dict[str, list[float]] = {}
        for case, question, template, needle in CASES:
            recorder = Recorder()
            assistant.llm = recorder
            assistant.ask(question)
            frame, standalone, segments, views, extractive = recorder.seen
            assistant.llm = None
            evidence = select_evidence(segments, views, extractive, MAX_EVIDENCE)
            number = next((ev.number for ev in evidence if needle in ev.quote), None)
            if number is None:
                raise SystemExit(f"{case}: {needle!r} is not in the evidence; the retrieval changed")
            engine = LLMEngine(Scripted(reply=template.format(n=number)), "scripted", cooldown=0.0)
            times, cold, outcome = [], [], ""
            for _ in range(args.repeat):
                ans = engine.answer(frame, standalone, segments, views, extractive)
                outcome = "used (engine=llm)" if ans.engine == "llm" else ans.fallback_reason
                if "llm_verify" in ans.timings:
                    times.append(ans.timings["llm_verify"])
            for _ in range(args.repeat):
                clear_caches()
                ans = engine.answer(frame, standalone, segments, views, extractive)
                if "llm_verify" in ans.timings:
                    cold.append(ans.timings["llm_verify"])
            if question not in extractive_total:
                extractive_total[question] = []
                for _ in range(20):
                    t0 = time.perf_counter()
                    assistant.ask(question)
                    extractive_total[question].append(time.perf_counter() - t0)
            all_verify += times
            all_cold += cold
            rows.append((case, outcome, times, cold))
        print(f"\n{args.repeat} runs per reply and mode; llm_verify = the engine's check of the reply\n")
        print("| scripted reply | outcome (check that rejected it) | warm median / p95 ms | cold median / p95 ms |")
        print("|---|---|---|---|")
        for case, outcome, times, cold in rows:
            print(f"| {case} | {outcome} | {stats(times)} | {stats(cold)} |")
        print(f"\nall replies, warm: {stats(all_verify)} ms (median / p95), max {1000 * max(all_verify):.2f} ms")
        print(f"all replies, cold: {stats(all_cold)} ms (median / p95), max {1000 * max(all_cold):.2f} ms")
        for question, totals in extractive_total.items():
            print(f"extractive answer for {question!r}: median {1000 * statistics.median(totals):.1f} ms")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
