"""The Gradio app in a real Chromium against the real engine: ask in French and English, see the proof,
the proof of earlier answers on hover and click, compound answers side by side, follow-ups per session,
upload articles (an HTML news page and a PDF) and remove them, no injection, nothing fetched from outside;
the `chat` and `ask` APIs."""
from __future__ import annotations


import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import app
from tests.app.conftest import open_page

# Gradio's queue uses pandas options that pandas 3 deprecates: not ours.
pytestmark = [pytest.mark.filterwarnings("ignore:'future.no_silent_downcasting' is deprecated"),
              pytest.mark.filterwarnings("ignore:The copy keyword is deprecated")]
DOCS = Path(__file__).resolve().parents[2] / "docs"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SHOWN = "#proof .turn.shown"  # the proof the panel shows (it holds every answer's)
TIMINGS: dict[str, float] = {}
BADGES = {"verified": ("✓ Verified in the articles", "✓ Vérifié dans les articles"),
          "unverified": ("Answered, not verified: read the quote", "Réponse non vérifiée : lisez la citation"),
          "not_answered": ("Not answered", "Pas de réponse")}
# The news page's boilerplate: navigation, ads, related links, comments (one with a rival figure), footer.
BOILERPLATE = ["Subscribe", "3 months for $1", "jackpot", "Lottery", "mortgage", "2.9%", "Related stories", "Voltra",
               "gridwatcher99", "$300 million", "300 millions", "Comments (3)", "1995", "All rights reserved",
               "Newsletter", "Dana Whitfield"]


def ask(page, question: str, timeout: float = 30000) -> str:
    """Type a question, press Ask, wait for the final answer (the proof panel is replaced with it);
    returns the last answer as shown in the chat."""
    before = page.locator("#proof .proof").get_attribute("data-answer")
    page.locator("#question textarea").fill(question)
    started = time.perf_counter()
    page.locator("#ask").click()
    page.wait_for_function("(b) => document.querySelector('#proof .proof').dataset.answer !== b",
                           arg=before, timeout=timeout, polling=25)
    TIMINGS.setdefault("first answer in the browser (s)", time.perf_counter() - started)
    last, text = None, ""
    for _ in range(40):  # the chat and the panel come in the same update; let the chat settle
        text = page.locator("#chatbot .bot-row").last.inner_text().strip()
        if text and text == last:
            break
        last = text
        page.wait_for_timeout(100)
    return text


def badge(assistant, question: str) -> str:
    """The badge the panel must show for this question: the engine's own verdict, in its language."""
    answer = assistant.ask(question)
    return BADGES[app.answer_status(answer)][answer.language == "fr"]


def shown_turn(page) -> str:
    return page.locator("#proof .proof").get_attribute("data-shown")


def wait_shown(page, turn: int) -> None:
    page.wait_for_function("(t) => document.querySelector('#proof .proof').dataset.shown === t", arg=str(turn),
                           timeout=5000, polling=25)


def scroll_to_top(page) -> None:
    """Scroll the chat up with the mouse wheel, as a reader does (the chatbot stops following the bottom)."""
    page.locator("#chatbot").hover()
    for _ in range(10):
        page.mouse.wheel(0, -600)
        page.wait_for_timeout(60)
    page.wait_for_function("() => document.querySelector('#chatbot .bot-row').getBoundingClientRect().top > 0",
                           timeout=5000)


def open_articles(page) -> None:
    panel = page.locator("#articles-panel")
    if not page.locator("#upload").is_visible():
        panel.locator(".label-wrap").first.click()
    page.locator("#upload").wait_for(state="visible")


def upload(page, *paths: Path) -> str:
    """Upload through the file box; returns the status message once the files are indexed."""
    open_articles(page)
    page.evaluate("() => { const s = document.querySelector('#upload-status .upload-status'); if (s) s.remove(); }")
    page.locator("#upload input[type=file]").set_input_files([str(p) for p in paths])
    page.wait_for_selector("#upload-status .upload-status", timeout=90000)
    return page.locator("#upload-status .upload-status").inner_text()


def article_row(page, source_id: str):
    return page.locator(f"#articles tr[data-source='{source_id}']")


