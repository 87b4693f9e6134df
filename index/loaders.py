"""Load an article file into a SourceDocument.

.txt/.md are kept byte-exact (citations are character offsets into this text, so nothing may be
stripped or normalised; the one exception is a leading UTF-8 BOM, which is an encoding marker, not
content, and would otherwise shift every offset by one and leak into the first quoted word).
.html goes through trafilatura, .pdf through pypdf. Anything else, empty, binary, oversized (in bytes, or
in extracted characters: a small PDF can expand to millions), undecodable gets a LoaderError whose message
names the file, says what is wrong and what to do. A file is parsed once: `ParseCache` keeps what was
extracted (or why it was refused) by the hash of its bytes, so a later build reads it back.
"""
from __future__ import annotations

import hashlib
import html as html_lib
import io
import json
import os
import re
import tempfile
import threading
import time
import unicodedata
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from llama_index.core import Document

# Ordered for messages; SUPPORTED_SUFFIXES is the set used for membership.
_SUFFIX_ORDER = (".txt", ".md", ".html", ".htm", ".pdf")
SUPPORTED_SUFFIXES = frozenset(_SUFFIX_ORDER)
_SUPPORTED_TEXT = ", ".join(_SUFFIX_ORDER)
_DEFAULT_MAX_MB = 5.0
_TITLE_MAX_CHARS = 150
_NAME_MAX_CHARS = 80


def _parse_mb(raw: str | None) -> int:
    """A bad ASSISTANT_MAX_FILE_MB falls back to the default rather than breaking every import."""
    try:
        mb = float(raw) if raw else _DEFAULT_MAX_MB
    except ValueError:
        mb = _DEFAULT_MAX_MB
    return int((mb if mb > 0 else _DEFAULT_MAX_MB) * 1024 * 1024)


MAX_FILE_BYTES = _parse_mb(os.environ.get("ASSISTANT_MAX_FILE_MB"))


def max_file_bytes() -> int:
    """The limit in force: the environment is read per call so a running app or a test can change it."""
    raw = os.environ.get("ASSISTANT_MAX_FILE_MB")
    return _parse_mb(raw) if raw else MAX_FILE_BYTES


_DEFAULT_MAX_TEXT_CHARS = 500_000  # ~80k words: several long articles; embedding it costs minutes on 2 cores
_DEFAULT_MAX_PARSE_SECONDS = 60.0


def _positive(name: str, default: float) -> float:
    try:
        value = float(os.environ.get(name) or default)
    except ValueError:
        return default
    return value if value > 0 else default


def max_text_chars() -> int:
    """Most characters an article may extract to (ASSISTANT_MAX_TEXT_CHARS): what bounds the cost of
    an upload is its text, not its bytes (a 195 KB PDF can extract to 37 M characters)."""
    return int(_positive("ASSISTANT_MAX_TEXT_CHARS", _DEFAULT_MAX_TEXT_CHARS))


def max_parse_seconds() -> float:
    """Longest a PDF's text extraction may take (ASSISTANT_MAX_PARSE_SECONDS)."""
    return _positive("ASSISTANT_MAX_PARSE_SECONDS", _DEFAULT_MAX_PARSE_SECONDS)


def _too_long(name: str, chars: int | None, limit: int) -> "LoaderError":
    size = f"is {chars:,} characters, over" if chars is not None else "goes over"
    stopped = "" if chars is not None else " (the extraction was stopped there)"
    return LoaderError(f"{name}: the extracted text {size} the {limit:,}-character limit{stopped}; split the article "
                       "or raise ASSISTANT_MAX_TEXT_CHARS.")


class LoaderError(ValueError):
    """A file that cannot be indexed; str() is the user-facing message (never a traceback)."""

    lasting = True  # the same bytes would be refused again (False: e.g. a time limit on a busy machine)


@dataclass(frozen=True)
class SourceDocument:
    source_id: str  # the file name: stable across runs, what citations name
    path: Path
    text: str  # what citations point into
    title: str
    language: str  # 'fr' or 'en'
    publisher: str
    content_hash: str  # file bytes + sidecar bytes: editing metadata re-indexes too
    encoding: str = "utf-8"  # how the bytes were decoded ('pdf' for PDFs)

    def to_llama_document(self) -> Document:
        from llama_index.core import Document

        meta = {"source_id": self.source_id, "title": self.title, "language": self.language,
                "publisher": self.publisher, "encoding": self.encoding}
        # No metadata is embedded or shown to the LLM: it would skew vectors and could leak paths.
        return Document(id_=self.source_id, text=self.text, metadata=meta,
                        excluded_embed_metadata_keys=list(meta), excluded_llm_metadata_keys=list(meta))


