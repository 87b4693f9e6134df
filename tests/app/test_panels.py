"""The app's pieces without a browser: the proof panel's HTML (badges, several citations, earlier answers),
the chat message, the Articles list, the `/ask` data, the listen address, streaming, per-session chats."""
from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

import app
from assistant import Answer, Citation

TEXT = "Titre\nAvant la phrase. Acme a levé <b>42</b> millions d'euros. Après.\nFin"
OTHER = "Autre titre\nSelon Le Journal, Acme aurait levé 40 millions d'euros en mai.\nFin"


def _cite(text: str, start_at: str, end_at: str, number: int = 1, source_id: str = "evil<.txt",
          title: str = "Titre <script>x</script>", publisher: str = "Pub & <i>Co</i>") -> Citation:
    start = text.index(start_at)
    end = text.index(end_at) + len(end_at)
    return Citation(source_id, title, text[start:end], start, end, 0.9, publisher, number)


def _answer(answered: bool = True, language: str = "fr", verified: bool = True, citations=None,
            text: str = "42 millions d'euros [1]", confidence: float = 0.87) -> Answer:
    cites = [_cite(TEXT, "Acme", "euros.")] if citations is None else citations
    return Answer(text, language, answered, citations=cites, timings={"total": 0.12},
                  verified=verified, confidence=confidence)


def _texts(source_id: str) -> str:
    return OTHER if source_id == "other.txt" else TEXT


def _disagreeing() -> Answer:
    """Two articles that disagree: each figure numbered and cited from its own article."""
    first = _cite(TEXT, "Acme", "euros.", 1, "acme.txt", "Acme lève 42 M€", "Le Quotidien")
    second = _cite(OTHER, "Selon", "mai.", 2, "other.txt", "Acme à 40 M€ ?", "Le Journal")
    return _answer(citations=[first, second], verified=False, text=(
        "Les articles divergent : 42 millions d'euros, d'après l'article [1] : « Acme a levé 42 millions "
        "d'euros. » 40 millions d'euros, d'après l'article [2] : « Selon Le Journal, Acme aurait levé 40 "
        "millions d'euros en mai. »"))


def test_paragraph_bounds_are_the_lines_around_the_span() -> None:
    start = TEXT.index("Acme")
    left, right = app.paragraph_bounds(TEXT, start, start + 4)
    assert TEXT[left:right] == "Avant la phrase. Acme a levé <b>42</b> millions d'euros. Après."
    assert app.paragraph_bounds("one line", 0, 3) == (0, 8)


def test_a_long_paragraph_is_trimmed_around_the_quote() -> None:
    text = "mot " * 1000 + "LA CITATION" + " mot" * 1000
    start = text.index("LA CITATION")
    before, quote, after = app._context(text, start, start + len("LA CITATION"))
    assert quote == "LA CITATION" and before.startswith("… ") and after.endswith(" …")
    assert len(before) <= app.CONTEXT + 3 and len(after) <= app.CONTEXT + 3


def test_proof_html_escapes_every_article_text_and_marks_the_quote() -> None:
    html = app.proof_html(_answer(), lambda sid: TEXT, question="<img src=x onerror=alert(1)>")
    assert "<script>" not in html and "<b>" not in html and "<i>" not in html and "<img" not in html
    assert "&lt;script&gt;" in html and "Pub &amp; &lt;i&gt;Co&lt;/i&gt;" in html and "evil&lt;.txt" in html
    assert "<mark>Acme a levé &lt;b&gt;42&lt;/b&gt; millions d&#x27;euros.</mark>" in html
    assert "Avant la phrase. <mark>" in html and "</mark> Après." in html
    assert "✓ Vérifié dans les articles" in html


