"""The Gradio chat: ask in French or English, see the proof beside each answer, add articles.

UI only: everything it shows comes from `assistant.Assistant` (one instance, shared by all sessions;
each browser session has its own `Chat`, so follow-ups never leak between users).
"""
from __future__ import annotations

import html
import os
import threading
from pathlib import Path
from typing import Any, Iterator

from index import settings as _settings  # noqa: F401  (offline and no-analytics environment first)

import gradio as gr  # noqa: E402

from assistant import Answer, Assistant  # noqa: E402

EXAMPLES = [
    "Combien xAI a-t-elle levé auprès de Sequoia et des autres fonds ?",
    "Combien xAI perd-elle par mois ?",
    "How many GPUs does Meta run?",
    "What is xAI valued at?",
    "Who reported xAI's losses?",
]

CSS = """
.proof {font-size: 0.95rem; line-height: 1.45;}
.proof .cite {border-left: 3px solid #6366f1; padding: 0.4rem 0.7rem; margin: 0.6rem 0; background: #f8fafc;}
.proof .cite .head {font-weight: 600; margin-bottom: 0.25rem;}
.proof .cite .meta {color: #64748b; font-size: 0.8rem;}
.proof mark {background: #fde68a; padding: 0 0.1rem;}
.proof .badge {display: inline-block; padding: 0.15rem 0.5rem; border-radius: 0.6rem; font-size: 0.8rem; font-weight: 600;}
.proof .ok {background: #dcfce7; color: #166534;}
.proof .no {background: #fee2e2; color: #991b1b;}
"""

_LABELS = {
    "en": {"ok": "Proven by the articles", "no": "Not in the articles", "sources": "Sources",
           "closest": "Closest passage", "chars": "characters"},
    "fr": {"ok": "Prouvé par les articles", "no": "Pas dans les articles", "sources": "Sources",
           "closest": "Passage le plus proche", "chars": "caractères"},
}


def paragraph_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    """The paragraph (between line breaks) that holds [start, end)."""
    left = text.rfind("\n", 0, start) + 1
    right = text.find("\n", end)
    return left, (len(text) if right < 0 else right)


def proof_html(answer: Answer | None, source_text) -> str:
    """The sources panel: each citation's quote highlighted inside its paragraph. Every piece of
    article or user text goes through html.escape: an article cannot inject markup or script."""
    if answer is None:
        return "<div class='proof'><p>Ask a question: the proof of the answer appears here.</p></div>"
    labels = _LABELS[answer.language]
    badge = (f"<span class='badge ok'>{labels['ok']}</span>" if answer.answered
             else f"<span class='badge no'>{labels['no']}</span>")
    parts = [f"<div class='proof'>{badge}"]
    for c in answer.citations:
        text = source_text(c.source_id)
        left, right = paragraph_bounds(text, c.start, c.end)
        before, quote, after = text[left:c.start], text[c.start:c.end], text[c.end:right]
        title = html.escape(c.title) + (f" — {html.escape(c.publisher)}" if c.publisher else "")
        head = labels["closest"] if not answer.answered else f"[{c.number}] {title}"
        parts.append(
            f"<div class='cite'><div class='head'>{head}</div>"
            f"<div>{html.escape(before)}<mark>{html.escape(quote)}</mark>{html.escape(after)}</div>"
            f"<div class='meta'>{html.escape(c.source_id)} · {c.start}–{c.end} {labels['chars']}</div></div>"
        )
    parts.append("</div>")
    return "".join(parts)


def articles_markdown(assistant: Assistant) -> str:
    rows = ["| Article | Publisher | Language | Chunks |", "|---|---|---|---|"]
    for e in assistant.sources():
        cells = [e.title, e.publisher or "—", e.language, str(e.chunks)]
        rows.append("| " + " | ".join(html.escape(x).replace("|", "\\|") for x in cells) + " |")
    return "\n".join(rows)


def engine_label(assistant: Assistant) -> str:
    llm = getattr(assistant, "llm", None)
    if llm is None:
        return "Engine: extractive (no LLM) — every figure is checked against a quoted span"
    return f"Engine: {getattr(llm, 'name', type(llm).__name__)} (LLM), verified; falls back to extractive"


