"""Paths and environment: where sources and the index live, and the offline switches.

Imported first by every entry point so that no library can try to reach a model hub or send telemetry.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

for _key, _value in {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "ANONYMIZED_TELEMETRY": "False",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "TOKENIZERS_PARALLELISM": "false",
}.items():
    os.environ.setdefault(_key, _value)

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class IndexSettings:
    sources_dir: Path
    index_dir: Path
    chroma_host: str = ""  # set -> client/server mode (`chroma run --host ... --port ...`)
    chroma_port: int = 8000
    embedder: str = "e5"
    embedder_path: str = ""

    @classmethod
    def from_env(cls, sources_dir: Path | str | None = None, index_dir: Path | str | None = None,
                 **overrides: object) -> "IndexSettings":
        """Defaults resolve from the package location, never the cwd; env vars override them."""
        values: dict[str, object] = dict(
            sources_dir=Path(sources_dir or os.environ.get("ASSISTANT_SOURCES_DIR") or PROJECT_ROOT / "sources"),
            index_dir=Path(index_dir or os.environ.get("ASSISTANT_INDEX_DIR") or PROJECT_ROOT / "var" / "index"),
            chroma_host=os.environ.get("ASSISTANT_CHROMA_HOST", ""),
            chroma_port=int(os.environ.get("ASSISTANT_CHROMA_PORT", "8000")),
            embedder=os.environ.get("ASSISTANT_EMBEDDER", "e5"),
            embedder_path=os.environ.get("ASSISTANT_EMBEDDER_PATH", ""),
        )
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]