def sidecar_path(path: Path) -> Path:
    return path.with_name(path.stem + ".meta.json")


# ---------------------------------------------------------------- language
_detector_lock = threading.Lock()
_detector_obj: Any = None


def _detector() -> Any:
    """Built once, on first use. Low-accuracy mode (trigram models only) loads ~10x faster and is as
    accurate on article-length text (lingua's own guidance: above ~120 characters)."""
    global _detector_obj
    with _detector_lock:
        if _detector_obj is None:
            from lingua import Language, LanguageDetectorBuilder

            builder = LanguageDetectorBuilder.from_languages(Language.FRENCH, Language.ENGLISH)
            _detector_obj = builder.with_low_accuracy_mode().build()
        return _detector_obj


def detect_text_language(text: str) -> str:
    """'fr' or 'en'; undecidable text counts as French, the corpus's main language."""
    from lingua import Language

    found = _detector().detect_language_of(text[:5000])
    return "en" if found == Language.ENGLISH else "fr"


# ---------------------------------------------------------------- bytes -> text
_MAGIC = ((b"\x89PNG", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"), (b"GIF8", "a GIF image"),
          (b"PK\x03\x04", "a ZIP archive or Office document"), (b"%PDF", "a PDF: rename it .pdf"),
          (b"\x7fELF", "a program"), (b"MZ", "a Windows program"))
# C0 controls other than tab, LF, FF, CR, plus DEL: text files essentially never contain them.
_CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 12, 13)) + b"\x7f"


def _binary_reason(data: bytes) -> str | None:
    for magic, what in _MAGIC:
        if data.startswith(magic):
            return what
    if b"\x00" in data:
        return "it contains NUL bytes (binary, or UTF-16 text: save it as UTF-8)"
    controls = len(data) - len(data.translate(None, _CONTROL_BYTES))
    if controls / len(data) > 0.05:
        return "too many control characters"
    return None


def _looks_like_text(text: str) -> bool:
    """Guards the single-byte fallbacks, which decode anything: reject C1 controls and mojibake
    (French or English text has few non-ASCII letters; a CJK file read as cp1252 is mostly them)."""
    if not text:
        return False
    unprintable = sum(1 for ch in text if not ch.isprintable() and ch not in "\t\n\r\f")
    if unprintable / len(text) > 0.01:
        return False
    letters = [ch for ch in text if ch.isalpha()]
    non_ascii = sum(1 for ch in letters if ord(ch) > 127)
    return len(letters) < 20 or non_ascii / len(letters) <= 0.3