@pytest.mark.browser
def test_page_loads_from_loopback_only(page, app_server) -> None:
    TIMINGS["app launch to first page served (s)"] = app_server[1]
    assert "Engine: extractive (no LLM)" in page.locator("#engine").inner_text()
    assert page.locator("#chatbot").is_visible() and page.locator("#proof").is_visible()
    assert "Combien xAI perd-elle par mois ?" in page.locator("body").inner_text()  # FR and EN examples
    assert "What is xAI valued at?" in page.locator("body").inner_text()
    content = page.content()
    for host in ("fonts.googleapis", "fonts.gstatic", "cdn.jsdelivr", "unpkg.com", "cdnjs"):
        assert host not in content
    page.wait_for_timeout(500)
    assert page.outside_requests == []
    assert page.errors == []


@pytest.mark.browser
def test_french_and_english_answers_show_the_figure_and_the_proof(page, app_assistant) -> None:
    answer = ask(page, "Combien xAI a-t-elle levé ?")
    assert "milliards de dollars" in answer
    assert "[1]" in answer
    proof = page.locator(SHOWN)
    mark = proof.locator("mark").first.inner_text()
    assert "milliards de dollars" in mark
    # the badge is the engine's verdict, in the answer's language, in the panel and under the answer
    expected = badge(app_assistant, "Combien xAI a-t-elle levé ?")
    assert proof.locator(".badge").inner_text() == expected
    assert page.locator("#chatbot .bot-row").last.locator(".chip").inner_text() == expected
    assert proof.locator(".cite .title").first.inner_text().strip()  # the article's title
    # the quote sits inside its paragraph: some of the paragraph is shown outside the <mark>
    para = proof.locator(".cite .para").first.inner_text()
    assert mark in para and len(para) >= len(mark)

    answer = ask(page, "What is xAI valued at?")
    assert "$18 billion" in answer
    assert "18 milliards de dollars" in page.locator(f"{SHOWN} mark").first.inner_text()
    assert page.locator(f"{SHOWN} .badge").inner_text() == badge(app_assistant, "What is xAI valued at?")
    assert page.locator("#chatbot .bot-row").count() == 2
    assert page.outside_requests == [] and page.errors == []


@pytest.mark.browser
def test_publisher_is_shown_with_the_citation(page) -> None:
    answer = ask(page, "Combien xAI perd-elle par mois ?")
    assert "1 milliard de dollars par mois" in answer
    title = page.locator(f"{SHOWN} .cite .title").first.inner_text()
    assert "La Survie d’xAI" in title and "mac4ever" in title
    assert "1 milliard de dollars par mois" in page.locator(f"{SHOWN} mark").first.inner_text()
    # and under the answer in the chat, numbered like its marker
    assert "La Survie d’xAI" in page.locator("#chatbot .bot-row").last.locator(".src-1").inner_text()


@pytest.mark.browser
def test_refusals_say_not_answered_and_the_passage_may_be_relevant(page) -> None:
    ask(page, "How many employees does xAI have?")
    proof = page.locator(SHOWN)
    assert proof.locator(".badge.no").inner_text() == "Not answered"
    assert proof.locator(".cite.closest").count() >= 1 and "May be relevant" in proof.inner_text()
    assert "✓" not in proof.inner_text() and "✓" not in page.locator("#chatbot .bot-row").last.inner_text()
    assert "Not answered" in page.locator("#chatbot .bot-row").last.locator(".chip").inner_text()
    ask(page, "Combien d'employés compte xAI ?")
    assert page.locator(f"{SHOWN} .badge.no").inner_text() == "Pas de réponse"
    assert "Peut-être pertinent" in page.locator(SHOWN).inner_text()