# ---------------------------------------------------------------- badges
@pytest.mark.parametrize("language, verified_label, unverified_label, refused_label, relevant", [
    ("en", "✓ Verified in the articles", "Answered, not verified: read the quote", "Not answered", "May be relevant"),
    ("fr", "✓ Vérifié dans les articles", "Réponse non vérifiée : lisez la citation", "Pas de réponse",
     "Peut-être pertinent"),
])
def test_badges_follow_the_engines_verdict(language, verified_label, unverified_label, refused_label,
                                           relevant) -> None:
    def badges(answer: Answer) -> list[str]:
        return re.findall(r"<span class='badge (\w+)'>([^<]*)</span>", app.proof_html(answer, _texts))

    assert badges(_answer(language=language)) == [("ok", verified_label)]
    # answered, but the engine is not confident: no green badge anywhere, in the panel or the chat
    unsure = _answer(language=language, verified=False)
    assert badges(unsure) == [("warn", unverified_label)]
    assert "✓" not in app.proof_html(unsure, _texts) and "✓" not in app.chat_answer(unsure.text, unsure)
    # a refusal that offers a passage: "Not answered", and the passage "may be relevant"
    refusal = _answer(answered=False, language=language, verified=True)  # verified means nothing unanswered
    html = app.proof_html(refusal, _texts)
    assert badges(refusal) == [("no", refused_label)] and "✓" not in html
    assert f"<span class='relevant'>{relevant}</span>" in html and "cite cite-1 closest" in html
    chat = app.chat_answer(refusal.text, refusal)
    assert refused_label in chat and relevant in chat and "✓" not in chat
    # a refusal with no passage at all says the articles do not hold it
    bare = _answer(answered=False, language=language, citations=[])
    assert ("Not in the articles" if language == "en" else "Pas dans les articles") in app.proof_html(bare, _texts)
    assert app.answer_status(bare) == "not_answered"


def test_an_answer_without_the_verified_field_is_never_shown_as_verified() -> None:
    old = SimpleNamespace(text="42 [1]", language="en", answered=True, citations=[_cite(TEXT, "Acme", "euros.")],
                          engine="extractive", fallback_reason="", timings={})
    assert app.answer_status(old) == "unverified"
    assert "✓" not in app.proof_html(old, _texts)
    assert app.answer_data(old)["verified"] is False and app.answer_data(old)["confidence"] == 0.0


def test_confidence_is_shown_only_as_a_probability() -> None:
    assert "confiance 87 %" in app.proof_html(_answer(), _texts)
    assert "confidence 87%" in app.proof_html(_answer(language="en"), _texts)
    for odd in (0.0, 1.7):
        assert "confi" not in app.proof_html(_answer(confidence=odd), _texts)
    assert "confi" not in app.proof_html(_answer(answered=False), _texts)


def test_an_answer_from_an_uploaded_article_says_so() -> None:
    answer = _disagreeing()

    def origin(source_id: str) -> str:
        return "uploaded" if source_id == "other.txt" else "bundled"

    html = app.proof_html(answer, _texts, origin=origin)
    first, second = html.split("cite cite-2")
    assert "from an article you added" not in html  # French answer: French label
    assert "d'un article que vous avez ajouté" not in first and "d'un article que vous avez ajouté" in second
    chat = app.chat_answer(answer.text, answer, origin)
    assert chat.count("d'un article que vous avez ajouté") == 1
    english = _answer(language="en", text="$42 million [1]")
    assert "from an article you added" in app.proof_html(english, _texts, origin=lambda sid: "uploaded")
    assert "added" not in app.proof_html(english, _texts, origin=lambda sid: "")  # unknown origin: nothing said


# ---------------------------------------------------------------- several citations
def test_two_articles_that_disagree_are_shown_numbered_side_by_side() -> None:
    answer = _disagreeing()
    html = app.proof_html(answer, _texts)
    assert "<div class='cites many'>" in html
    cites = re.findall(r"<div class='cite cite-(\d)' data-n='\d'><div class='title'><span class='num'>(\d)</span>"
                       r"([^<]*)", html)
    assert cites == [("1", "1", "Acme lève 42 M€ "), ("2", "2", "Acme à 40 M€ ? ")]  # then the publisher
    marks = re.findall(r"<mark>(.*?)</mark>", html)
    assert marks == ["Acme a levé &lt;b&gt;42&lt;/b&gt; millions d&#x27;euros.",
                     "Selon Le Journal, Acme aurait levé 40 millions d&#x27;euros en mai."]
    assert "acme.txt · caractères" in html and "other.txt · caractères" in html
    assert "Réponse non vérifiée" in html and "✓" not in html  # the engine did not verify one figure

    chat = app.chat_answer(answer.text, answer)
    assert chat.count("<span class='ref ref-1'>[1]</span>") == 2 and chat.count("<span class='ref ref-2'>[2]</span>") == 2
    assert re.findall(r"<strong>(.*?)</strong>", chat) == [
        "Les articles divergent : 42 millions d'euros, d'après l'article", "40 millions d'euros, d'après l'article"]
    assert "» \n<strong>40" not in chat and "»\n<strong>40 millions" in chat  # each part on its own line
    cards = re.findall(r"<span class='src src-(\d)'[^>]*><span class='ref ref-\d'>\[\d\]</span> ([^<]*)</span>", chat)
    assert cards == [("1", "Acme lève 42 M€ — Le Quotidien"), ("2", "Acme à 40 M€ ? — Le Journal")]


