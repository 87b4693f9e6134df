"""Load an article file into a SourceDocument: .txt/.md kept byte-exact, .html through trafilatura,
.pdf through pypdf. Anything else, empty, binary, oversized or undecodable gets a LoaderError whose
message a user can act on."""
from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

SUPPORTED_SUFFIXES = (".txt", ".md", ".html", ".htm", ".pdf")
MAX_FILE_BYTES = int(float(os.environ.get("ASSISTANT_MAX_FILE_MB", "5")) * 1024 * 1024)


class LoaderError(ValueError):
    """A file that cannot be indexed; str() is the user-facing message."""


@dataclass(frozen=True)
class SourceDocument:
    source_id: str  # the file name: stable across runs
    path: Path
    text: str  # what citations point into
    title: str
    language: str
    publisher: str
    content_hash: str  # file bytes + sidecar bytes: editing metadata re-indexes too
    encoding: str = "utf-8"

    def to_llama_document(self) -> Any:
        from llama_index.core import Document

        meta = {"source_id": self.source_id, "title": self.title, "language": self.language,
                "publisher": self.publisher}
        return Document(id_=self.source_id, text=self.text, metadata=meta,
                        excluded_embed_metadata_keys=list(meta), excluded_llm_metadata_keys=list(meta))


def sidecar_path(path: Path) -> Path:
    return path.with_name(path.stem + ".meta.json")


@lru_cache(maxsize=1)
def _detector():
    from lingua import Language, LanguageDetectorBuilder

    return LanguageDetectorBuilder.from_languages(Language.FRENCH, Language.ENGLISH).build()


def detect_text_language(text: str) -> str:
    from lingua import Language

    found = _detector().detect_language_of(text[:5000])
    return "en" if found == Language.ENGLISH else "fr"


def _looks_binary(data: bytes) -> bool:
    if b"\x00" in data[:8192]:
        return True
    sample = data[:8192]
    control = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13))
    return bool(sample) and control / len(sample) > 0.05


def _decode(data: bytes, name: str) -> tuple[str, str]:
    """UTF-8 first (a BOM is dropped: it is not text); else cp1252, which also reads latin-1 French."""
    try:
        text = data.decode("utf-8")
        if text.startswith("\ufeff"):
            text = text[1:]
        return text, "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp1252")
        encoding = "cp1252"
    except UnicodeDecodeError:
        text = data.decode("latin-1")
        encoding = "latin-1"
    letters = sum(ch.isalpha() or ch.isspace() for ch in text)
    if letters / max(1, len(text)) < 0.7:
        raise LoaderError(f"{name}: the text is neither UTF-8 nor readable as Windows-1252/Latin-1; "
                          "save it as UTF-8 and try again.")
    return text, encoding


def _html_text(data: bytes, name: str) -> tuple[str, str]:
    import trafilatura

    raw, _ = _decode(data, name)
    text = trafilatura.extract(raw, include_comments=False, include_tables=False, favor_precision=True) or ""
    meta = trafilatura.extract_metadata(raw)
    title = (meta.title if meta and meta.title else "") or ""
    if not title:
        m = re.search(r"<title[^>]*>(.*?)</title>", raw, re.I | re.S)
        title = re.sub(r"\s+", " ", m.group(1)).strip() if m else ""
    if not text.strip():
        raise LoaderError(f"{name}: no article text could be extracted from this HTML page.")
    return text, title


def _pdf_text(path: Path, name: str) -> str:
    try:
        from pypdf import PdfReader
        from pypdf.errors import PdfReadError

        reader = PdfReader(str(path))
        text = "\n".join((page.extract_text() or "") for page in reader.pages)
    except (PdfReadError, ValueError, KeyError, OSError, TypeError) as exc:
        raise LoaderError(f"{name}: this PDF cannot be read ({exc.__class__.__name__}).") from exc
    except Exception as exc:  # pypdf raises assorted errors on damaged files  # noqa: BLE001
        raise LoaderError(f"{name}: this PDF cannot be read ({exc.__class__.__name__}).") from exc
    if not text.strip():
        raise LoaderError(f"{name}: the PDF has no extractable text (a scanned image?).")
    return text


