"""The Gradio chat: ask in French or English, see the proof beside each answer, add articles.

    python app.py        # http://127.0.0.1:7860 (ASSISTANT_HOST, ASSISTANT_PORT)

UI only: everything it shows comes from `assistant.Assistant`: one instance per process, shared by every
session; each browser session keeps its own `Chat` in a `gr.State`, so follow-ups never leak between users.
Article and user text never reach the page as markup: it is escaped with `html.escape` wherever HTML is
built, and chat messages are escaped before the chatbot renders them.
"""
from __future__ import annotations

import html
import itertools
import logging
import os
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from index import settings as _settings  # noqa: F401  (offline, no analytics: before gradio is imported)

import gradio as gr  # noqa: E402

from assistant import Answer, Assistant  # noqa: E402
from index.loaders import MAX_FILE_BYTES, SUPPORTED_SUFFIXES  # noqa: E402

log = logging.getLogger("app")

EXAMPLES = [
    "Combien xAI a-t-elle levé ?",
    "Combien xAI perd-elle par mois ?",
    "What is xAI valued at?",
    "How many GPUs does Meta run?",
    "Who reported xAI's losses?",
]
LONG_PARAGRAPH = 1500  # a longer paragraph is trimmed to CONTEXT characters either side of the quote
CONTEXT = 500
STREAM_DELAY = 0.03  # seconds between chunks when the whole answer is already known (extractive engine)
API_SESSIONS = 256  # `chat(..., follow_up=True)` conversations kept (per API client); the least recent is dropped

CSS = """
#header {display: flex; align-items: center; justify-content: space-between; gap: 1rem; flex-wrap: wrap;}
#header h1 {font-size: 1.45rem; margin: 0;}
#header p {margin: 0.15rem 0 0; color: var(--body-text-color-subdued);}
#header .engine {font-size: 0.8rem; padding: 0.25rem 0.65rem; border-radius: 999px;
  border: 1px solid var(--border-color-primary); background: var(--block-background-fill); white-space: nowrap;}
#chatbot .message-content, #chatbot .md {white-space: pre-wrap;}
.proof {font-size: 0.93rem; line-height: 1.5;}
.proof h3 {margin: 0 0 0.4rem; font-size: 1rem;}
.proof .question {color: var(--body-text-color-subdued); margin: 0.35rem 0 0.2rem; font-size: 0.85rem;}
.proof .hint {color: var(--body-text-color-subdued);}
.proof .cite {border: 1px solid var(--border-color-primary); border-left: 4px solid #6366f1; border-radius: 6px;
  padding: 0.5rem 0.75rem; margin: 0.6rem 0; background: var(--block-background-fill);}
.proof .cite.closest {border-left-color: #94a3b8;}
.proof .cite .title {font-weight: 600;}
.proof .cite .num {display: inline-block; min-width: 1.5rem; text-align: center; border-radius: 4px;
  background: #6366f1; color: #fff; font-size: 0.8rem; margin-right: 0.35rem;}
.proof .cite .publisher {color: var(--body-text-color-subdued); font-weight: 400;}
.proof .cite .para {margin: 0.35rem 0; max-height: 22rem; overflow-y: auto;}
.proof mark {background: #fde047; color: #111827; padding: 0.05rem 0.15rem; border-radius: 3px;
  box-decoration-break: clone; -webkit-box-decoration-break: clone;}
.proof .meta, .proof .foot {color: var(--body-text-color-subdued); font-size: 0.78rem;}
.proof .badge {display: inline-block; padding: 0.2rem 0.6rem; border-radius: 999px; font-size: 0.82rem; font-weight: 600;}
.proof .badge.ok {background: #dcfce7; color: #166534;}
.proof .badge.no {background: #fee2e2; color: #991b1b;}
.proof .badge.err {background: #fef3c7; color: #92400e;}
.articles table {width: 100%; border-collapse: collapse; font-size: 0.88rem; border: 0;}
#articles .articles th, #articles .articles td {text-align: left; padding: 0.3rem 0.5rem; border: 0;
  border-bottom: 1px solid var(--border-color-primary);}
.articles td.n {text-align: right;}
.articles .file {color: var(--body-text-color-subdued); font-size: 0.78rem;}
.upload-status ul {margin: 0.3rem 0; padding-left: 1.1rem;}
.upload-status .error {color: #b91c1c;}
"""