def test_a_real_compound_answer_renders_each_citation(app_assistant) -> None:
    """The real engine on a compound question: each of its citations numbered in the chat and in the
    panel, each quote highlighted exactly where the article has it."""
    question = "Combien xAI a-t-elle levé et à quelle valorisation ?"
    answer = app_assistant.ask(question)
    assert len(answer.citations) >= 2, answer.text
    html = app.proof_html(answer, app_assistant.source_text, question, app.origin_lookup(app_assistant))
    assert "<div class='cites many'>" in html
    chat = app.chat_answer(answer.text, answer, app.origin_lookup(app_assistant))
    for c in answer.citations:
        assert app_assistant.source_text(c.source_id)[c.start:c.end] == c.quote
        assert f"<div class='cite cite-{c.number}" in html
        assert f"<mark>{app.esc(c.quote)}</mark>" in html
        assert f"<span class='ref ref-{c.number}'>[{c.number}]</span>" in chat
        assert f"<span class='src src-{c.number}'" in chat
    assert chat.count("<strong>") == len(answer.citations)  # each part's own words in bold before its marker


def test_markers_that_are_not_the_answers_stay_text() -> None:
    answer = _answer(text="42 millions d'euros [1] : « Acme [3] a levé »")
    chat = app.chat_answer(answer.text, answer)
    assert "ref-3" not in chat and "[3]" in chat and "ref-1" in chat


def test_chat_text_is_escaped_for_the_chatbot() -> None:
    assert app.chat_text("<img src=x> l'article & co") == "&lt;img src=x&gt; l'article &amp; co"


def test_answer_lead_is_bold_and_the_rest_escaped() -> None:
    assert app.chat_answer("42 M€, d'après l'article [1] : « <b>x</b> »") == (
        "<strong>42 M€, d'après l'article</strong> <span class='ref ref-1'>[1]</span> : « &lt;b&gt;x&lt;/b&gt; »")
    assert app.chat_answer("<i>Posez une question.</i>") == "&lt;i&gt;Posez une question.&lt;/i&gt;"
    # a streamed draft whose quote is not closed yet
    assert app.chat_answer("$1 billion, according to the article [1]: “selon") == (
        "<strong>$1 billion, according to the article</strong> <span class='ref ref-1'>[1]</span>: “selon")


def test_sources_under_an_answer_escape_titles() -> None:
    answer = _answer()
    chat = app.chat_answer(answer.text, answer)
    assert "<script>" not in chat and "Titre &lt;script&gt;x&lt;/script&gt; — Pub &amp; &lt;i&gt;Co&lt;/i&gt;" in chat
    assert "<span class='chip ok'>✓ Vérifié dans les articles</span>" in chat


# ---------------------------------------------------------------- the panel across answers
def test_the_panel_keeps_every_answers_proof_and_shows_the_latest() -> None:
    turns = {0: app.turn_html(_answer(), _texts, "première", turn=0),
             1: app.error_turn_html("Sorry <b>", turn=1),
             2: app.turn_html(_disagreeing(), _texts, "troisième", turn=2)}
    html = app.panel_html(turns)
    sections = re.findall(r"<section class='(turn[^']*)' data-turn='(\d)'", html)
    assert sections == [("turn", "0"), ("turn", "1"), ("turn shown", "2")]
    assert "data-turns='3' data-shown='2'" in html and "Sorry &lt;b&gt;" in html
    first, second = re.findall(r"data-answer='(\d+)'", html), re.findall(r"data-answer='(\d+)'", app.panel_html(turns))
    assert first != second  # every update is told apart (the browser tests wait on it)
    assert "data-answer='0'" in app.panel_html({}) and "<section" not in app.panel_html({})


