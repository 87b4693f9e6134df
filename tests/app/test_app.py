"""The Gradio app in a real Chromium: ask, see the proof, upload, no injection, no outside request."""
from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.browser
DOCS = Path(__file__).resolve().parents[2] / "docs"


def ask(page, question: str) -> str:
    page.locator("#question textarea").fill(question)
    before = page.locator("#chatbot .bot").count() if page.locator("#chatbot .bot").count() else 0
    page.locator("#ask").click()
    page.wait_for_function(
        "([n]) => { const b = document.querySelectorAll('#chatbot .bot'); "
        "return b.length > n && !document.querySelector('#chatbot .pending') }", arg=[before], timeout=20000)
    page.wait_for_function("() => !document.querySelector('.progress-text, .eta-bar')", timeout=20000)
    page.wait_for_timeout(300)
    return page.locator("#chatbot .bot").last.inner_text()


def test_french_and_english_answers_show_the_figure_and_the_proof(page) -> None:
    answer = ask(page, "Combien xAI perd-elle par mois ?")
    assert "1 milliard de dollars par mois" in answer
    mark = page.locator("#proof mark").first
    assert "1 milliard de dollars par mois" in mark.inner_text()
    assert "mac4ever" in page.locator("#proof").inner_text()
    answer = ask(page, "What is xAI valued at?")
    assert "$18 billion" in answer
    assert "18 milliards de dollars" in page.locator("#proof mark").first.inner_text()
    assert page.outside_requests == []


def test_refusal_shows_a_status(page) -> None:
    ask(page, "How many employees does xAI have?")
    assert "Not in the articles" in page.locator("#proof").inner_text()


def test_follow_up_in_the_same_session(page) -> None:
    ask(page, "How many GPUs does Meta run?")
    assert "10 million GPUs" in ask(page, "And OpenAI?")


def test_upload_a_new_article_and_ask_about_it(page, tmp_path) -> None:
    article = tmp_path / "acme-robotics.txt"
    article.write_text("Acme Robotics lève des fonds.\nLa start-up Acme Robotics a levé 42 millions d'euros "
                       "auprès de Foo Ventures pour construire des robots agricoles.\n", encoding="utf-8")
    page.locator("#articles, button:has-text('Articles')").first.click()
    page.locator("#upload input[type=file]").set_input_files(str(article))
    page.wait_for_timeout(800)
    page.locator("#add").click()
    page.wait_for_function("() => document.querySelector('#upload-status').innerText.includes('acme')", timeout=60000)
    assert "42 millions d'euros" in ask(page, "Combien Acme Robotics a-t-elle levé ?")
    # the same file again: no duplicate
    page.locator("#add").click()
    page.wait_for_function("() => document.querySelector('#upload-status').innerText.includes('already')", timeout=60000)


def test_malicious_article_renders_as_text(page, tmp_path) -> None:
    article = tmp_path / "evil.txt"
    article.write_text('Zorglub Corp a levé 77 millions de dollars <script>window.__pwned=1</script>'
                       '<img src=x onerror="window.__pwned=2"> selon Evil News.\n', encoding="utf-8")
    page.locator("button:has-text('Articles')").first.click()
    page.locator("#upload input[type=file]").set_input_files(str(article))
    page.wait_for_timeout(800)
    page.locator("#add").click()
    page.wait_for_function("() => document.querySelector('#upload-status').innerText.includes('evil')", timeout=60000)
    ask(page, "Combien Zorglub Corp a-t-elle levé ?")
    assert "<script>" in page.locator("#proof").inner_text()
    assert page.evaluate("() => window.__pwned") is None
    found = page.evaluate("() => [...document.querySelectorAll(\"#proof script, #proof img, #chatbot script, #chatbot img[src='x']\")].map(e => e.outerHTML)")
    assert found == []
    ask(page, "<img src=x onerror=\"window.__pwned=3\"> How much did xAI raise?")
    assert page.evaluate("() => window.__pwned") is None
    assert "<img src=x" in page.locator("#chatbot").inner_text()  # shown as text, not markup


def test_screenshot_of_an_answer(page) -> None:
    ask(page, "Combien xAI a-t-elle levé auprès de Sequoia et des autres fonds ?")
    DOCS.mkdir(exist_ok=True)
    page.screenshot(path=str(DOCS / "screenshot.png"), full_page=False)
    assert (DOCS / "screenshot.png").stat().st_size > 10_000


def test_gradio_client_chat_endpoint(app_url) -> None:
    from gradio_client import Client

    client = Client(app_url, verbose=False)
    assert "18 milliards de dollars" in client.predict("Quelle est la valorisation de xAI ?", api_name="/chat")