def _decode(data: bytes, name: str) -> tuple[str, str]:
    """UTF-8 first (a leading BOM is dropped, see the module docstring), else cp1252, else latin-1.
    cp1252 comes first because it is latin-1 plus €, ’, œ… in 0x80-0x9F, where latin-1 has
    only invisible controls; latin-1 is the fallback for the five bytes cp1252 leaves undefined."""
    try:
        text = data.decode("utf-8")
        return (text[1:], "utf-8-sig") if text.startswith("\ufeff") else (text, "utf-8")
    except UnicodeDecodeError:
        pass
    for encoding in ("cp1252", "latin-1"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if _looks_like_text(text):
            return text, encoding
    raise LoaderError(f"{name}: the text is not UTF-8 and does not read as Windows-1252 or Latin-1 either; "
                      "save it as UTF-8 and add it again.")


def _first_line_title(text: str, markdown: bool) -> str:
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    if markdown:
        first = re.sub(r"^#+\s*", "", first).strip()
    return first if len(first) < _TITLE_MAX_CHARS else ""


def _html_text(data: bytes, name: str) -> tuple[str, str, str]:
    import trafilatura

    raw, encoding = _decode(data, name)
    try:
        text = trafilatura.extract(raw, include_comments=False, include_tables=True) or ""
        meta = trafilatura.extract_metadata(raw)
    except Exception as exc:  # lxml/trafilatura fail in assorted ways on broken markup  # noqa: BLE001
        raise LoaderError(f"{name}: this HTML page cannot be parsed ({exc.__class__.__name__}); "
                          "save the article as .txt instead.") from exc
    if not text.strip():
        raise LoaderError(f"{name}: no article text could be extracted from this HTML page; "
                          "copy the article into a .txt file instead.")
    title = (meta.title if meta and meta.title else "") or ""
    if not title:
        found = re.search(r"<title[^>]*>(.*?)</title>", raw, re.I | re.S)
        title = re.sub(r"\s+", " ", html_lib.unescape(found.group(1))).strip() if found else ""
    return text, title, encoding


class _Stop(Exception):
    """Raised from pypdf's text visitor to abandon an extraction that went over a limit."""


def _pdf_text(data: bytes, name: str) -> tuple[str, str]:
    if b"%PDF" not in data[:1024]:  # the spec allows junk before the header, within 1 KB
        raise LoaderError(f"{name}: this is not a PDF file (no PDF header); check the file or its extension.")
    limit, budget = max_text_chars(), max_parse_seconds()
    deadline = time.monotonic() + budget
    extracted = 0

    def watch(text: str, *_args: Any) -> None:
        # Called for every piece of text pypdf decodes: the extraction stops as soon as it goes over a
        # limit, instead of expanding a small file into millions of characters first.
        nonlocal extracted
        extracted += len(text)
        if extracted > limit:
            raise _Stop("chars")
        if time.monotonic() > deadline:
            raise _Stop("time")

    try:
        from pypdf import PdfReader

        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise LoaderError(f"{name}: the PDF is password-protected; export an unprotected copy.")
        pages = []
        for page in reader.pages:
            pages.append(page.extract_text(visitor_text=watch) or "")
            # pypdf swallows errors raised inside a form XObject: the limits are checked per page too.
            if extracted > limit or sum(map(len, pages)) > limit:
                raise _Stop("chars")
            if time.monotonic() > deadline:
                raise _Stop("time")
        text = "\n".join(pages)
        title = str((reader.metadata.title if reader.metadata else "") or "")
    except _Stop as stop:
        if str(stop) == "chars":
            raise _too_long(name, None, limit) from None
        slow = LoaderError(f"{name}: extracting the PDF's text took over {budget:g} s; save the article as .txt "
                           "or raise ASSISTANT_MAX_PARSE_SECONDS.")
        slow.lasting = False
        raise slow from None
    except LoaderError:
        raise
    except Exception as exc:  # pypdf raises many kinds of errors on damaged files  # noqa: BLE001
        raise LoaderError(f"{name}: this PDF cannot be read, it looks damaged ({exc.__class__.__name__}); "
                          "re-export it or save the article as .txt.") from exc
    if not text.strip():
        raise LoaderError(f"{name}: the PDF has no extractable text (a scanned image?); "
                          "run OCR on it or save the article as .txt.")
    return text, title.strip()


def _humanise(stem: str) -> str:
    return re.sub(r"[-_]+", " ", stem).strip().capitalize() or stem


def _read_bounded(path: Path, name: str) -> bytes:
    """stat() before reading so an oversized file costs no memory; the read is capped too, in case
    the file grows between the two."""
    limit = max_file_bytes()
    too_big = (f"{name}: the file is over the {limit / 1048576:g} MB limit; split it or raise "
               "ASSISTANT_MAX_FILE_MB.")
    try:
        if not path.is_file():
            raise LoaderError(f"{name}: not a regular file.")
        size = path.stat().st_size
        if size > limit:
            raise LoaderError(f"{name}: the file is {size / 1048576:.1f} MB, over the {limit / 1048576:g} MB "
                              "limit; split it or raise ASSISTANT_MAX_FILE_MB.")
        with path.open("rb") as fh:
            data = fh.read(limit + 1)
    except OSError as exc:
        raise LoaderError(f"{name}: cannot read the file ({exc.strerror or exc}); check it exists and is readable.") from exc
    if len(data) > limit:
        raise LoaderError(too_big)
    return data


def _sidecar(path: Path) -> tuple[dict[str, str], bytes]:
    side = sidecar_path(path)
    if not side.exists():
        return {}, b""
    fix = "fix it or delete it."
    try:
        if side.stat().st_size > 1024 * 1024:
            raise LoaderError(f"{side.name}: the metadata file is over 1 MB; {fix}")
        raw = side.read_bytes()
    except OSError as exc:
        raise LoaderError(f"{side.name}: cannot read the metadata file ({exc.strerror or exc}); {fix}") from exc
    try:
        meta = json.loads(raw.decode("utf-8-sig"))  # editors on Windows like to add a BOM
    except (ValueError, UnicodeDecodeError) as exc:
        raise LoaderError(f"{side.name}: the metadata file is not valid UTF-8 JSON ({exc}); {fix}") from exc
    if not isinstance(meta, dict):
        raise LoaderError(f"{side.name}: the metadata file must hold a JSON object {{\"title\": ...}}; {fix}")
    for key in ("title", "language", "publisher"):
        if meta.get(key) is not None and not isinstance(meta[key], str):
            raise LoaderError(f"{side.name}: \"{key}\" must be a string; {fix}")
    return {k: v.strip() for k, v in meta.items() if isinstance(v, str)}, raw


# ---------------------------------------------------------------- parse once
@dataclass(frozen=True)
class Extracted:
    """What parsing a file's bytes gave: the text and what was guessed from it, or why it was refused."""

    text: str = ""
    title_guess: str = ""
    encoding: str = ""
    language_guess: str = ""
    error: str = ""


_CACHED_SUFFIXES = frozenset({".pdf", ".html", ".htm"})  # the parses worth keeping on disk (txt/md just decode)


class ParseCache:
    """Parsed files by the sha256 of their bytes (and suffix): in memory for this process, and on disk
    (`directory`, inside the index) for PDFs and HTML, so a file is parsed once, not at every build or
    start. Refusals that came from parsing are kept too (a damaged PDF is not re-read at every build),
    together with the limits they were measured against. Damaged entries are ignored and rewritten."""

    def __init__(self, directory: Path | None = None, memory_chars: int = 20_000_000) -> None:
        self.directory = Path(directory) if directory else None
        self.memory_chars = memory_chars
        self._memory: OrderedDict[str, Extracted] = OrderedDict()
        self._chars = 0
        self._lock = threading.Lock()
        self.used: set[str] = set()  # keys looked up since the last prune
        self.hits = 0
        self.parses = 0

    @staticmethod
    def key(suffix: str, data: bytes) -> str:
        return f"{suffix.lstrip('.')}-{hashlib.sha256(data).hexdigest()}"

    def _limits(self) -> list:
        return [max_text_chars(), max_parse_seconds()]

    def get(self, key: str, suffix: str) -> Extracted | None:
        with self._lock:
            self.used.add(key)
            found = self._memory.get(key)
            if found is not None:
                self._memory.move_to_end(key)
        if found is None and self.directory is not None and suffix in _CACHED_SUFFIXES:
            try:
                raw = json.loads((self.directory / f"{key}.json").read_text(encoding="utf-8"))
                if raw.get("limits") == self._limits() or not raw.get("error"):
                    found = Extracted(**{k: str(raw.get(k, "")) for k in
                                         ("text", "title_guess", "encoding", "language_guess", "error")})
                    if not found.error and len(found.text) > max_text_chars():
                        found = None  # the limit was lowered since: parse again to refuse it properly
            except (OSError, ValueError, TypeError, AttributeError):
                found = None
            if found is not None:
                self._remember(key, found)
        if found is not None:
            self.hits += 1
        return found

    def put(self, key: str, suffix: str, value: Extracted, parsed: bool = True) -> None:
        self.parses += parsed
        self._remember(key, value)
        if self.directory is not None and suffix in _CACHED_SUFFIXES:
            record = {**value.__dict__, "limits": self._limits()}
            tmp = None
            try:
                self.directory.mkdir(parents=True, exist_ok=True)
                fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=f".{key}", suffix=".tmp")
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    json.dump(record, fh, ensure_ascii=False)
                os.replace(tmp, self.directory / f"{key}.json")
            except OSError:  # a read-only index: parsed again next time, nothing else lost
                if tmp:
                    Path(tmp).unlink(missing_ok=True)

    def _remember(self, key: str, value: Extracted) -> None:
        if value.error:  # refusals depend on limits: only the disk entry keeps them, with the limits
            return
        with self._lock:
            old = self._memory.pop(key, None)
            if old is not None:
                self._chars -= len(old.text)
            self._memory[key] = value
            self._chars += len(value.text)
            while self._chars > self.memory_chars and len(self._memory) > 1:
                _, dropped = self._memory.popitem(last=False)
                self._chars -= len(dropped.text)

    def prune(self, keep: set[str] | None = None) -> None:
        """Forget the disk entries of files no longer present (the keys not looked up since the last prune)."""
        keep = self.used if keep is None else keep
        if self.directory is not None and self.directory.is_dir():
            for path in self.directory.glob("*.json"):
                if path.stem not in keep:
                    path.unlink(missing_ok=True)
            for path in self.directory.glob(".*.tmp"):
                path.unlink(missing_ok=True)
        self.used = set()


