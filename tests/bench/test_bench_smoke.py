"""The benchmark runs end to end: `bench/run.py --quick` (tiny sizes, about 30-45 s on 2 cores) writes its
markdown and plot to a temporary path, never to docs/."""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_quick_bench_writes_markdown_and_plot(tmp_path: Path) -> None:
    docs_md = ROOT / "docs" / "benchmarks.md"
    before = docs_md.stat().st_mtime_ns if docs_md.exists() else None
    out = tmp_path / "benchmarks.md"
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--quick", "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,  # a hang guard; the run itself is well under 60 s
    )
    elapsed = time.monotonic() - started
    assert proc.returncode == 0, proc.stderr[-4000:]
    text = out.read_text(encoding="utf-8")
    for heading in ("# Benchmarks", "## Targets", "## 1. Answer latency", "## 2. Start-up", "## 3. Ingest",
                    "## 4. Side by side", "## 5. Scale", "## 6. How cost grows"):
        assert heading in text, heading
    assert "| cores (`nproc`) |" in text and "| CPU |" in text and "| Python |" in text
    assert "plain llama-index (default splitter)" in text
    png = tmp_path / "latency_vs_corpus.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    after = docs_md.stat().st_mtime_ns if docs_md.exists() else None
    assert after == before, "--quick must not write docs/benchmarks.md"
    print(f"quick bench: {elapsed:.1f} s")
