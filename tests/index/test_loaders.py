"""index.loaders: every file either loads exactly or is refused with a message a user can act on."""
from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from index import loaders
from index.loaders import (
    MAX_FILE_BYTES,
    SUPPORTED_SUFFIXES,
    LoaderError,
    iter_sources,
    load_source,
    safe_upload_name,
)

SOURCES = Path(__file__).resolve().parents[2] / "sources"


def write(tmp_path: Path, name: str, content: bytes | str, meta: dict | None = None) -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    if meta is not None:
        loaders.sidecar_path(path).write_text(json.dumps(meta), encoding="utf-8")
    return path


def refused(path: Path, names: Path | None = None) -> str:
    """The LoaderError's message, checked to start with the culprit's file name."""
    with pytest.raises(LoaderError) as info:
        load_source(path)
    message = str(info.value)
    assert message.startswith((names or path).name + ":") and "Traceback" not in message
    return message


FR = {"language": "fr"}  # skips language detection where a test is not about it


# ---------------------------------------------------------------- the real articles
def test_real_articles_load_byte_exact_with_sidecar_metadata() -> None:
    docs, errors = iter_sources(SOURCES)
    assert errors == []
    assert [d.source_id for d in docs] == sorted(p.name for p in SOURCES.glob("*.txt"))
    for doc in docs:
        meta = json.loads(loaders.sidecar_path(doc.path).read_text(encoding="utf-8"))
        assert doc.text == doc.path.read_bytes().decode("utf-8")
        assert (doc.title, doc.language, doc.publisher) == (meta["title"], meta["language"], meta["publisher"])
        assert doc.encoding == "utf-8" and len(doc.content_hash) == 64
    by_id = {d.source_id: d for d in docs}
    assert by_id["xai-pertes-1-milliard-par-mois-mac4ever.txt"].publisher == "mac4ever"


def test_llama_document_embeds_no_metadata(tmp_path: Path) -> None:
    doc = load_source(write(tmp_path, "a.txt", "xAI a levé 6 milliards.", {"title": "T", "publisher": "P", **FR}))
    ld = doc.to_llama_document()
    assert ld.id_ == "a.txt" and ld.text == doc.text
    assert {"source_id", "title", "language", "publisher"} <= set(ld.metadata)
    assert str(tmp_path) not in json.dumps(ld.metadata)
    from llama_index.core.schema import MetadataMode

    assert ld.get_content(MetadataMode.EMBED) == doc.text
    assert ld.get_content(MetadataMode.LLM) == doc.text


# ---------------------------------------------------------------- text fidelity, titles, language
def test_txt_is_byte_exact_crlf_and_spacing_kept(tmp_path: Path) -> None:
    body = "  Titre court\r\n\r\nxAI a levé 6 milliards de dollars.  \r\n\t\n"
    doc = load_source(write(tmp_path, "crlf.txt", body, FR))
    assert doc.text == body
    assert doc.title == "Titre court"  # first non-empty line, short


def test_utf8_bom_is_dropped_and_recorded(tmp_path: Path) -> None:
    doc = load_source(write(tmp_path, "bom.txt", "\ufeffxAI lève 6 milliards.\n".encode("utf-8"), FR))
    assert doc.text == "xAI lève 6 milliards.\n" and doc.encoding == "utf-8-sig"


def test_titles_md_heading_long_first_line_and_stem(tmp_path: Path) -> None:
    md = load_source(write(tmp_path, "note.md", "\n# xAI lève 6 milliards\n\nTexte.\n", FR))
    assert md.title == "xAI lève 6 milliards" and md.text.startswith("\n# xAI")
    long_first = "Phrase très longue " * 10 + "\nSuite.\n"
    assert load_source(write(tmp_path, "xai-pertes_mensuelles.txt", long_first, FR)).title == "Xai pertes mensuelles"


def test_language_detected_without_sidecar(tmp_path: Path) -> None:
    en = write(tmp_path, "en.txt", "The company said on Tuesday that it had raised six billion dollars from investors.")
    fr = write(tmp_path, "fr.txt", "La société a annoncé mardi avoir levé six milliards de dollars auprès d'investisseurs.")
    assert load_source(en).language == "en" and load_source(fr).language == "fr"
    assert load_source(write(tmp_path, "x.txt", "Some English words here.", {"language": "FR-fr"})).language == "fr"


def test_content_hash_changes_with_sidecar(tmp_path: Path) -> None:
    path = write(tmp_path, "a.txt", "Texte identique.", {"title": "Un", **FR})
    first = load_source(path).content_hash
    assert load_source(path).content_hash == first  # stable
    loaders.sidecar_path(path).write_text(json.dumps({"title": "Deux", **FR}), encoding="utf-8")
    assert load_source(path).content_hash != first


# ---------------------------------------------------------------- encodings
def test_latin1_french_decodes(tmp_path: Path) -> None:
    text = "Élodie a levé 5 millions d'euros à Marseille, déclare-t-elle. Ça coûte cher !"
    doc = load_source(write(tmp_path, "latin1.txt", text.encode("latin-1"), FR))
    assert doc.text == text and doc.encoding in ("cp1252", "latin-1")


