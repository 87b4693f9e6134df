"""The app's pieces without a browser: the proof panel's HTML, paragraphs, streaming, per-session chats."""
from __future__ import annotations

import app
from assistant import Answer, Citation

TEXT = "Titre\nAvant la phrase. Acme a levé <b>42</b> millions d'euros. Après.\nFin"


def _answer(answered: bool = True, language: str = "fr") -> Answer:
    start = TEXT.index("Acme")
    end = TEXT.index("euros.") + len("euros.")
    cite = Citation("evil<.txt", "Titre <script>x</script>", TEXT[start:end], start, end, 0.9, "Pub & <i>Co</i>", 1)
    return Answer("42 millions d'euros [1]", language, answered, citations=[cite], timings={"total": 0.12})


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
    assert "Vérifié dans les articles" in html


def test_refusal_badge_follows_the_answer_language() -> None:
    assert "Not in the articles" in app.proof_html(_answer(False, "en"), lambda sid: TEXT)
    assert "Pas dans les articles" in app.proof_html(_answer(False, "fr"), lambda sid: TEXT)
    assert "Not in the articles" not in app.proof_html(_answer(True, "en"), lambda sid: TEXT)


def test_chat_text_is_escaped_for_the_chatbot() -> None:
    assert app.chat_text("<img src=x> l'article & co") == "&lt;img src=x&gt; l'article &amp; co"


def test_answer_lead_is_bold_and_the_rest_escaped() -> None:
    assert app.chat_answer("42 M€, d'après l'article [1] : « <b>x</b> »") == (
        "<strong>42 M€, d'après l'article</strong> [1] : « &lt;b&gt;x&lt;/b&gt; »")
    assert app.chat_answer("<i>Posez une question.</i>") == "&lt;i&gt;Posez une question.&lt;/i&gt;"


def test_respond_streams_then_gives_the_final_answer_and_its_proof(app_assistant) -> None:
    steps = list(app.respond(app_assistant, "Combien xAI perd-elle par mois ?", [], None))
    assert len(steps) >= 4  # the question at once, several partial answers, then the final one
    first_history, chat, _, box = steps[0]
    assert first_history == [{"role": "user", "content": "Combien xAI perd-elle par mois ?"}] and box == ""
    partial = [s[0][-1]["content"] for s in steps[1:-1]]
    assert all(len(a) <= len(b) for a, b in zip(partial, partial[1:]))
    history, chat2, proof, _ = steps[-1]
    assert chat2 is chat and "1 milliard de dollars par mois" in history[-1]["content"]
    assert "<mark>" in proof and "mac4ever" in proof
    # the same session's Chat resolves a follow-up; a new session (state None) gets a new Chat
    steps = list(app.respond(app_assistant, "How many GPUs does Meta run?", history, chat))
    assert steps[-1][1] is chat
    other = list(app.respond(app_assistant, "How many GPUs does Meta run?", [], None))
    assert other[-1][1] is not chat and chat.assistant is other[-1][1].assistant


def test_empty_message_does_nothing(app_assistant) -> None:
    steps = list(app.respond(app_assistant, "   ", [], None))
    assert len(steps) == 1 and steps[0][0] == []


def test_engine_label_names_the_llm() -> None:
    class Fake:
        llm = None

    assert app.engine_label(Fake()) == "Engine: extractive (no LLM)"
    Fake.llm = type("E", (), {"name": "qwen2.5 (Ollama)"})()
    assert app.engine_label(Fake()) == "Engine: qwen2.5 (Ollama) (LLM, verified)"
