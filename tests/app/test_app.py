"""The Gradio app in a real Chromium against the real engine: ask in French and English, see the proof,
follow-ups per session, upload articles, no injection, nothing fetched from outside; the `chat` API."""
from __future__ import annotations


import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.app.conftest import open_page

# Gradio's queue uses pandas options that pandas 3 deprecates: not ours.
pytestmark = [pytest.mark.filterwarnings("ignore:'future.no_silent_downcasting' is deprecated"),
              pytest.mark.filterwarnings("ignore:The copy keyword is deprecated")]
DOCS = Path(__file__).resolve().parents[2] / "docs"
TIMINGS: dict[str, float] = {}


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


def open_articles(page) -> None:
    panel = page.locator("#articles-panel")
    if not page.locator("#upload").is_visible():
        panel.locator(".label-wrap").first.click()
    page.locator("#upload").wait_for(state="visible")


def upload(page, path: Path) -> str:
    """Upload through the file box; returns the status message once the file is indexed."""
    open_articles(page)
    page.evaluate("() => { const s = document.querySelector('#upload-status .upload-status'); if (s) s.remove(); }")
    page.locator("#upload input[type=file]").set_input_files(str(path))
    page.wait_for_selector("#upload-status .upload-status", timeout=90000)
    return page.locator("#upload-status .upload-status").inner_text()


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
def test_french_and_english_answers_show_the_figure_and_the_proof(page) -> None:
    answer = ask(page, "Combien xAI a-t-elle levé ?")
    assert "milliards de dollars" in answer
    assert "[1]" in answer
    proof = page.locator("#proof")
    mark = proof.locator("mark").first.inner_text()
    assert "milliards de dollars" in mark
    assert "Vérifié dans les articles" in proof.inner_text()  # labels follow the answer's language
    assert proof.locator(".cite .title").first.inner_text().strip()  # the article's title
    # the quote sits inside its paragraph: some of the paragraph is shown outside the <mark>
    para = proof.locator(".cite .para").first.inner_text()
    assert mark in para and len(para) >= len(mark)

    answer = ask(page, "What is xAI valued at?")
    assert "$18 billion" in answer
    assert "18 milliards de dollars" in page.locator("#proof mark").first.inner_text()
    assert "Verified in the articles" in page.locator("#proof").inner_text()
    assert page.locator("#chatbot .bot-row").count() == 2
    assert page.outside_requests == [] and page.errors == []


@pytest.mark.browser
def test_publisher_is_shown_with_the_citation(page) -> None:
    answer = ask(page, "Combien xAI perd-elle par mois ?")
    assert "1 milliard de dollars par mois" in answer
    title = page.locator("#proof .cite .title").first.inner_text()
    assert "La Survie d’xAI" in title and "mac4ever" in title
    assert "1 milliard de dollars par mois" in page.locator("#proof mark").first.inner_text()


@pytest.mark.browser
def test_refusals_show_a_status_in_the_answer_language(page) -> None:
    ask(page, "How many employees does xAI have?")
    proof = page.locator("#proof")
    assert proof.locator(".badge.no").inner_text() == "Not in the articles"
    assert "Closest passage" in proof.inner_text()
    ask(page, "Combien d'employés compte xAI ?")
    assert page.locator("#proof .badge.no").inner_text() == "Pas dans les articles"


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

        alice.locator("#clear").click()
        alice.wait_for_function("() => document.querySelector('#proof .proof').dataset.answer === '0'")
        assert alice.locator("#chatbot .bot-row").count() == 0
        assert ask(alice, "And OpenAI?") == alone  # the conversation was reset
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
    assert "42 millions d'euros" in page.locator("#proof mark").first.inner_text()

    chunks = app_assistant.store.chunks().count()
    sources = len(app_assistant.sources())
    status = upload(page, article)  # the same file again
    assert "already indexed" in status
    assert app_assistant.store.chunks().count() == chunks and len(app_assistant.sources()) == sources
    assert page.locator("#articles").inner_text().count("acme-robotics.txt") == 1


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
    proof = page.locator("#proof").inner_text()
    assert "<script>window.__pwned=2</script>" in proof and "${window.__pwned=4} {{7*7}}" in proof
    assert "<script>window.__pwned=1</script>" in proof  # the title

    answer = ask(page, '<b>bold</b><img src=x onerror="window.__pwned=5"> How much did xAI raise?')
    user = page.locator("#chatbot .user-row").last.inner_text()
    assert '<b>bold</b><img src=x onerror="window.__pwned=5">' in user
    assert page.locator("#proof .question").inner_text().endswith('<b>bold</b><img src=x onerror="window.__pwned=5"> '
                                                                 'How much did xAI raise?')
    page.wait_for_timeout(300)
    assert page.evaluate("() => window.__pwned") is None
    for area in ("#chatbot", "#proof", "#articles", "#upload-status"):
        assert page.locator(f"{area} script, {area} img").count() == 0, area
    assert page.locator("#chatbot b, #proof b").count() == 0
    assert page.outside_requests == [] and page.errors == []


@pytest.mark.browser
def test_screenshot_of_an_answer(page, tmp_path) -> None:
    """Takes the README's screenshot; it lands in docs/ only when asked (ASSISTANT_UPDATE_SCREENSHOT=1, as
    `make screenshot` does), so a test run never rewrites a tracked file."""
    assert "milliards de dollars" in ask(page, "Combien xAI a-t-elle levé ?")
    answer = ask(page, "How much does xAI lose per month?")
    assert "$1 billion per month" in answer
    assert page.locator("#chatbot .bot-row strong").last.inner_text().startswith("$1 billion per month")
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
    assert set(client.view_api(print_info=False, return_format="dict")["named_endpoints"]) == {"/chat"}
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