@pytest.mark.browser
def test_earlier_answers_show_their_proof_on_hover_and_click(page) -> None:
    questions = ["Combien xAI perd-elle par mois ?", "Combien xAI a-t-elle levé ?", "How many GPUs does Meta run?"]
    marks = []
    for question in questions[:2]:
        ask(page, question)
        marks.append(page.locator(f"{SHOWN} mark").first.inner_text())
    assert marks[0] != marks[1] and shown_turn(page) == "1"
    rows = page.locator("#chatbot .bot-row")

    def shows(turn: int) -> None:
        wait_shown(page, turn)
        assert page.locator(f"{SHOWN} .question").inner_text().endswith(questions[turn])
        assert page.locator(f"{SHOWN} mark").first.inner_text() == marks[turn]
        assert page.locator("#proof .turn.shown").count() == 1  # one proof at a time
        assert page.locator(f"#chatbot .bot-row.proof-shown").count() == 1
        assert "proof-shown" in (rows.nth(turn).get_attribute("class") or "")

    # hovering the first answer previews its proof, with a way back; leaving the chat restores the latest
    rows.first.hover()
    shows(0)
    assert page.locator(f"{SHOWN} .earlier-note").is_visible()
    assert "Réponse précédente" in page.locator(f"{SHOWN} .earlier-note").inner_text()
    page.locator("#proof").hover()  # moving onto the panel to read it keeps the preview
    page.wait_for_timeout(500)
    assert shown_turn(page) == "0"
    page.locator("#question textarea").hover()
    shows(1)
    assert not page.locator(f"{SHOWN} .earlier-note").is_visible()

    # clicking the first answer's [1] marker keeps its proof, citation 1 highlighted
    rows.first.locator(".ref-1").first.click()
    shows(0)
    assert page.locator(f"{SHOWN} .cite-1.focus").count() == 1
    page.locator("#question textarea").hover()
    page.wait_for_timeout(500)
    assert shown_turn(page) == "0"
    rows.nth(1).hover()  # another answer is previewed, then the kept one comes back
    shows(1)
    page.locator("#question textarea").hover()
    shows(0)
    page.locator(f"{SHOWN} .latest").click()  # "voir la dernière"
    shows(1)

    rows.first.click()  # clicking anywhere on an answer keeps it too
    shows(0)
    ask(page, questions[2])  # a new answer is shown at once
    marks.append(page.locator(f"{SHOWN} mark").first.inner_text())
    shows(2)
    rows.nth(1).locator(".src-1").click()  # and the numbered source under an answer leads to its proof
    shows(1)
    assert page.errors == []


@pytest.mark.browser
def test_a_compound_answer_shows_each_citation_side_by_side(page, app_assistant) -> None:
    question = "Combien xAI a-t-elle levé et à quelle valorisation ?"
    expected = app_assistant.ask(question)
    assert len(expected.citations) >= 2, expected.text  # the engine cites each part
    ask(page, question)
    row = page.locator("#chatbot .bot-row").last
    cards = [row.locator(f".src-{c.number}") for c in expected.citations]
    for c, card in zip(expected.citations, cards):
        assert row.locator(f".ref-{c.number}").count() >= 2  # the marker in the text and on its source card
        assert c.title in card.inner_text()
    first, second = cards[0].bounding_box(), cards[1].bounding_box()
    assert abs(first["y"] - second["y"]) < 2 and second["x"] > first["x"] + first["width"] - 1  # side by side

    cites = page.locator(f"{SHOWN} .cite")
    assert cites.count() == len(expected.citations)
    for i, c in enumerate(expected.citations):
        assert cites.nth(i).locator(".num").inner_text() == str(c.number)
        assert cites.nth(i).locator("mark").inner_text() == c.quote
    one, two = cites.nth(0).bounding_box(), cites.nth(1).bounding_box()
    assert abs(one["y"] - two["y"]) < 2 and two["x"] >= one["x"] + one["width"]  # side by side in the panel

    row.locator(".ref-2").first.hover()  # hovering [2] points at the second proof
    page.wait_for_selector(f"{SHOWN} .cite-2.focus", timeout=5000)
    assert page.locator(f"{SHOWN} .cite.focus").count() == 1
    assert page.locator(f"{SHOWN} .badge").inner_text() == BADGES[app.answer_status(expected)][1]


@pytest.mark.browser
def test_follow_ups_stay_in_their_session_and_clear_resets(browser, app_url) -> None:
    alice, bob = open_page(browser, app_url), open_page(browser, app_url)
    try:
        assert "500,000 GPUs" in ask(alice, "How many GPUs does Meta run?")
        alone = ask(bob, "And OpenAI?")  # Bob never asked about GPUs
        followed = ask(alice, "And OpenAI?")
        assert "10 million GPUs" in followed
        assert alone != followed
        assert bob.locator("#chatbot .user-row").count() == 1  # Alice's turns are not in Bob's chat
        assert bob.locator("#proof .turn").count() == 1 and alice.locator("#proof .turn").count() == 2

        alice.locator("#clear").click()
        alice.wait_for_function("() => document.querySelector('#proof .proof').dataset.answer === '0'")
        assert alice.locator("#chatbot .bot-row").count() == 0 and alice.locator("#proof .turn").count() == 0
        assert ask(alice, "And OpenAI?") == alone  # the conversation was reset
        assert alice.locator("#proof .turn").count() == 1 and shown_turn(alice) == "0"
    finally:
        alice.context.close()
        bob.context.close()