def build_demo(assistant: Assistant) -> gr.Blocks:
    def respond(message: str, history: list[dict], chat: Any) -> Iterator[tuple[Any, ...]]:
        chat = chat or assistant.chat()
        message = message or ""
        # The chatbot renders HTML (sanitised): escape, so a question or an article shows as text.
        history = list(history or []) + [{"role": "user", "content": html.escape(message)}]
        answer = chat.ask(message)
        words = html.escape(answer.text).split(" ")
        # Stream the answer in a few steps, then the final text with its proof.
        step = max(1, len(words) // 6)
        for i in range(step, len(words), step):
            yield history + [{"role": "assistant", "content": " ".join(words[:i])}], chat, gr.update(), ""
        yield (history + [{"role": "assistant", "content": html.escape(answer.text)}], chat,
               proof_html(answer, assistant.source_text), "")

    def clear() -> tuple[Any, ...]:
        return [], None, proof_html(None, assistant.source_text), ""

    def upload(files: list[Any] | None, progress=gr.Progress()) -> tuple[str, str]:
        if not files:
            return "Choose a file first.", articles_markdown(assistant)
        progress(0.1, desc="Checking and indexing…")
        paths = [Path(getattr(f, "name", f)) for f in files]
        names, report = assistant.add_files(paths)
        progress(1.0)
        lines = []
        for name in names:
            state = ("added" if name in report.added else "updated" if name in report.replaced else "already indexed")
            lines.append(f"✅ {html.escape(name)}: {state}")
        lines += [f"⚠️ {html.escape(e)}" for e in report.errors]
        return "\n\n".join(lines) or "Nothing to add.", articles_markdown(assistant)

    def api_chat(message: str) -> str:
        """One question, one answer (a fresh conversation per call)."""
        return assistant.ask(message).text

    with gr.Blocks(title="Article assistant") as demo:
        gr.Markdown("## Article assistant\nAsk in French or English. Every figure is proven by an exact quote.")
        gr.Markdown(engine_label(assistant), elem_id="engine")
        chat_state = gr.State(None)
        with gr.Row():
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(label="Conversation", height=460, render_markdown=False,
                                     sanitize_html=True, elem_id="chatbot")
                with gr.Row():
                    box = gr.Textbox(placeholder="Your question… / Votre question…", show_label=False,
                                     scale=5, elem_id="question")
                    send = gr.Button("Ask", variant="primary", scale=1, elem_id="ask")
                    clear_btn = gr.Button("Clear", scale=1, elem_id="clear")
                gr.Examples(EXAMPLES, inputs=box, label="Examples")
            with gr.Column(scale=2):
                gr.Markdown("### Proof")
                proof = gr.HTML(proof_html(None, assistant.source_text), elem_id="proof")
        with gr.Accordion("Articles", open=False):
            articles = gr.Markdown(articles_markdown(assistant), elem_id="articles")
            files = gr.File(label="Add an article (.txt, .md, .html, .pdf)", file_count="multiple",
                            file_types=[".txt", ".md", ".html", ".htm", ".pdf"], elem_id="upload")
            add = gr.Button("Add to the index", elem_id="add")
            status = gr.Markdown(elem_id="upload-status")

        outputs = [chatbot, chat_state, proof, box]
        send.click(respond, [box, chatbot, chat_state], outputs, api_name=False)
        box.submit(respond, [box, chatbot, chat_state], outputs, api_name=False)
        clear_btn.click(clear, None, outputs, api_name=False)
        add.click(upload, files, [status, articles], api_name=False)
        hidden_in = gr.Textbox(visible=False)
        hidden_out = gr.Textbox(visible=False)
        hidden_in.submit(api_chat, hidden_in, hidden_out, api_name="chat")
    return demo


_ASSISTANT: Assistant | None = None
_LOCK = threading.Lock()


def get_assistant() -> Assistant:
    """One Assistant per process: models and indexes load once for every session."""
    global _ASSISTANT
    with _LOCK:
        if _ASSISTANT is None:
            _ASSISTANT = Assistant(progress=True)
        return _ASSISTANT


def launch(demo: gr.Blocks, host: str, port: int, **kwargs: Any) -> Any:
    demo.queue(default_concurrency_limit=4)
    return demo.launch(server_name=host, server_port=port, share=False, css=CSS,
                       theme=gr.themes.Default(font=["system-ui", "sans-serif"],
                                               font_mono=["ui-monospace", "monospace"]),
                       max_file_size="5mb", footer_links=[], **kwargs)


def main() -> None:
    host = os.environ.get("ASSISTANT_HOST", "127.0.0.1")
    port = int(os.environ.get("ASSISTANT_PORT", "7860"))
    launch(build_demo(get_assistant()), host, port)


if __name__ == "__main__":
    main()