_LABELS = {
    "en": {"ok": "✓ Verified in the articles", "no": "Not in the articles", "closest": "Closest passage",
           "chars": "characters", "question": "Question", "engine_llm": "LLM answer, verified",
           "engine_x": "extractive answer", "fallback": "LLM answer replaced by the extractive one"},
    "fr": {"ok": "✓ Vérifié dans les articles", "no": "Pas dans les articles", "closest": "Passage le plus proche",
           "chars": "caractères", "question": "Question", "engine_llm": "réponse du LLM, vérifiée",
           "engine_x": "réponse extractive", "fallback": "réponse du LLM remplacée par la réponse extractive"},
}
_answer_ids = itertools.count(1)


def esc(text: object) -> str:
    """Article or user text, as text inside HTML."""
    return html.escape(str(text), quote=True)


# ---------------------------------------------------------------- HTML of the panels
def paragraph_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    """The paragraph (between line breaks) that holds [start, end)."""
    left = text.rfind("\n", 0, start) + 1
    right = text.find("\n", end)
    return left, (len(text) if right < 0 else right)


def _context(text: str, start: int, end: int) -> tuple[str, str, str]:
    """(before, quote, after) within the quote's paragraph; a very long paragraph is cut at spaces."""
    left, right = paragraph_bounds(text, start, end)
    before, quote, after = text[left:start], text[start:end], text[end:right]
    if right - left > LONG_PARAGRAPH:
        if len(before) > CONTEXT:
            cut = before.find(" ", len(before) - CONTEXT)
            before = "… " + before[cut + 1 if cut >= 0 else len(before) - CONTEXT:]
        if len(after) > CONTEXT:
            cut = after.rfind(" ", 0, CONTEXT)
            after = after[:cut if cut > 0 else CONTEXT] + " …"
    return before, quote, after


def proof_html(answer: Answer | None, source_text: Callable[[str], str], question: str = "") -> str:
    """The sources panel: a status badge, then each citation's quote highlighted inside its paragraph.
    Every piece of article or user text goes through html.escape: an article cannot inject markup."""
    if answer is None:
        return ("<div class='proof' data-answer='0'><h3>Proof · Preuve</h3>"
                "<p class='hint'>Ask a question: the quoted passage that proves the answer appears here, "
                "highlighted in its article.<br>Posez une question : le passage cité qui prouve la réponse "
                "s'affiche ici, surligné dans son article.</p></div>")
    labels = _LABELS.get(answer.language, _LABELS["en"])
    badge = (f"<span class='badge ok'>{labels['ok']}</span>" if answer.answered
             else f"<span class='badge no'>{labels['no']}</span>")
    parts = [f"<div class='proof' data-answer='{next(_answer_ids)}' data-answered='{str(answer.answered).lower()}'>"
             f"<h3>Proof · Preuve</h3>{badge}"]
    if question:
        parts.append(f"<p class='question'>{labels['question']} : {esc(question)}</p>" if answer.language == "fr"
                     else f"<p class='question'>{labels['question']}: {esc(question)}</p>")
    for c in answer.citations:
        try:
            text = source_text(c.source_id)
            before, quote, after = _context(text, c.start, c.end)
        except Exception:  # noqa: BLE001 — the article was removed since: show the quote alone
            before, quote, after = "", c.quote, ""
        publisher = f" <span class='publisher'>— {esc(c.publisher)}</span>" if c.publisher else ""
        if answer.answered:
            head = f"<span class='num'>{int(c.number)}</span>{esc(c.title)}{publisher}"
        else:
            head = f"{labels['closest']} · {esc(c.title)}{publisher}"
        parts.append(
            f"<div class='cite{'' if answer.answered else ' closest'}'><div class='title'>{head}</div>"
            f"<div class='para'>{esc(before)}<mark>{esc(quote)}</mark>{esc(after)}</div>"
            f"<div class='meta'>{esc(c.source_id)} · {labels['chars']} {int(c.start)}–{int(c.end)}</div></div>")
    foot = labels["engine_llm"] if answer.engine == "llm" else labels["engine_x"]
    if answer.fallback_reason:
        foot = f"{labels['fallback']} ({esc(answer.fallback_reason)})"
    total = answer.timings.get("total")
    if total is not None:
        foot += f" · {total:.2f} s"
    parts.append(f"<div class='foot'>{foot}</div></div>")
    return "".join(parts)