def _humanise(stem: str) -> str:
    return re.sub(r"[-_]+", " ", stem).strip().capitalize() or stem


def load_source(path: Path) -> SourceDocument:
    path = Path(path)
    name = path.name
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise LoaderError(f"{name}: unsupported file type {suffix or '(none)'}; supported: "
                          + ", ".join(SUPPORTED_SUFFIXES) + ".")
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise LoaderError(f"{name}: cannot read the file ({exc.strerror}).") from exc
    if size > MAX_FILE_BYTES:
        raise LoaderError(f"{name}: the file is {size / 1048576:.1f} MB, over the {MAX_FILE_BYTES / 1048576:.0f} MB "
                          "limit (ASSISTANT_MAX_FILE_MB).")
    data = path.read_bytes()
    if not data.strip():
        raise LoaderError(f"{name}: the file is empty.")
    meta, meta_bytes = _sidecar(path)
    title_guess = ""
    encoding = "utf-8"
    if suffix == ".pdf":
        if not data.startswith(b"%PDF"):
            raise LoaderError(f"{name}: this is not a PDF file.")
        text = _pdf_text(path, name)
    else:
        if _looks_binary(data):
            raise LoaderError(f"{name}: the file looks binary (an image or a program?), not text.")
        if suffix in (".html", ".htm"):
            text, title_guess = _html_text(data, name)
        else:
            text, encoding = _decode(data, name)
            first = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
            if suffix == ".md" and first.startswith("#"):
                title_guess = first.lstrip("#").strip()
    if not text.strip():
        raise LoaderError(f"{name}: the file is empty.")
    title = str(meta.get("title") or title_guess or _humanise(path.stem))
    language = str(meta.get("language") or detect_text_language(text))
    if language not in ("fr", "en"):
        language = detect_text_language(text)
    digest = hashlib.sha256(data + b"\x00" + meta_bytes).hexdigest()
    return SourceDocument(name, path, text, title, language, str(meta.get("publisher") or ""), digest, encoding)


def _sidecar(path: Path) -> tuple[dict[str, Any], bytes]:
    side = sidecar_path(path)
    if not side.exists():
        return {}, b""
    raw = side.read_bytes()
    try:
        meta = json.loads(raw.decode("utf-8"))
        if not isinstance(meta, dict):
            raise ValueError("not an object")
    except (ValueError, UnicodeDecodeError) as exc:
        raise LoaderError(f"{side.name}: the metadata file is not valid JSON ({exc}); fix or delete it.") from exc
    return meta, raw


def iter_sources(directory: Path) -> tuple[list[SourceDocument], list[LoaderError]]:
    """Every loadable article of a directory, sorted by name; errors are collected, not raised."""
    docs: list[SourceDocument] = []
    errors: list[LoaderError] = []
    directory = Path(directory)
    if not directory.is_dir():
        return docs, [LoaderError(f"{directory}: the sources directory does not exist.")]
    for path in sorted(directory.iterdir()):
        if path.name.startswith(".") or path.name.endswith(".meta.json") or not path.is_file():
            continue
        try:
            docs.append(load_source(path))
        except LoaderError as exc:
            errors.append(exc)
    return docs, errors


def safe_upload_name(name: str) -> str:
    """A file name that stays inside sources/: basename only, plain characters, known suffix."""
    base = re.split(r"[\\/]", str(name))[-1]
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    suffix = "." + suffix.lower() if suffix else ""
    if suffix not in SUPPORTED_SUFFIXES:
        raise LoaderError(f"{base or name}: unsupported file type {suffix or '(none)'}; supported: "
                          + ", ".join(SUPPORTED_SUFFIXES) + ".")
    stem = re.sub(r"[^\w.-]+", "-", stem, flags=re.UNICODE).strip(".-_")[:80] or "article"
    return stem + suffix