def test_cp1252_euro_and_curly_apostrophe(tmp_path: Path) -> None:
    text = "L’entreprise a levé 5 000 000 € et l’œuvre « coûte » 3 €."
    doc = load_source(write(tmp_path, "cp1252.txt", text.encode("cp1252"), FR))
    assert doc.text == text and doc.encoding == "cp1252"


def test_latin1_fallback_for_bytes_cp1252_leaves_undefined(tmp_path: Path) -> None:
    # 0x81 is undefined in cp1252: the file is decoded as latin-1, French letters still right.
    data = ("Élodie a levé 5 millions d'euros. " * 4).encode("latin-1") + b"\x81\n"
    doc = load_source(write(tmp_path, "odd.txt", data, FR))
    assert doc.encoding == "latin-1" and doc.text.startswith("Élodie a levé")


def test_mojibake_is_refused(tmp_path: Path) -> None:
    # Japanese in Shift-JIS: not UTF-8, and as cp1252 it is mostly accented-letter garbage.
    data = ("日本語のニュース記事です。投資家から六十億ドルを調達しました。" * 3).encode("shift_jis")
    assert "UTF-8" in refused(write(tmp_path, "sjis.txt", data, FR))


# ---------------------------------------------------------------- refusals
@pytest.mark.parametrize("name", ["virus.exe", "lettre.docx", "image.png", "noext"])
def test_unknown_suffix_names_supported_types(tmp_path: Path, name: str) -> None:
    message = refused(write(tmp_path, name, "du texte"))
    assert "unsupported" in message and all(s in message for s in SUPPORTED_SUFFIXES)


@pytest.mark.parametrize("content", [b"", b"   \n\t\r\n  ", b"\xef\xbb\xbf \n"])
def test_empty_or_whitespace_only(tmp_path: Path, content: bytes) -> None:
    assert "empty" in refused(write(tmp_path, "vide.txt", content))


@pytest.mark.parametrize("content", [
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10",  # a PNG renamed .txt
    b"du texte\x00avec un NUL",
    b"abc\x01\x02\x03\x04\x05\x06\x07\x08def\x0e\x0f\x10\x11ghi",  # mostly control characters
])
def test_binary_is_refused(tmp_path: Path, content: bytes) -> None:
    assert "looks binary" in refused(write(tmp_path, "image.txt", content))