def error_html(message: str) -> str:
    return (f"<div class='proof' data-answer='{next(_answer_ids)}'><h3>Proof · Preuve</h3>"
            f"<span class='badge err'>Error</span><p>{esc(message)}</p></div>")


def articles_html(assistant: Assistant) -> str:
    entries = assistant.sources()
    rows = "".join(
        f"<tr><td>{esc(e.title)}<div class='file'>{esc(e.source_id)}</div></td><td>{esc(e.publisher or '—')}</td>"
        f"<td>{esc(e.language)}</td><td class='n'>{int(e.chunks)}</td></tr>" for e in entries)
    if not rows:
        rows = "<tr><td colspan='4'>No article is indexed yet: add one.</td></tr>"
    return (f"<div class='articles'><table><thead><tr><th>Article ({len(entries)})</th><th>Publisher</th>"
            f"<th>Language</th><th>Chunks</th></tr></thead><tbody>{rows}</tbody></table></div>")


def engine_label(assistant: Assistant) -> str:
    llm = getattr(assistant, "llm", None)
    if llm is None:
        return "Engine: extractive (no LLM)"
    return f"Engine: {getattr(llm, 'name', None) or type(llm).__name__} (LLM, verified)"


def header_html(assistant: Assistant) -> str:
    return ("<div id='header'><div><h1>Article assistant</h1>"
            "<p>Ask in French or English: every figure is proven by an exact quote from the articles. "
            "· Posez vos questions en français ou en anglais.</p></div>"
            f"<span class='engine' id='engine'>{esc(engine_label(assistant))}</span></div>")


# ---------------------------------------------------------------- chat
def chat_text(text: str) -> str:
    """A chat message as text: the chatbot renders its content as (sanitised) HTML, so escape it
    (< > & are what matter in a text node; apostrophes stay as they are)."""
    return html.escape(str(text), quote=False)


def chat_answer(text: str) -> str:
    """An answer for the chatbot, escaped; its own words (before the first [1] marker) in bold, so the
    figure reads at a glance and the quote after it reads as the evidence."""
    text = str(text)
    marker = text.find("[1]")
    lead = text[:marker].rstrip() if marker > 0 else ""
    if not lead:
        return chat_text(text)
    return f"<strong>{chat_text(lead)}</strong>{chat_text(text[len(lead):])}"