def _extract(path: Path, suffix: str, data: bytes, name: str) -> Extracted:
    """Parse bytes into text (every check that depends on the bytes only); LoaderError when refused."""
    if suffix == ".pdf":
        text, title_guess = _pdf_text(data, name)
        encoding = "pdf"
        title_guess = title_guess or _first_line_title(text, markdown=False)
    else:
        reason = _binary_reason(data)
        if reason:
            raise LoaderError(f"{name}: the file looks binary ({reason}), not text; "
                              f"add the article as {_SUPPORTED_TEXT}.")
        if suffix in (".html", ".htm"):
            text, title_guess, encoding = _html_text(data, name)
        else:
            text, encoding = _decode(data, name)
            title_guess = _first_line_title(text, markdown=suffix == ".md")
    if not text.strip():  # e.g. a BOM followed by whitespace
        raise LoaderError(f"{name}: the file is empty; add the article's text to it.")
    limit = max_text_chars()
    if len(text) > limit:
        raise _too_long(name, len(text), limit)
    return Extracted(text, title_guess, encoding)


# ---------------------------------------------------------------- public API
def load_source(path: Path, cache: ParseCache | None = None) -> SourceDocument:
    path = Path(path)
    name = path.name
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise LoaderError(f"{name}: unsupported file type {suffix or '(no extension)'}; "
                          f"supported types: {_SUPPORTED_TEXT}.")
    data = _read_bounded(path, name)
    if not data.strip():
        raise LoaderError(f"{name}: the file is empty; add the article's text to it.")
    meta, meta_bytes = _sidecar(path)

    key = ParseCache.key(suffix, data)
    found = cache.get(key, suffix) if cache is not None else None
    if found is None:
        try:
            found = _extract(path, suffix, data, name)
        except LoaderError as exc:
            if cache is not None and exc.lasting:
                # Kept without the file's own name: the same bytes under another name get theirs.
                cache.put(key, suffix, Extracted(error=str(exc).removeprefix(f"{name}: ")))
            raise
        if cache is not None:
            cache.put(key, suffix, found)
    if found.error:
        raise LoaderError(f"{name}: {found.error}")
    text = found.text

    title = meta.get("title") or found.title_guess or _humanise(path.stem)
    language = meta.get("language", "").lower()[:2]  # 'fr-FR' -> 'fr'
    if language not in ("fr", "en"):
        language = found.language_guess if found.language_guess in ("fr", "en") else ""
        if not language:
            language = detect_text_language(text)
            if cache is not None:
                cache.put(key, suffix, Extracted(text, found.title_guess, found.encoding, language), parsed=False)
    # Length-prefixed so the boundary between file and sidecar bytes is unambiguous.
    digest = hashlib.sha256(len(data).to_bytes(8, "big") + data + meta_bytes).hexdigest()
    return SourceDocument(name, path, text, title, language, meta.get("publisher", ""), digest, found.encoding)