@pytest.mark.browser
def test_upload_a_new_article_then_ask_about_it(page, tmp_path, app_assistant) -> None:
    article = tmp_path / "acme-robotics.txt"
    article.write_text(
        "Acme Robotics lève des fonds pour ses robots agricoles\n"
        "La start-up lyonnaise Acme Robotics a levé 42 millions d'euros auprès de Foo Ventures.\n"
        "L'entreprise compte recruter des ingénieurs et ouvrir une usine à Grenoble.\n"
        "Ses robots désherbent les champs sans produits chimiques.\n", encoding="utf-8")
    status = upload(page, article)
    assert "acme-robotics.txt" in status and "added" in status
    assert "Acme Robotics" in page.locator("#articles").inner_text()  # the list refreshed

    answer = ask(page, "Combien Acme Robotics a-t-elle levé ?")
    assert "42 millions d'euros" in answer
    assert "42 millions d'euros" in page.locator(f"{SHOWN} mark").first.inner_text()

    chunks = app_assistant.store.chunks().count()
    sources = len(app_assistant.sources())
    status = upload(page, article)  # the same file again
    assert "already indexed" in status
    assert app_assistant.store.chunks().count() == chunks and len(app_assistant.sources()) == sources
    assert page.locator("#articles").inner_text().count("acme-robotics.txt") == 1


@pytest.mark.browser
def test_own_articles_end_to_end(page, app_assistant) -> None:
    """A news page saved from a site (navigation, ads, related links, comments with a rival figure) and a
    PDF: uploaded, listed with their origin, asked about in French and English, proven from the article
    text only (never the boilerplate), marked as added by the user, then removed."""
    html, pdf = FIXTURES / "solvane-energy-daily-circuit.html", FIXTURES / "lumiere-mobilite.pdf"
    try:
        status = upload(page, html, pdf)
        assert html.name in status and pdf.name in status and "error" not in status.lower()
        entries = {e.source_id: e for e in app_assistant.sources()}
        text = app_assistant.source_text(html.name)
        assert "Ridgeline Capital" in text and not [b for b in BOILERPLATE if b in text]

        # the Articles list: title, language, chunks, origin, when added, and Remove for these two only
        for name, title, language in ((html.name, "Solvane Energy raises $75 million", "en"),
                                      (pdf.name, "Lumière Mobilité lève 12 millions d'euros", "fr")):
            cells = article_row(page, name).locator("td")
            assert title in cells.nth(0).inner_text() and name in cells.nth(0).inner_text()
            assert cells.nth(1).inner_text() == language
            assert cells.nth(2).inner_text() == str(entries[name].chunks) and entries[name].chunks > 0
            assert cells.nth(3).inner_text() == "uploaded"
            assert cells.nth(4).locator("time").get_attribute("datetime") == entries[name].added_at
            assert cells.nth(5).locator("button.remove").is_visible()
        bundled = page.locator("#articles tr[data-origin='bundled']")
        assert bundled.count() >= 2 and bundled.locator("button.remove").count() == 0
        assert all(bundled.nth(i).locator("td").nth(3).inner_text() == "bundled" for i in range(bundled.count()))

        cases = [("How much did Solvane Energy raise?", "$75 million", "has raised $75 million", html.name,
                  "from an article you added"),
                 ("Combien Solvane Energy a-t-elle levé ?", "75 millions de dollars", "has raised $75 million",
                  html.name, "d'un article que vous avez ajouté"),
                 ("Combien Lumière Mobilité a-t-elle levé ?", "12 millions d'euros", "12 millions d'euros", pdf.name,
                  "d'un article que vous avez ajouté"),
                 ("How much did Lumière Mobilité raise?", "€12 million", "12 millions d'euros", pdf.name,
                  "from an article you added")]
        for question, figure, quoted, source, added in cases:
            answer = ask(page, question)
            assert answer.startswith(figure), (question, answer)
            proof = page.locator(SHOWN)
            assert quoted in proof.locator("mark").first.inner_text(), question
            assert source in proof.locator(".cite .meta").first.inner_text()
            assert added in proof.locator(".cite .title").first.inner_text()
            assert added in page.locator("#chatbot .bot-row").last.locator(".src-1").inner_text()
            shown = proof.inner_text() + answer
            assert not [b for b in BOILERPLATE if b in shown], (question, shown)

        # remove the news page: a first click asks to confirm, the second removes it
        button = article_row(page, html.name).locator("button.remove")
        button.click()
        assert button.inner_text() == "Click again" and article_row(page, html.name).count() == 1
        button.click()
        article_row(page, html.name).wait_for(state="detached", timeout=60000)
        assert "removed" in page.locator("#upload-status").inner_text()
        assert html.name not in {e.source_id for e in app_assistant.sources()}
        assert article_row(page, pdf.name).count() == 1
        ask(page, "How much did Solvane Energy raise?")
        assert html.name not in page.locator(SHOWN).inner_text()
        rows = page.locator("#chatbot .bot-row")
        scroll_to_top(page)
        rows.first.hover()  # the proof of an answer from the removed article is still on the page
        wait_shown(page, 0)
        assert "has raised $75 million" in page.locator(f"{SHOWN} mark").first.inner_text()
    finally:
        remove = getattr(app_assistant, "remove_source", None)
        for name in (html.name, pdf.name):
            if remove is not None and name in {e.source_id for e in app_assistant.sources()}:
                remove(name)
    assert page.errors == []