def _deltas(chat: Any, question: str) -> Iterator[str | Answer]:
    """Text deltas then the final Answer: the engine's own stream when it has one (an LLM writing),
    else the finished answer in word chunks."""
    stream = getattr(chat, "ask_stream", None)
    if stream is not None:
        live = getattr(chat.assistant, "llm", None) is not None
        for item in stream(question):
            if isinstance(item, str) and not live:
                time.sleep(STREAM_DELAY)
            yield item
        return
    answer = chat.ask(question)
    words = answer.text.split(" ")
    step = max(1, len(words) // 8)
    for i in range(0, len(words), step):
        time.sleep(STREAM_DELAY)
        yield " ".join(words[i:i + step]) + (" " if i + step < len(words) else "")
    yield answer


def respond(assistant: Assistant, message: str, history: list[dict] | None,
            chat: Any) -> Iterator[tuple[list[dict], Any, Any, str]]:
    """One turn in a browser session: yields (chat messages, the session's Chat, proof panel, textbox)."""
    chat = chat if chat is not None else assistant.chat()
    question = (message or "").strip()
    history = list(history or [])
    if not question:
        yield history, chat, gr.skip(), ""
        return
    history.append({"role": "user", "content": chat_text(question)})
    yield history, chat, gr.skip(), ""
    shown, answer = "", None
    try:
        for item in _deltas(chat, question):
            if isinstance(item, str):
                shown += item
                yield history + [{"role": "assistant", "content": chat_answer(shown)}], chat, gr.skip(), ""
            else:
                answer = item
    except Exception as exc:  # noqa: BLE001 — the page must get a message, not a stack trace
        log.exception("question failed: %r", question[:200])
        text = f"Sorry, something went wrong while answering ({type(exc).__name__}). Please try again."
        yield history + [{"role": "assistant", "content": chat_text(text)}], chat, error_html(text), ""
        return
    assert answer is not None
    yield (history + [{"role": "assistant", "content": chat_answer(answer.text)}], chat,
           proof_html(answer, assistant.source_text, question), "")


# ---------------------------------------------------------------- uploads
def _paths(files: Any) -> list[Path]:
    if not files:
        return []
    items = files if isinstance(files, (list, tuple)) else [files]
    return [Path(getattr(f, "name", f)) for f in items]


def add_articles(assistant: Assistant, files: Any, progress: Callable[..., Any] | None = None) -> str:
    """Index uploaded files one by one (progress per file); returns the status as HTML."""
    paths = _paths(files)
    if not paths:
        return "<div class='upload-status'>Choose a file first.</div>"
    lines: list[str] = []
    started = time.perf_counter()
    for i, path in enumerate(paths):
        if progress is not None:
            progress((i, len(paths)), desc=f"Indexing {path.name}", unit="files")
        names, report = assistant.add_files([path])
        chunks = {e.source_id: e.chunks for e in assistant.sources()}
        for name in names:
            n = chunks.get(name, 0)
            count = f"{n} chunk{'' if n == 1 else 's'}"
            if name in report.added:
                state = f"added ({count}): you can ask about it now"
            elif name in report.replaced:
                state = f"updated ({count}): the previous version was replaced"
            else:
                state = "already indexed, unchanged (nothing duplicated)"
            lines.append(f"<li class='ok'><b>{esc(name)}</b>: {state}</li>")
        lines += [f"<li class='error'>⚠ {esc(error)}</li>" for error in report.errors]
    if progress is not None:
        progress((len(paths), len(paths)), desc="Done", unit="files")
    return (f"<div class='upload-status'><ul>{''.join(lines)}</ul>"
            f"<span class='meta'>{time.perf_counter() - started:.1f} s</span></div>")


# ---------------------------------------------------------------- the page
def build_demo(assistant: Assistant) -> gr.Blocks:
    """The app on the given Assistant (tests pass one on a temporary index). Launch it with `launch()`,
    which applies the theme, CSS and the no-sharing settings."""

    def on_message(message: str, history: list[dict], chat: Any) -> Iterator[tuple[Any, ...]]:
        yield from respond(assistant, message, history, chat)

    def on_clear() -> tuple[Any, ...]:
        return [], None, proof_html(None, assistant.source_text), ""

    def on_upload(files: list[str] | None, progress=gr.Progress()) -> tuple[str, str, Any]:
        status = add_articles(assistant, files, progress)
        return status, articles_html(assistant), None

    api_chats: OrderedDict[str, tuple[threading.Lock, Any]] = OrderedDict()  # session hash -> (lock, Chat)
    api_chats_lock = threading.Lock()

    def api_conversation(session: str) -> tuple[threading.Lock, Any]:
        with api_chats_lock:
            entry = api_chats.pop(session, None) or (threading.Lock(), assistant.chat())
            api_chats[session] = entry
            while len(api_chats) > API_SESSIONS:
                api_chats.popitem(last=False)
            return entry

    def chat(message: str, follow_up: bool = False, request: gr.Request = None) -> str:
        """Answer one question about the articles, in French or English.

        Args:
            message: the question, e.g. "Combien xAI a-t-elle levé ?"
            follow_up: False (the default): a fresh conversation, the question stands alone. True: the
                question continues this client's conversation (its earlier calls with follow_up=True from the
                same gradio_client Client), so "And OpenAI?" is resolved against them.
        Returns:
            The answer text: the figure or names, then the exact quote that proves them, marked [1].
        """
        session = getattr(request, "session_hash", None)
        if not follow_up or not session:
            return assistant.ask(message or "").text
        lock, conversation = api_conversation(session)
        with lock:  # one client's calls are answered in order, against its own conversation only
            return conversation.ask(message or "").text

    with gr.Blocks(title="Article assistant") as demo:
        gr.HTML(header_html(assistant), padding=False)
        session_chat = gr.State(None)  # this browser session's Chat (created on its first question)
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=420):
                chatbot = gr.Chatbot(
                    label="Conversation", elem_id="chatbot", height=470, render_markdown=False,
                    sanitize_html=True, allow_tags=False, buttons=[], feedback_options=None,
                    placeholder="Ask about the articles, in French or English. · Posez une question sur les articles.")
                with gr.Row(equal_height=True):
                    box = gr.Textbox(placeholder="Your question… · Votre question…", show_label=False,
                                     container=False, scale=6, max_lines=4, elem_id="question", autofocus=True)
                    send = gr.Button("Ask", variant="primary", scale=1, min_width=80, elem_id="ask")
                    clear = gr.Button("Clear", scale=1, min_width=80, elem_id="clear")
                gr.Examples(EXAMPLES, inputs=box, label="Examples · Exemples", examples_per_page=10)
            with gr.Column(scale=2, min_width=340):
                proof = gr.HTML(proof_html(None, assistant.source_text), elem_id="proof", padding=True,
                                container=True)
        with gr.Accordion("Articles: the indexed list, and add an article", open=False, elem_id="articles-panel"):
            with gr.Row():
                with gr.Column(scale=3):
                    articles = gr.HTML(articles_html(assistant), elem_id="articles")
                with gr.Column(scale=2):
                    files = gr.File(label="Add an article (" + ", ".join(SUPPORTED_SUFFIXES)
                                    + f"; up to {MAX_FILE_BYTES // 1048576} MB)", file_count="multiple",
                                    file_types=list(SUPPORTED_SUFFIXES), elem_id="upload", height=140)
                    status = gr.HTML("", elem_id="upload-status")

        outputs = [chatbot, session_chat, proof, box]
        for trigger in (send.click, box.submit):
            trigger(on_message, [box, chatbot, session_chat], outputs, api_visibility="private",
                    show_progress="minimal", show_progress_on=[chatbot])
        clear.click(on_clear, None, outputs, api_visibility="private", queue=False)
        chatbot.clear(on_clear, None, outputs, api_visibility="private", queue=False)
        files.upload(on_upload, files, [status, articles, files], api_visibility="private",
                     concurrency_limit=1, concurrency_id="ingest", show_progress_on=[status])
        gr.api(chat, api_name="chat")
    demo.queue(default_concurrency_limit=4)
    return demo