def test_respond_streams_then_gives_the_final_answer_and_its_proof(app_assistant) -> None:
    steps = list(app.respond(app_assistant, "Combien xAI perd-elle par mois ?", [], None))
    assert len(steps) >= 4  # the question at once, several partial answers, then the final one
    first_history, session, _, box = steps[0]
    assert first_history == [{"role": "user", "content": "Combien xAI perd-elle par mois ?"}] and box == ""
    partial = [s[0][-1]["content"] for s in steps[1:-1]]
    assert all(len(a) <= len(b) for a, b in zip(partial, partial[1:]))
    history, session2, proof, _ = steps[-1]
    assert session2 is session and "1 milliard de dollars par mois" in history[-1]["content"]
    assert "<mark>" in proof and "mac4ever" in proof and "<section class='turn shown' data-turn='0'" in proof
    assert "class='sources'" in history[-1]["content"]  # the numbered sources under the final answer
    # the same session goes on, and the panel now holds both proofs
    steps = list(app.respond(app_assistant, "What is xAI valued at?", history, session))
    history, session3, proof, _ = steps[-1]
    assert session3 is session and sorted(session.turns) == [0, 1] and len(history) == 4
    assert "<section class='turn' data-turn='0'" in proof and "<section class='turn shown' data-turn='1'" in proof
    assert "1 milliard de dollars par mois" in proof  # the first answer's proof is still there
    other = list(app.respond(app_assistant, "How many GPUs does Meta run?", [], None))
    assert other[-1][1] is not session and session.chat.assistant is other[-1][1].chat.assistant
    assert "data-turn='0'" in other[-1][2] and "data-turn='1'" not in other[-1][2]


def test_a_failing_question_keeps_its_place_in_the_panel(app_assistant, monkeypatch) -> None:
    session = app.Session(app_assistant.chat())
    history = list(app.respond(app_assistant, "What is xAI valued at?", [], session))[-1][0]

    def broken(chat, question):
        raise RuntimeError("boom")
        yield  # pragma: no cover

    monkeypatch.setattr(app, "_deltas", broken)
    history, _, proof, _ = list(app.respond(app_assistant, "And its losses?", history, session))[-1]
    assert "went wrong" in history[-1]["content"] and "badge err" in proof
    assert "<section class='turn shown' data-turn='1' data-status='error'" in proof
    assert "boom" not in proof  # no internals on the page


def test_only_the_latest_turns_are_kept() -> None:
    session = app.Session(None)
    for i in range(app.MAX_TURNS + 5):
        session.keep(i, f"<section class='turn' data-turn='{i}'></section>")
    assert len(session.turns) == app.MAX_TURNS and min(session.turns) == 5


def test_empty_message_does_nothing(app_assistant) -> None:
    steps = list(app.respond(app_assistant, "   ", [], None))
    assert len(steps) == 1 and steps[0][0] == []


# ---------------------------------------------------------------- the Articles list
class _Library:
    """An assistant's article list, for the list's HTML and the remove action."""

    def __init__(self, entries, can_remove: bool = True) -> None:
        self.entries = list(entries)
        self.removed: list[str] = []
        if can_remove:
            self.remove_source = self._remove

    def sources(self):
        return list(self.entries)

    def _remove(self, source_id: str) -> None:
        self.removed.append(source_id)
        self.entries = [e for e in self.entries if e.source_id != source_id]


def _entry(source_id: str, origin: str, added_at: str = "", title: str = "A title", chunks: int = 3):
    return SimpleNamespace(source_id=source_id, title=title, publisher="Pub", language="fr", chunks=chunks,
                           origin=origin, added_at=added_at)


def test_articles_list_shows_origin_time_and_remove_for_uploads_only() -> None:
    library = _Library([_entry("bundled.txt", "bundled", "2026-11-01T09:00:00+00:00"),
                        _entry("mine.html", "uploaded", "2026-12-01T22:53:10.123456+00:00",
                               title="<script>alert(1)</script>", chunks=7)])
    html = app.articles_html(library)
    header = re.findall(r"<th>([^<]*)</th>", html)
    assert header == ["Article (2)", "Language", "Chunks", "Origin", "Added", ""]
    rows = re.findall(r"<tr data-source='([^']*)' data-origin='(\w+)'>(.*?)</tr>", html)
    assert [(r[0], r[1]) for r in rows] == [("bundled.txt", "bundled"), ("mine.html", "uploaded")]
    assert "button" not in rows[0][2]
    assert "<button type='button' class='remove' data-source='mine.html'" in rows[1][2]
    assert "<td class='n'>7</td><td class='origin'>uploaded</td>" in rows[1][2]
    assert ">2026-12-01 22:53 UTC</time>" in rows[1][2] and "2026-11-01 09:00 UTC" in rows[0][2]
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    # an entry from before origins were recorded
    old = SimpleNamespace(source_id="old.txt", title="Old", publisher="", language="en", chunks=1)
    assert "<td class='origin'>—</td><td class='when'>—</td><td></td>" in app.articles_html(_Library([old]))
    assert "No article is indexed yet" in app.articles_html(_Library([]))