@pytest.mark.browser
def test_a_bad_file_gets_the_loaders_message(page, tmp_path) -> None:
    empty = tmp_path / "empty-article.txt"
    empty.write_text("   \n", encoding="utf-8")
    status = upload(page, empty)
    assert "empty-article.txt" in status
    assert page.locator("#upload-status .error").count() == 1
    assert "empty-article.txt" not in page.locator("#articles").inner_text()


@pytest.mark.browser
def test_article_and_user_text_render_as_text(page, tmp_path) -> None:
    article = tmp_path / "evil-news.txt"
    article.write_text(
        'Zorglub Corp <script>window.__pwned=1</script> lève des fonds\n'
        'La société Zorglub Corp a levé 77 millions de dollars auprès de Evil Ventures, selon Evil News '
        '<script>window.__pwned=2</script><img src=x onerror="window.__pwned=3"> ${window.__pwned=4} {{7*7}}.\n'
        'Elle compte embaucher des ingénieurs.\n', encoding="utf-8")
    upload(page, article)
    assert "<script>window.__pwned=1</script>" in page.locator("#articles").inner_text()  # escaped title

    answer = ask(page, "Combien Zorglub Corp a-t-elle levé ?")
    assert "77 millions de dollars" in answer
    assert '<img src=x onerror="window.__pwned=3">' in answer  # the quote, shown as text in the chat
    assert "<script>window.__pwned=1</script>" in answer  # the title, on its source card
    proof = page.locator(SHOWN).inner_text()
    assert "<script>window.__pwned=2</script>" in proof and "${window.__pwned=4} {{7*7}}" in proof
    assert "<script>window.__pwned=1</script>" in proof  # the title

    answer = ask(page, '<b>bold</b><img src=x onerror="window.__pwned=5"> How much did xAI raise?')
    user = page.locator("#chatbot .user-row").last.inner_text()
    assert '<b>bold</b><img src=x onerror="window.__pwned=5">' in user
    assert page.locator(f"{SHOWN} .question").inner_text().endswith('<b>bold</b><img src=x onerror="window.__pwned=5"> '
                                                                    'How much did xAI raise?')
    page.locator("#chatbot .bot-row").first.hover()  # the earlier proof, shown again, is text too
    wait_shown(page, 0)
    page.wait_for_timeout(300)
    assert page.evaluate("() => window.__pwned") is None
    for area in ("#chatbot", "#proof", "#articles", "#upload-status"):
        assert page.locator(f"{area} script, {area} img").count() == 0, area
    assert page.locator("#chatbot b, #proof b").count() == 0
    assert page.outside_requests == [] and page.errors == []