THEME = gr.themes.Default(font=["system-ui", "-apple-system", "Segoe UI", "Roboto", "sans-serif"],
                          font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "monospace"])


def launch(demo: gr.Blocks, host: str = "127.0.0.1", port: int = 7860, **kwargs: Any) -> Any:
    """Serve on host:port only: no share link, no SSR node server, system fonts (nothing fetched from outside)."""
    return demo.launch(server_name=host, server_port=port, share=False, ssr_mode=False, css=CSS, theme=THEME,
                       max_file_size=4 * MAX_FILE_BYTES, footer_links=["api"], show_error=False, **kwargs)


_ASSISTANT: Assistant | None = None
_LOCK = threading.Lock()


def get_assistant() -> Assistant:
    """One Assistant per process: models and the index load once for every session."""
    global _ASSISTANT
    with _LOCK:
        if _ASSISTANT is None:
            _ASSISTANT = Assistant(progress=True)
        return _ASSISTANT


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    started = time.perf_counter()
    host = os.environ.get("ASSISTANT_HOST", "127.0.0.1")
    port = int(os.environ.get("ASSISTANT_PORT", "7860"))
    assistant = get_assistant()
    demo = build_demo(assistant)
    log.info("%d articles indexed; %s; ready in %.1f s (since import of app: see process start)",
             len(assistant.sources()), engine_label(assistant), time.perf_counter() - started)
    launch(demo, host, port)


if __name__ == "__main__":
    main()