def test_remove_takes_uploaded_articles_only() -> None:
    library = _Library([_entry("bundled.txt", "bundled"), _entry("mine.html", "uploaded")])
    assert "only articles you added" in app.remove_article(library, "bundled.txt") and library.removed == []
    assert "not in the index" in app.remove_article(library, "nope.txt")
    status = app.remove_article(library, "mine.html")
    assert "removed" in status and library.removed == ["mine.html"] and "error" not in status
    assert "not in the index" in app.remove_article(library, "mine.html")  # a second click: nothing to do
    without = _Library([_entry("mine.html", "uploaded")], can_remove=False)
    assert "not available" in app.remove_article(without, "mine.html")

    def refuses(source_id: str) -> None:
        raise ValueError("mine.html is being indexed; try again")

    failing = _Library([_entry("mine.html", "uploaded")])
    failing.remove_source = refuses
    assert "could not be removed (mine.html is being indexed; try again)" in app.remove_article(failing, "mine.html")


# ---------------------------------------------------------------- the API's data, the address
def test_answer_data_is_the_documented_structure() -> None:
    answer = _disagreeing()
    data = app.answer_data(answer, lambda sid: "uploaded" if sid == "other.txt" else "bundled")
    assert set(data) == {"text", "language", "answered", "engine", "verified", "confidence", "fallback_reason",
                         "citations"}
    assert (data["language"], data["answered"], data["engine"], data["verified"]) == ("fr", True, "extractive", False)
    assert [(c["number"], c["source_id"], c["origin"]) for c in data["citations"]] == [
        (1, "acme.txt", "bundled"), (2, "other.txt", "uploaded")]
    for c in data["citations"]:
        assert _texts(c["source_id"])[c["start"]:c["end"]] == c["quote"]
        assert set(c) == {"number", "source_id", "title", "publisher", "quote", "start", "end", "origin"}
    assert app.answer_data(_answer(answered=False, verified=True))["verified"] is False


@pytest.mark.parametrize("env, expected", [
    ({}, ("127.0.0.1", 7860)),
    ({"GRADIO_SERVER_NAME": "0.0.0.0", "GRADIO_SERVER_PORT": "8080"}, ("0.0.0.0", 8080)),
    ({"ASSISTANT_HOST": "127.0.0.2", "GRADIO_SERVER_NAME": "0.0.0.0"}, ("127.0.0.2", 7860)),
    ({"ASSISTANT_PORT": "9000", "GRADIO_SERVER_PORT": "8080"}, ("127.0.0.1", 9000)),
    ({"ASSISTANT_HOST": "", "GRADIO_SERVER_NAME": "::1", "ASSISTANT_PORT": "", "GRADIO_SERVER_PORT": "7999"},
     ("::1", 7999)),
])
def test_listen_address_prefers_the_projects_variables_then_gradios(env, expected) -> None:
    assert app.listen_address(env) == expected


@pytest.mark.parametrize("env, named", [({"GRADIO_SERVER_PORT": "http"}, "GRADIO_SERVER_PORT='http'"),
                                        ({"ASSISTANT_PORT": "70000"}, "ASSISTANT_PORT='70000'")])
def test_a_bad_port_stops_with_the_variables_name(env, named) -> None:
    with pytest.raises(SystemExit, match=named):
        app.listen_address(env)


def test_main_serves_where_gradios_variables_say(monkeypatch) -> None:
    """`python app.py` with only Gradio's variables set: the app listens where they say."""
    for name in ("ASSISTANT_HOST", "ASSISTANT_PORT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GRADIO_SERVER_NAME", "127.0.0.3")
    monkeypatch.setenv("GRADIO_SERVER_PORT", "7123")
    served = {}
    monkeypatch.setattr(app, "get_assistant", lambda: _Library([]))
    monkeypatch.setattr(app, "build_demo", lambda assistant: "demo")
    monkeypatch.setattr(app, "launch", lambda demo, host, port: served.update(demo=demo, host=host, port=port))
    app.main()
    assert served == {"demo": "demo", "host": "127.0.0.3", "port": 7123}


def test_engine_label_names_the_llm() -> None:
    class Fake:
        llm = None

    assert app.engine_label(Fake()) == "Engine: extractive (no LLM)"
    Fake.llm = type("E", (), {"name": "qwen2.5 (Ollama)"})()
    assert app.engine_label(Fake()) == "Engine: qwen2.5 (Ollama) (LLM, verified)"