def test_oversized_file_refused_from_stat_without_reading(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "huge.txt"
    with path.open("wb") as fh:
        fh.truncate(50 * 1024 * 1024)  # sparse: no disk, and it must not be read into memory either

    def no_read(*_a, **_k):
        raise AssertionError("an oversized file was opened")

    monkeypatch.setattr(Path, "open", no_read)
    monkeypatch.setattr(Path, "read_bytes", no_read)
    message = refused(path)
    assert f"{MAX_FILE_BYTES / 1048576:g} MB" in message and "ASSISTANT_MAX_FILE_MB" in message


def test_size_limit_env_override(tmp_path: Path, monkeypatch) -> None:
    path = write(tmp_path, "moyen.txt", "Texte en français. " * 70_000, FR)  # ~1.3 MB
    monkeypatch.setenv("ASSISTANT_MAX_TEXT_CHARS", "2000000")  # the text limit is not the one under test
    assert load_source(path).text
    monkeypatch.setenv("ASSISTANT_MAX_FILE_MB", "1")
    assert "1 MB" in refused(path)


def test_extracted_text_is_capped(tmp_path: Path, monkeypatch) -> None:
    """What an article costs is its text, not its bytes: over ASSISTANT_MAX_TEXT_CHARS is refused, named."""
    path = write(tmp_path, "long.txt", "Texte en français. " * 40_000, FR)  # 760,000 characters
    message = refused(path)
    assert "760,000 characters" in message and "500,000-character limit" in message
    assert "ASSISTANT_MAX_TEXT_CHARS" in message
    monkeypatch.setenv("ASSISTANT_MAX_TEXT_CHARS", "1000000")
    assert len(load_source(path).text) == 760_000


@pytest.mark.parametrize("sidecar", ["{not json", "[1, 2]", '{"title": 3}'])
def test_malformed_sidecar_names_the_sidecar(tmp_path: Path, sidecar: str) -> None:
    path = write(tmp_path, "article.txt", "Du texte.")
    loaders.sidecar_path(path).write_text(sidecar, encoding="utf-8")
    refused(path, names=loaders.sidecar_path(path))


# ---------------------------------------------------------------- HTML
PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Page &amp; titre</title>
<script>alert(1)</script><style>body { color: red }</style></head><body>
<nav><a href="/">Accueil</a> | <a href="/tech">Tech</a> | <a href="/eco">Économie</a></nav>
<article><h1>xAI lève 6 milliards</h1>
<p>La société xAI d'Elon Musk a levé près de 6 milliards de dollars auprès de plusieurs investisseurs, selon le Financial Times.</p>
<script>alert(1)</script>
<p>Cette levée de fonds valorise l'entreprise à 24 milliards de dollars, un montant considérable pour une société aussi jeune.</p>
</article><footer>© 2024 Tous droits réservés. Mentions légales. Cookies.</footer></body></html>"""


def test_html_main_text_without_script_or_chrome(tmp_path: Path) -> None:
    doc = load_source(write(tmp_path, "page.html", PAGE, FR))
    assert "près de 6 milliards de dollars" in doc.text and "24 milliards" in doc.text
    for junk in ("alert", "color: red", "Accueil", "Tous droits réservés"):
        assert junk not in doc.text
    assert doc.title in ("xAI lève 6 milliards", "Page & titre")


def test_html_title_falls_back_to_title_tag_then_sidecar_wins(tmp_path: Path) -> None:
    page = PAGE.replace("<h1>xAI lève 6 milliards</h1>", "")
    assert load_source(write(tmp_path, "p.htm", page, FR)).title == "Page & titre"
    assert load_source(write(tmp_path, "q.htm", page, {"title": "Du sidecar", **FR})).title == "Du sidecar"


def test_html_without_article_text(tmp_path: Path) -> None:
    page = "<html><head><title>Vide</title><script>alert(1)</script></head><body></body></html>"
    assert "no article text" in refused(write(tmp_path, "vide.html", page))


# ---------------------------------------------------------------- PDF
def _pdf(text: str | None) -> bytes:
    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    writer = PdfWriter()
    page = writer.add_blank_page(width=400, height=200)
    if text is not None:  # a one-line Helvetica text page, built by hand: no extra dependency
        font = DictionaryObject({NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
                                 NameObject("/BaseFont"): NameObject("/Helvetica")})
        page[NameObject("/Resources")] = DictionaryObject(
            {NameObject("/Font"): DictionaryObject({NameObject("/F1"): writer._add_object(font)})})
        stream = DecodedStreamObject()
        stream.set_data(f"BT /F1 12 Tf 20 100 Td ({text}) Tj ET".encode("latin-1"))
        page[NameObject("/Contents")] = writer._add_object(stream)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_pdf_text_is_extracted(tmp_path: Path) -> None:
    doc = load_source(write(tmp_path, "rapport.pdf", _pdf("xAI perd 1 milliard de dollars par mois."), FR))
    assert "xAI perd 1 milliard de dollars par mois." in doc.text
    assert doc.encoding == "pdf" and doc.title == "xAI perd 1 milliard de dollars par mois."


def test_blank_pdf_has_no_extractable_text(tmp_path: Path) -> None:
    assert "no extractable text" in refused(write(tmp_path, "scan.pdf", _pdf(None)))


@pytest.mark.parametrize("content", [b"%PDF-1.7\n\x00garbage\x01 not a pdf body", b"plain text named .pdf"])
def test_corrupted_pdf_is_a_loader_error(tmp_path: Path, content: bytes) -> None:
    assert "PDF" in refused(write(tmp_path, "casse.pdf", content))


def test_truncated_pdf_is_a_loader_error(tmp_path: Path) -> None:
    data = _pdf("Du texte.")
    refused(write(tmp_path, "tronque.pdf", data[: len(data) // 3]))


# ---------------------------------------------------------------- directory and uploads
def test_iter_sources_sorted_skips_sidecars_and_hidden_collects_errors(tmp_path: Path) -> None:
    write(tmp_path, "b.txt", "Deuxième article.", FR)
    write(tmp_path, "a.md", "# Premier\n\nArticle.", FR)
    write(tmp_path, ".b.txt.part", "upload en cours")
    write(tmp_path, "vide.txt", "")
    write(tmp_path, "image.png", b"\x89PNG\r\n")
    (tmp_path / "sub").mkdir()
    docs, errors = iter_sources(tmp_path)
    assert [d.source_id for d in docs] == ["a.md", "b.txt"]
    assert sorted(str(e).split(":")[0] for e in errors) == ["image.png", "vide.txt"]
    assert all(isinstance(e, LoaderError) for e in errors)


def test_iter_sources_missing_directory(tmp_path: Path) -> None:
    docs, errors = iter_sources(tmp_path / "absent")
    assert docs == [] and len(errors) == 1 and "does not exist" in str(errors[0])


@pytest.mark.parametrize(("raw", "expected"), [
    ("../../x.txt", "x.txt"),
    ("..\\..\\windows\\evil.md", "evil.md"),
    ("/etc/passwd.txt", "passwd.txt"),
    ("Élodie a levé: 5M€?.TXT", "Elodie-a-leve-5M.txt"),
    ("..txt", "article.txt"),
    (".hidden.html", "hidden.html"),
    ("rapport annuel (final).PDF", "rapport-annuel-final.pdf"),
])
def test_safe_upload_name(raw: str, expected: str) -> None:
    assert safe_upload_name(raw) == expected


def test_safe_upload_name_length_and_suffix() -> None:
    long = safe_upload_name("a" * 500 + ".htm")
    assert long.endswith(".htm") and len(long) <= 90
    for bad in ("x.exe", "x.meta.json", "../../etc/passwd", ""):
        with pytest.raises(LoaderError, match="unsupported"):
            safe_upload_name(bad)