def iter_sources(directory: Path, cache: ParseCache | None = None) -> tuple[list[SourceDocument], list[LoaderError]]:
    """Every loadable article of a directory, sorted by name; errors are collected, not raised,
    so one bad file never blocks the others. Sidecars and hidden files (.part uploads) are skipped."""
    docs: list[SourceDocument] = []
    errors: list[LoaderError] = []
    directory = Path(directory)
    if not directory.is_dir():
        return docs, [LoaderError(f"{directory}: the sources directory does not exist; create it or set "
                                  "ASSISTANT_SOURCES_DIR.")]
    for path in sorted(directory.iterdir(), key=lambda p: p.name):
        if path.name.startswith(".") or path.name.endswith(".meta.json") or not path.is_file():
            continue
        try:
            docs.append(load_source(path, cache))
        except LoaderError as exc:
            errors.append(exc)
    return docs, errors


def safe_upload_name(name: str) -> str:
    """A file name that stays inside sources/: basename only, ASCII letters/digits/'.-_' (accents
    folded, anything else '-'), never hidden, a known suffix, at most ~80 characters."""
    base = re.split(r"[\\/]", str(name))[-1].strip()
    stem, dot, ext = base.rpartition(".")
    if not dot:
        stem, ext = base, ""
    suffix = "." + ext.lower() if ext else ""
    if suffix not in SUPPORTED_SUFFIXES:
        raise LoaderError(f"{base or name or '(no name)'}: unsupported file type {suffix or '(no extension)'}; "
                          f"supported types: {_SUPPORTED_TEXT}.")
    folded = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode("ascii")
    clean = re.sub(r"[^A-Za-z0-9._-]+", "-", folded)
    clean = re.sub(r"-{2,}", "-", clean).strip(".-_")[:_NAME_MAX_CHARS].rstrip(".-_")
    return (clean or "article") + suffix