@pytest.mark.browser
def test_screenshot_of_a_compound_answer(page, tmp_path) -> None:
    """Takes the README's screenshot: a compound answer with its two proofs side by side. It lands in
    docs/ only when asked (ASSISTANT_UPDATE_SCREENSHOT=1, as `make screenshot` does), so a test run never
    rewrites a tracked file."""
    assert "1 milliard de dollars par mois" in ask(page, "Combien xAI perd-elle par mois ?")
    answer = ask(page, "How much did xAI raise and at what valuation?")
    assert "[1]" in answer and "[2]" in answer, answer
    assert page.locator(f"{SHOWN} .cite").count() == 2
    assert page.locator("#chatbot .bot-row").last.locator("strong").count() == 2
    page.mouse.move(0, 0)
    page.wait_for_timeout(300)
    target = DOCS if os.environ.get("ASSISTANT_UPDATE_SCREENSHOT") == "1" else tmp_path
    target.mkdir(exist_ok=True)
    page.screenshot(path=str(target / "screenshot.png"))
    assert (target / "screenshot.png").stat().st_size > 20_000
    print("\n" + "\n".join(f"{k}: {v:.2f}" for k, v in TIMINGS.items()))


def test_chat_endpoint_from_gradio_client(app_url) -> None:
    from gradio_client import Client

    client = Client(app_url, verbose=False)
    assert set(client.view_api(print_info=False, return_format="dict")["named_endpoints"]) == {"/chat", "/ask"}
    assert "1 milliard de dollars par mois" in client.predict("Combien xAI perd-elle par mois ?", api_name="/chat")
    assert "$18 billion" in client.predict(message="What is xAI valued at?", api_name="/chat")
    # no conversation between calls: a follow-up is not resolved against an earlier call
    client.predict("How many GPUs does Meta run?", api_name="/chat")
    assert "10 million GPUs" not in client.predict("And OpenAI?", api_name="/chat").split("[1]")[0]
    questions = ["Combien xAI perd-elle par mois ?", "What is xAI valued at?", "How many GPUs does Meta run?",
                 "Combien xAI a-t-elle levé ?"]
    with ThreadPoolExecutor(4) as pool:  # concurrent callers all get their own answer
        answers = list(pool.map(lambda q: Client(app_url, verbose=False).predict(q, api_name="/chat"), questions))
    assert "1 milliard de dollars par mois" in answers[0] and "$18 billion" in answers[1]
    assert "500,000 GPUs" in answers[2] and "milliards de dollars" in answers[3]


def test_ask_endpoint_returns_structured_data(app_url, app_assistant) -> None:
    from gradio_client import Client

    client = Client(app_url, verbose=False)
    data = client.predict("Combien xAI perd-elle par mois ?", api_name="/ask")
    assert isinstance(data, dict)
    assert {"text", "language", "answered", "engine", "verified", "citations"} <= set(data)
    assert data["language"] == "fr" and data["answered"] is True and data["engine"] == "extractive"
    assert "1 milliard de dollars par mois" in data["text"]
    expected = app_assistant.ask("Combien xAI perd-elle par mois ?")
    assert data["verified"] is (app.answer_status(expected) == "verified")
    assert data["citations"], data
    for c in data["citations"]:
        assert {"source_id", "title", "quote", "start", "end"} <= set(c)
        assert app_assistant.source_text(c["source_id"])[c["start"]:c["end"]] == c["quote"]
        assert f"[{c['number']}]" in data["text"] and c["origin"] == "bundled"
    assert data["citations"][0]["title"].startswith("La Survie d’xAI")

    english = client.predict(message="How much does xAI lose per month?", api_name="/ask")
    assert english["language"] == "en" and "$1 billion per month" in english["text"]

    refusal = client.predict("How many employees does xAI have?", api_name="/ask")
    assert refusal["answered"] is False and refusal["verified"] is False

    compound = client.predict("Combien xAI a-t-elle levé et à quelle valorisation ?", api_name="/ask")
    assert [c["number"] for c in compound["citations"]] == list(range(1, len(compound["citations"]) + 1))
    assert len(compound["citations"]) >= 2
    for c in compound["citations"]:
        assert app_assistant.source_text(c["source_id"])[c["start"]:c["end"]] == c["quote"]

    # follow_up=True continues this client's conversation, exactly as a Chat does
    chat = app_assistant.chat()
    chat.ask("How many GPUs does Meta run?")
    followed = chat.ask("And OpenAI?").text
    client.predict("How many GPUs does Meta run?", True, api_name="/ask")
    assert client.predict("And OpenAI?", True, api_name="/ask")["text"] == followed
