"""The Gradio chat: ask in French or English, see the proof beside each answer, add articles.

    python app.py        # http://127.0.0.1:7860 (ASSISTANT_HOST / ASSISTANT_PORT, else GRADIO_SERVER_NAME /
                         # GRADIO_SERVER_PORT)

UI only: everything it shows comes from `assistant.Assistant`: one instance per process, shared by every
session; each browser session keeps its own `Session` (its `Chat` and the proof of each answer) in a
`gr.State`, so follow-ups never leak between users. Article and user text never reach the page as markup:
it is escaped with `html.escape` wherever HTML is built, and chat messages are escaped before the chatbot
renders them.

The Proof panel holds the proof of every answer of the session (the latest shown); a small script swaps
the one shown when an earlier answer, or one of its [n] markers, is hovered (a preview) or clicked (kept).
"""
from __future__ import annotations

import html
import itertools
import logging
import os
import re
import sys
import threading
import time
from collections import OrderedDict
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

from index import settings as _settings  # noqa: F401  (offline, no analytics: before gradio is imported)

import gradio as gr  # noqa: E402

from assistant import Answer, Assistant  # noqa: E402
from index.loaders import MAX_FILE_BYTES, SUPPORTED_SUFFIXES  # noqa: E402

log = logging.getLogger("app")

EXAMPLES = [
    "Combien xAI a-t-elle levé et à quelle valorisation ?",
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
MAX_TURNS = 40  # proofs kept per browser session (the page holds them all); older answers lose theirs
DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 7860

CSS = """
#header {display: flex; align-items: center; justify-content: space-between; gap: 1rem; flex-wrap: wrap;}
#header h1 {font-size: 1.45rem; margin: 0;}
#header p {margin: 0.15rem 0 0; color: var(--body-text-color-subdued);}
#header .engine {font-size: 0.8rem; padding: 0.25rem 0.65rem; border-radius: 999px;
  border: 1px solid var(--border-color-primary); background: var(--block-background-fill); white-space: nowrap;}
#chatbot .message-content, #chatbot .md {white-space: pre-wrap;}
#chatbot .bot-row .message {cursor: pointer;}
#chatbot .bot-row.proof-shown .bot.message {box-shadow: 0 0 0 2px #6366f1; border-radius: var(--radius-lg);}
#chatbot .ref {color: #4f46e5; font-weight: 600; cursor: pointer; border-radius: 3px; padding: 0 0.1rem;}
#chatbot .ref:hover {background: #e0e7ff;}
#chatbot .sources {margin-top: 0.5rem; white-space: normal; font-size: 0.8rem;}
#chatbot .sources .cards {display: flex; flex-wrap: wrap; gap: 0.35rem; margin-top: 0.3rem;}
#chatbot .src {flex: 1 1 12rem; min-width: 0; border: 1px solid var(--border-color-primary); border-radius: 6px;
  padding: 0.15rem 0.45rem; overflow: hidden; text-overflow: ellipsis; white-space: nowrap;}
.chip {display: inline-block; width: fit-content; padding: 0.05rem 0.5rem; border-radius: 999px; font-weight: 600;}
.chip.ok {background: #dcfce7; color: #166534;}
.chip.warn {background: #fef3c7; color: #92400e;}
.chip.no {background: #fee2e2; color: #991b1b;}
.added {display: inline-block; font-size: 0.75rem; padding: 0 0.4rem; border-radius: 999px; background: #e0f2fe;
  color: #075985; font-weight: 500; white-space: nowrap;}
.proof {font-size: 0.93rem; line-height: 1.5;}
.proof h3 {margin: 0 0 0.4rem; font-size: 1rem;}
.proof .turn {display: none;}
.proof .turn.shown {display: block;}
.proof .turn-head {display: flex; flex-wrap: wrap; align-items: center; gap: 0.5rem;}
.proof .earlier-note {display: none; font-size: 0.8rem; color: var(--body-text-color-subdued);}
.proof .turn.earlier .earlier-note {display: inline;}
.proof .earlier-note .latest {border: 0; background: none; padding: 0; color: #4f46e5; cursor: pointer;
  text-decoration: underline; font: inherit;}
.proof .question {color: var(--body-text-color-subdued); margin: 0.35rem 0 0.2rem; font-size: 0.85rem;}
.proof .hint {color: var(--body-text-color-subdued);}
.proof .cites.many {display: grid; grid-template-columns: repeat(auto-fit, minmax(13rem, 1fr)); gap: 0 0.6rem;}
.proof .cite {border: 1px solid var(--border-color-primary); border-left: 4px solid #6366f1; border-radius: 6px;
  padding: 0.5rem 0.75rem; margin: 0.6rem 0; background: var(--block-background-fill); min-width: 0;}
.proof .cite.closest {border-left-color: #94a3b8;}
.proof .cite.focus {box-shadow: 0 0 0 2px #6366f1;}
.proof .cite .title {font-weight: 600;}
.proof .cite .num {display: inline-block; min-width: 1.5rem; text-align: center; border-radius: 4px;
  background: #6366f1; color: #fff; font-size: 0.8rem; margin-right: 0.35rem;}
.proof .cite.closest .num {background: #94a3b8;}
.proof .cite .relevant {color: #475569; font-weight: 600;}
.proof .cite .publisher {color: var(--body-text-color-subdued); font-weight: 400;}
.proof .cite .para {margin: 0.35rem 0; max-height: 22rem; overflow-y: auto; overflow-wrap: anywhere;}
.proof mark {background: #fde047; color: #111827; padding: 0.05rem 0.15rem; border-radius: 3px;
  box-decoration-break: clone; -webkit-box-decoration-break: clone;}
.proof .meta, .proof .foot {color: var(--body-text-color-subdued); font-size: 0.78rem;}
.proof .badge {display: inline-block; padding: 0.2rem 0.6rem; border-radius: 999px; font-size: 0.82rem; font-weight: 600;}
.proof .badge.ok {background: #dcfce7; color: #166534;}
.proof .badge.warn {background: #fef3c7; color: #92400e;}
.proof .badge.no {background: #fee2e2; color: #991b1b;}
.proof .badge.err {background: #fef3c7; color: #92400e;}
.articles table {width: 100%; border-collapse: collapse; font-size: 0.88rem; border: 0;}
#articles .articles th, #articles .articles td {text-align: left; padding: 0.3rem 0.5rem; border: 0;
  border-bottom: 1px solid var(--border-color-primary); vertical-align: top;}
.articles td.n {text-align: right;}
.articles td:first-child {min-width: 11rem;}
.articles .file {color: var(--body-text-color-subdued); font-size: 0.78rem; overflow-wrap: anywhere;}
.articles .when {font-size: 0.8rem; min-width: 5.5rem;}
.articles .remove {font-size: 0.78rem; padding: 0.1rem 0.5rem; border-radius: 5px; cursor: pointer;
  border: 1px solid #fca5a5; background: #fff; color: #b91c1c; white-space: nowrap;}
.articles .remove.armed {background: #b91c1c; color: #fff;}
.articles .remove:disabled {opacity: 0.6; cursor: wait;}
.upload-status ul {margin: 0.3rem 0; padding-left: 1.1rem;}
.upload-status .error {color: #b91c1c;}
"""

# The Proof panel's behaviour (gr.HTML js_on_load: `element` is the panel, `watch` runs after each update).
# Bot row i of the chat is answer i of the session, whose proof is the panel's <section data-turn="i">.
PROOF_JS = r"""
const rows = () => Array.from(document.querySelectorAll('#chatbot .bot-row'));
let pinned = null, previewing = false, timer = null;
function mark(index) {
  rows().forEach((row, i) => row.classList.toggle('proof-shown', i === index));
}
function show(turn, cite, scroll) {
  const panel = element.querySelector('.proof');
  const all = panel ? Array.from(panel.querySelectorAll('.turn')) : [];
  if (!all.length) { mark(-1); return false; }
  const latest = all[all.length - 1];
  const target = turn === null ? latest : all.find((t) => t.dataset.turn === String(turn));
  if (!target) return false;
  all.forEach((t) => {
    t.classList.toggle('shown', t === target);
    t.classList.toggle('earlier', t === target && t !== latest);
  });
  panel.dataset.shown = target.dataset.turn;
  panel.querySelectorAll('.cite.focus').forEach((c) => c.classList.remove('focus'));
  const focus = cite ? target.querySelector('.cite-' + cite) : null;
  if (focus) {
    focus.classList.add('focus');
    if (scroll) focus.scrollIntoView({block: 'nearest'});
  }
  mark(Number(target.dataset.turn));
  return true;
}
function where(node) {
  const row = node && node.closest ? node.closest('#chatbot .bot-row') : null;
  if (!row) return null;
  const ref = node.closest('.ref, .src');
  const m = ref ? /(?:ref|src)-(\d+)/.exec(ref.className) : null;
  return {turn: rows().indexOf(row), cite: m ? Number(m[1]) : null};
}
function restore() {
  previewing = false;
  if (pinned) show(pinned.turn, pinned.cite, false); else show(null, null, false);
}
document.addEventListener('click', (e) => {
  if (e.target.closest && e.target.closest('#proof .latest')) {
    e.preventDefault(); pinned = null; restore(); return;
  }
  const at = where(e.target);
  if (!at || at.turn < 0) return;
  clearTimeout(timer);
  if (show(at.turn, at.cite, true)) { pinned = at; previewing = false; }
});
document.addEventListener('mouseover', (e) => {
  const at = where(e.target);
  clearTimeout(timer);
  if (at && at.turn >= 0) {
    timer = setTimeout(() => { if (show(at.turn, at.cite, false)) previewing = true; }, 120);
  } else if (previewing && !(e.target.closest && e.target.closest('#proof'))) {
    timer = setTimeout(restore, 300);  // the pointer left the chat, not for the panel: back to the kept proof
  }
});
if (typeof watch === 'function') {
  watch('value', () => { pinned = null; previewing = false; show(null, null, false); setTimeout(() => show(null, null, false), 80); });
}
"""

# The Articles list: an uploaded article's Remove button asks for a second click, then triggers the
# server's handler with the article's source id.
ARTICLES_JS = r"""
element.addEventListener('click', (e) => {
  const button = e.target.closest ? e.target.closest('button.remove') : null;
  if (!button || button.disabled) return;
  if (button.dataset.armed !== '1') {
    const label = button.textContent;
    button.dataset.armed = '1';
    button.classList.add('armed');
    button.textContent = 'Click again';
    setTimeout(() => {
      if (button.isConnected && !button.disabled) {
        button.dataset.armed = ''; button.classList.remove('armed'); button.textContent = label;
      }
    }, 4000);
    return;
  }
  button.disabled = true;
  button.textContent = 'Removing…';
  trigger('click', {source_id: button.dataset.source});
});
"""

_LABELS = {
    "en": {"verified": "✓ Verified in the articles", "unverified": "Answered, not verified: read the quote",
           "not_answered": "Not answered", "none": "Not in the articles: no passage comes close.",
           "relevant": "May be relevant", "added": "from an article you added", "chars": "characters",
           "question": "Question", "engine_llm": "LLM answer, verified", "engine_x": "extractive answer",
           "fallback": "LLM answer replaced by the extractive one", "confidence": "confidence",
           "earlier": "Earlier answer", "latest": "show the latest", "error": "Error", "proof": "Show its proof"},
    "fr": {"verified": "✓ Vérifié dans les articles", "unverified": "Réponse non vérifiée : lisez la citation",
           "not_answered": "Pas de réponse", "none": "Pas dans les articles : aucun passage n'en approche.",
           "relevant": "Peut-être pertinent", "added": "d'un article que vous avez ajouté", "chars": "caractères",
           "question": "Question", "engine_llm": "réponse du LLM, vérifiée", "engine_x": "réponse extractive",
           "fallback": "réponse du LLM remplacée par la réponse extractive", "confidence": "confiance",
           "earlier": "Réponse précédente", "latest": "voir la dernière", "error": "Erreur",
           "proof": "Voir sa preuve"},
}
_BADGE_CLASS = {"verified": "ok", "unverified": "warn", "not_answered": "no"}
_MARKER = re.compile(r"\[(\d{1,2})\]")
_QUOTE_OPEN = re.compile(r"\s*:?\s*([«“])")
_QUOTE_PAIRS = {"«": "»", "“": "”"}
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


def answer_status(answer: Answer) -> str:
    """'verified' (answered and verified by the engine), 'unverified' (answered, the engine is not sure)
    or 'not_answered' (a refusal, possibly offering a passage that may be relevant)."""
    if not answer.answered:
        return "not_answered"
    return "verified" if getattr(answer, "verified", False) else "unverified"


def _labels(answer: Answer) -> dict[str, str]:
    return _LABELS.get(answer.language, _LABELS["en"])


def _confidence(answer: Answer) -> str:
    value = getattr(answer, "confidence", None)
    if not answer.answered or not isinstance(value, (int, float)) or not 0 < value <= 1:
        return ""  # none given, or a score that is not a probability: nothing to show honestly
    pct = round(100 * float(value))
    return f"{_labels(answer)['confidence']} {pct}{' %' if answer.language == 'fr' else '%'}"


def origin_lookup(assistant: Any) -> Callable[[str], str]:
    """source id -> 'bundled' | 'uploaded' | '' (unknown), from the index's list of articles."""
    try:
        entries = {e.source_id: e for e in assistant.sources()}
    except Exception:  # noqa: BLE001 — a proof must still render
        entries = {}
    return lambda source_id: str(getattr(entries.get(source_id), "origin", "") or "")


def turn_html(answer: Answer, source_text: Callable[[str], str], question: str = "",
              origin: Callable[[str], str] | None = None, turn: int = 0) -> str:
    """One answer's proof, a <section> of the Proof panel: its status badge, then each citation's quote
    highlighted inside its paragraph, numbered like the answer's [n] markers and side by side when there
    are several. Every piece of article or user text goes through html.escape: an article cannot inject
    markup."""
    labels = _labels(answer)
    status = answer_status(answer)
    cites = list(answer.citations)
    parts = [f"<section class='turn' data-turn='{int(turn)}' data-status='{status}' data-citations='{len(cites)}'>"
             f"<div class='turn-head'><span class='badge {_BADGE_CLASS[status]}'>{labels[status]}</span>"
             f"<span class='earlier-note'>{labels['earlier']} · <button type='button' class='latest'>"
             f"{labels['latest']}</button></span></div>"]
    if question:
        colon = " : " if answer.language == "fr" else ": "
        parts.append(f"<p class='question'>{labels['question']}{colon}{esc(question)}</p>")
    if not cites and not answer.answered:
        parts.append(f"<p class='hint'>{labels['none']}</p>")
    parts.append(f"<div class='cites{' many' if len(cites) > 1 else ''}'>")
    for c in cites:
        try:
            text = source_text(c.source_id)
            before, quote, after = _context(text, c.start, c.end)
        except Exception:  # noqa: BLE001 — the article was removed since: show the quote alone
            before, quote, after = "", c.quote, ""
        number = int(c.number)
        publisher = f" <span class='publisher'>— {esc(c.publisher)}</span>" if c.publisher else ""
        added = (f" <span class='added'>{labels['added']}</span>"
                 if origin is not None and origin(c.source_id) == "uploaded" else "")
        relevant = "" if answer.answered else f"<span class='relevant'>{labels['relevant']}</span> · "
        parts.append(
            f"<div class='cite cite-{number}{'' if answer.answered else ' closest'}' data-n='{number}'>"
            f"<div class='title'><span class='num'>{number}</span>{relevant}{esc(c.title)}{publisher}{added}</div>"
            f"<div class='para'>{esc(before)}<mark>{esc(quote)}</mark>{esc(after)}</div>"
            f"<div class='meta'>{esc(c.source_id)} · {labels['chars']} {int(c.start)}–{int(c.end)}</div></div>")
    parts.append("</div>")
    foot = labels["engine_llm"] if answer.engine == "llm" else labels["engine_x"]
    if answer.fallback_reason:
        foot = f"{labels['fallback']} ({esc(answer.fallback_reason)})"
    confidence = _confidence(answer)
    if confidence:
        foot += f" · {confidence}"
    total = answer.timings.get("total")
    if total is not None:
        foot += f" · {total:.2f} s"
    parts.append(f"<div class='foot'>{foot}</div></section>")
    return "".join(parts)


def error_turn_html(message: str, turn: int = 0) -> str:
    return (f"<section class='turn' data-turn='{int(turn)}' data-status='error'><div class='turn-head'>"
            f"<span class='badge err'>Error</span><span class='earlier-note'>{_LABELS['en']['earlier']} · "
            f"<button type='button' class='latest'>{_LABELS['en']['latest']}</button></span></div>"
            f"<p>{esc(message)}</p></section>")


def panel_html(turns: Mapping[int, str]) -> str:
    """The Proof panel: every kept answer's proof, the latest shown (the page script shows another on
    hover or click). `data-answer` changes with every update."""
    if not turns:
        return ("<div class='proof' data-answer='0' data-turns='0'><h3>Proof · Preuve</h3>"
                "<p class='hint'>Ask a question: the quoted passage that proves the answer appears here, "
                "highlighted in its article. Hover or click an earlier answer, or its [1] marker, to see its "
                "proof again.<br>Posez une question : le passage cité qui prouve la réponse s'affiche ici, "
                "surligné dans son article ; survolez ou cliquez une réponse précédente pour revoir sa preuve."
                "</p></div>")
    keys = sorted(turns)
    last = keys[-1]
    body = "".join(turns[k].replace("<section class='turn'", "<section class='turn shown'", 1) if k == last
                   else turns[k] for k in keys)
    return (f"<div class='proof' data-answer='{next(_answer_ids)}' data-turns='{len(keys)}' data-shown='{last}'>"
            f"<h3>Proof · Preuve</h3>{body}</div>")


def proof_html(answer: Answer | None, source_text: Callable[[str], str], question: str = "",
               origin: Callable[[str], str] | None = None) -> str:
    """The Proof panel for one answer alone (or the empty panel for None)."""
    if answer is None:
        return panel_html({})
    return panel_html({0: turn_html(answer, source_text, question, origin)})


def error_html(message: str) -> str:
    return panel_html({0: error_turn_html(message)})


def _when(iso: str) -> str:
    """An ISO time as 'YYYY-MM-DD HH:MM' (UTC marked), the exact value in a tooltip."""
    if not iso:
        return "—"
    try:
        moment = datetime.fromisoformat(str(iso).replace("Z", "+00:00"))
    except ValueError:
        return esc(iso)
    zone = " UTC" if moment.utcoffset() == timedelta(0) else ""
    return f"<time datetime='{esc(iso)}' title='{esc(iso)}'>{moment:%Y-%m-%d %H:%M}{zone}</time>"


def articles_html(assistant: Assistant) -> str:
    """The indexed articles: title (publisher, file), language, chunks, origin, when added; a Remove
    button for the ones a user uploaded."""
    entries = assistant.sources()
    rows = []
    for e in entries:
        origin = str(getattr(e, "origin", "") or "")
        publisher = f"{esc(e.publisher)} · " if e.publisher else ""
        remove = (f"<button type='button' class='remove' data-source='{esc(e.source_id)}' "
                  f"title='Remove this article from the index (click twice)'>Remove</button>"
                  if origin == "uploaded" else "")
        rows.append(
            f"<tr data-source='{esc(e.source_id)}' data-origin='{esc(origin)}'><td>{esc(e.title)}"
            f"<div class='file'>{publisher}{esc(e.source_id)}</div></td><td>{esc(e.language)}</td>"
            f"<td class='n'>{int(e.chunks)}</td><td class='origin'>{esc(origin or '—')}</td>"
            f"<td class='when'>{_when(str(getattr(e, 'added_at', '') or ''))}</td><td>{remove}</td></tr>")
    body = "".join(rows) or "<tr><td colspan='6'>No article is indexed yet: add one.</td></tr>"
    return (f"<div class='articles'><table><thead><tr><th>Article ({len(entries)})</th><th>Language</th>"
            f"<th>Chunks</th><th>Origin</th><th>Added</th><th></th></tr></thead><tbody>{body}</tbody></table></div>")


def remove_article(assistant: Assistant, source_id: str) -> str:
    """Remove an uploaded article from the index; returns the status as HTML."""
    def status(line: str, error: bool = False) -> str:
        return (f"<div class='upload-status'><ul><li class='{'error' if error else 'ok'}'>"
                f"{'⚠ ' if error else ''}{line}</li></ul></div>")

    source_id = str(source_id or "")
    entry = next((e for e in assistant.sources() if e.source_id == source_id), None)
    if entry is None:
        return status(f"<b>{esc(source_id)}</b>: not in the index (already removed?).", error=True)
    if getattr(entry, "origin", "") != "uploaded":
        return status(f"<b>{esc(source_id)}</b>: it came with the app; only articles you added can be removed "
                      "here.", error=True)
    remove = getattr(assistant, "remove_source", None)
    if remove is None:
        return status("Removing an article is not available in this version.", error=True)
    try:
        remove(source_id)
    except Exception as exc:  # noqa: BLE001 — the page gets a message, not a stack trace
        log.exception("removing %r failed", source_id)
        return status(f"<b>{esc(source_id)}</b>: could not be removed ({esc(exc) or type(exc).__name__}).",
                      error=True)
    return status(f"<b>{esc(source_id)}</b>: removed; it is no longer used to answer (proofs already shown "
                  "stay on the page).")


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


def sources_html(answer: Answer, origin: Callable[[str], str] | None = None) -> str:
    """Under an answer in the chat: its status, then one card per citation, numbered like its [n]
    markers, side by side (the chatbot keeps class and title attributes, not data-*)."""
    labels = _labels(answer)
    status = answer_status(answer)
    cards = []
    for c in answer.citations:
        number = int(c.number)
        relevant = "" if answer.answered else f"{labels['relevant']} · "
        publisher = f" — {chat_text(c.publisher)}" if c.publisher else ""
        added = (f" <span class='added'>{labels['added']}</span>"
                 if origin is not None and origin(c.source_id) == "uploaded" else "")
        cards.append(f"<span class='src src-{number}' title='{esc(labels['proof'])}'><span class='ref ref-{number}'>"
                     f"[{number}]</span> {relevant}{chat_text(c.title)}{publisher}{added}</span>")
    return (f"<div class='sources'><span class='chip {_BADGE_CLASS[status]}'>{labels[status]}</span>"
            f"<div class='cards'>{''.join(cards)}</div></div>")


def _quote_end(text: str, pos: int) -> int:
    """After a [n] marker at `pos`: the end of the quotation that follows it (": « … »" or ": “…”"), or
    `pos` when none follows (or it is not closed yet, in a streamed draft)."""
    opening = _QUOTE_OPEN.match(text, pos)
    if not opening:
        return pos
    open_mark = opening.group(1)
    close_mark = _QUOTE_PAIRS[open_mark]
    depth, i = 1, opening.end()
    while i < len(text):
        if text[i] == close_mark:
            depth -= 1
            if depth == 0:
                return i + 1
        elif text[i] == open_mark:
            depth += 1
        i += 1
    return pos


def chat_answer(text: str, answer: Answer | None = None, origin: Callable[[str], str] | None = None) -> str:
    """An answer for the chatbot, escaped: its own words (before each [n] marker) in bold, so the figures
    read at a glance and each quote after its marker reads as the evidence; each [n] a clickable reference
    to its proof; the parts of a compound answer on their own lines. With the finished `answer`, its status
    and numbered sources follow."""
    text = str(text)
    numbers = {int(c.number) for c in answer.citations} if answer is not None else None
    out: list[str] = []
    pos = 0
    for match in _MARKER.finditer(text):
        if match.start() < pos or (numbers is not None and int(match[1]) not in numbers):
            continue  # inside the previous quote, or not one of this answer's markers
        own = text[pos:match.start()]
        words = own.strip()
        if out and own[:1].isspace():
            out.append("\n")  # the next part of a compound answer
        elif own[:1].isspace():
            out.append(own[:len(own) - len(own.lstrip())])
        if words:
            out.append(f"<strong>{chat_text(words)}</strong>{own[len(own.rstrip()):]}")
        out.append(f"<span class='ref ref-{int(match[1])}'>[{int(match[1])}]</span>")
        end = _quote_end(text, match.end())
        out.append(chat_text(text[match.end():end]))
        pos = end
    out.append(chat_text(text[pos:]))
    return "".join(out) + (sources_html(answer, origin) if answer is not None else "")


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


class Session:
    """One browser session: its Chat (follow-ups) and the proof of each answer, by its place in the chat."""

    def __init__(self, chat: Any) -> None:
        self.chat = chat
        self.turns: dict[int, str] = {}

    def keep(self, turn: int, proof: str) -> None:
        self.turns[turn] = proof
        while len(self.turns) > MAX_TURNS:
            del self.turns[min(self.turns)]


def _answers_in(history: list[Any]) -> int:
    return sum(1 for m in history if (m.get("role") if isinstance(m, dict) else getattr(m, "role", None))
               == "assistant")


def respond(assistant: Assistant, message: str, history: list[dict] | None,
            session: Session | None) -> Iterator[tuple[list[dict], Any, Any, str]]:
    """One turn in a browser session: yields (chat messages, the Session, proof panel, textbox)."""
    session = session if isinstance(session, Session) else Session(assistant.chat())
    question = (message or "").strip()
    history = list(history or [])
    if not question:
        yield history, session, gr.skip(), ""
        return
    turn = _answers_in(history)  # this answer's place among the chat's answers = its bot row
    history.append({"role": "user", "content": chat_text(question)})
    yield history, session, gr.skip(), ""
    shown, answer = "", None
    try:
        for item in _deltas(session.chat, question):
            if isinstance(item, str):
                if answer is None:  # with an LLM, its unverified draft never replaces the answer shown
                    shown += item
                    yield history + [{"role": "assistant", "content": chat_answer(shown)}], session, gr.skip(), ""
            else:
                # With an LLM the extractive answer comes first and is shown at once; the last Answer (the
                # LLM's verified one, or the extractive one again) replaces it.
                answer = item
                origin = origin_lookup(assistant)
                session.keep(turn, turn_html(answer, assistant.source_text, question, origin, turn))
                yield (history + [{"role": "assistant", "content": chat_answer(answer.text, answer, origin)}],
                       session, panel_html(session.turns), "")
    except Exception as exc:  # noqa: BLE001 — the page must get a message, not a stack trace
        log.exception("question failed: %r", question[:200])
        text = f"Sorry, something went wrong while answering ({type(exc).__name__}). Please try again."
        session.keep(turn, error_turn_html(text, turn))
        yield history + [{"role": "assistant", "content": chat_text(text)}], session, panel_html(session.turns), ""
        return
    assert answer is not None
    origin = origin_lookup(assistant)
    session.keep(turn, turn_html(answer, assistant.source_text, question, origin, turn))
    yield (history + [{"role": "assistant", "content": chat_answer(answer.text, answer, origin)}], session,
           panel_html(session.turns), "")


def answer_data(answer: Answer, origin: Callable[[str], str] | None = None) -> dict[str, Any]:
    """An Answer as the `/ask` endpoint returns it (JSON)."""
    return {
        "text": answer.text,
        "language": answer.language,
        "answered": bool(answer.answered),
        "engine": answer.engine,
        "verified": answer_status(answer) == "verified",
        "confidence": float(getattr(answer, "confidence", 0.0) or 0.0),
        "fallback_reason": answer.fallback_reason,
        "citations": [{"number": int(c.number), "source_id": c.source_id, "title": c.title,
                       "publisher": c.publisher, "quote": c.quote, "start": int(c.start), "end": int(c.end),
                       "origin": origin(c.source_id) if origin is not None else ""} for c in answer.citations],
    }


# ---------------------------------------------------------------- uploads
def _paths(files: Any) -> list[Path]:
    if not files:
        return []
    items = files if isinstance(files, (list, tuple)) else [files]
    return [Path(getattr(f, "name", f)) for f in items]


def _upload_cache() -> Path:
    """Where Gradio keeps uploaded files (GRADIO_TEMP_DIR, else the system temp dir's gradio/)."""
    from gradio.utils import get_upload_folder

    return Path(get_upload_folder()).resolve()


def discard_upload(path: Path) -> None:
    """Delete an uploaded file from Gradio's upload cache (and its folder once empty): refused files at
    once, the others once indexed (sources/ holds its copy). Files outside the cache are never touched."""
    try:
        target = Path(path).resolve()
        cache = _upload_cache()
        if cache not in target.parents or not target.is_file():
            return
        target.unlink(missing_ok=True)
        folder = target.parent
        while folder != cache and cache in folder.parents and not any(folder.iterdir()):
            folder.rmdir()
            folder = folder.parent
    except OSError as exc:
        log.warning("could not remove an upload from Gradio's cache: %s", exc)


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def add_articles(assistant: Assistant, files: Any, progress: Callable[..., Any] | None = None) -> str:
    """Index uploaded files one by one (progress per file, then per passage embedded); returns the status
    as HTML. An upload is always a new article: it never replaces one (a name already taken gets a suffix),
    and the same text as an indexed article is that article."""
    paths = _paths(files)
    if not paths:
        return "<div class='upload-status'>Choose a file first.</div>"
    lines: list[str] = []
    started = time.perf_counter()
    for i, path in enumerate(paths):
        if progress is not None:
            progress((i, len(paths)), desc=f"Reading {path.name}", unit="files")

        def embedding(done: int, total: int, source_id: str, name: str = path.name) -> None:
            if progress is not None:
                progress((done, total), desc=f"Indexing {name}: {done}/{total} passages", unit="passages")

        try:
            names, report = assistant.add_files([path], on_progress=embedding)
        finally:
            discard_upload(path)
        entries = {e.source_id: e for e in assistant.sources()}
        for name in names:
            entry = entries.get(name)
            count = _count(int(getattr(entry, "chunks", 0) or 0), "chunk")
            if name in report.added:
                state = f"added ({count}): you can ask about it now"
                if name != _safe_name(path.name):
                    state = (f"added as a new article ({count}): an article named {_safe_name(path.name)} "
                             "already exists and is unchanged")
            else:
                state = "already indexed with this exact text: nothing added or duplicated"
            lines.append(f"<li class='ok'><b>{esc(name)}</b>: {esc(state)}</li>")
        lines += [f"<li class='error'>⚠ {esc(error)}</li>" for error in report.errors]
    if progress is not None:
        progress((len(paths), len(paths)), desc="Done", unit="files")
    return (f"<div class='upload-status'><ul>{''.join(lines)}</ul>"
            f"<span class='meta'>{time.perf_counter() - started:.1f} s</span></div>")


def _safe_name(name: str) -> str:
    from index.loaders import LoaderError, safe_upload_name

    try:
        return safe_upload_name(name)
    except LoaderError:
        return name


# Files over the article limit are refused in the page, with the loader's own message, before any byte is
# sent (Gradio's own check would only show a red "Error", against its larger transfer limit).
UPLOAD_JS = r"""
const limit = %(limit)d, limitMb = '%(mb)s';
function refuse(event, files) {
  const big = Array.from(files || []).filter((f) => f.size > limit);
  if (!big.length) return;
  event.stopImmediatePropagation();
  event.preventDefault();
  if (event.target && event.target.type === 'file') event.target.value = '';
  const list = document.createElement('ul');
  big.forEach((f) => {
    const li = document.createElement('li');
    li.className = 'error';
    li.textContent = '⚠ ' + f.name + ': the file is ' + (f.size / 1048576).toFixed(1) + ' MB, over the ' +
      limitMb + ' MB limit; split it or raise ASSISTANT_MAX_FILE_MB.' +
      (files.length > big.length ? ' Nothing was added: add the other files again.' : '');
    list.appendChild(li);
  });
  const box = document.createElement('div');
  box.className = 'upload-status';
  box.appendChild(list);
  element.replaceChildren(box);
}
for (const type of ['input', 'change']) {
  document.addEventListener(type, (e) => {
    if (e.target && e.target.type === 'file' && e.target.closest && e.target.closest('#upload')) refuse(e, e.target.files);
  }, true);
}
document.addEventListener('drop', (e) => {
  if (e.target && e.target.closest && e.target.closest('#upload')) refuse(e, e.dataTransfer && e.dataTransfer.files);
}, true);
"""


# ---------------------------------------------------------------- the page
def build_demo(assistant: Assistant) -> gr.Blocks:
    """The app on the given Assistant (tests pass one on a temporary index). Launch it with `launch()`,
    which applies the theme, CSS and the no-sharing settings."""

    def on_message(message: str, history: list[dict], session: Any) -> Iterator[tuple[Any, ...]]:
        yield from respond(assistant, message, history, session)

    def on_clear() -> tuple[Any, ...]:
        return [], None, panel_html({}), ""

    def on_upload(files: list[str] | None, progress=gr.Progress()) -> tuple[str, str, Any]:
        status = add_articles(assistant, files, progress)
        return status, articles_html(assistant), None

    def on_remove(evt: gr.EventData) -> tuple[str, str]:
        source_id = (getattr(evt, "_data", None) or {}).get("source_id")
        if not source_id:  # a click elsewhere in the list
            return gr.skip(), gr.skip()
        status = remove_article(assistant, source_id)
        return status, articles_html(assistant)

    api_chats: OrderedDict[str, tuple[threading.Lock, Any]] = OrderedDict()  # session hash -> (lock, Chat)
    api_chats_lock = threading.Lock()

    def api_conversation(session: str) -> tuple[threading.Lock, Any]:
        with api_chats_lock:
            entry = api_chats.pop(session, None) or (threading.Lock(), assistant.chat())
            api_chats[session] = entry
            while len(api_chats) > API_SESSIONS:
                api_chats.popitem(last=False)
            return entry

    def api_answer(message: str, follow_up: bool, request: gr.Request | None) -> Answer:
        session = getattr(request, "session_hash", None)
        if not follow_up or not session:
            return assistant.ask(message or "")
        lock, conversation = api_conversation(session)
        with lock:  # one client's calls are answered in order, against its own conversation only
            return conversation.ask(message or "")

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
        return api_answer(message, follow_up, request).text

    def ask(message: str, follow_up: bool = False, request: gr.Request = None) -> dict:
        """Answer one question about the articles, as structured data.

        Args:
            message: the question, in French or English, e.g. "How much did xAI raise?"
            follow_up: as for /chat: True continues this client's conversation (shared with its /chat calls).
        Returns:
            {text, language ("fr"|"en"), answered, engine ("extractive"|"llm"), verified, confidence,
            fallback_reason, citations: [{number, source_id, title, publisher, quote, start, end, origin}]};
            each quote is the article's text[start:end], numbered like the [n] markers of the text.
        """
        answer = api_answer(message, follow_up, request)
        return answer_data(answer, origin_lookup(assistant))

    with gr.Blocks(title="Article assistant") as demo:
        gr.HTML(header_html(assistant), padding=False)
        session_state = gr.State(None)  # this browser session's Session (created on its first question)
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
                proof = gr.HTML(panel_html({}), elem_id="proof", padding=True, container=True, js_on_load=PROOF_JS)
        with gr.Accordion("Articles: the indexed list, and add an article", open=False, elem_id="articles-panel"):
            with gr.Row():
                with gr.Column(scale=3):
                    articles = gr.HTML(articles_html(assistant), elem_id="articles", js_on_load=ARTICLES_JS)
                with gr.Column(scale=2):
                    files = gr.File(label="Add an article (" + ", ".join(SUPPORTED_SUFFIXES)
                                    + f"; up to {MAX_FILE_BYTES // 1048576} MB)", file_count="multiple",
                                    file_types=list(SUPPORTED_SUFFIXES), elem_id="upload", height=140)
                    status = gr.HTML("", elem_id="upload-status", js_on_load=UPLOAD_JS % {
                        "limit": MAX_FILE_BYTES, "mb": f"{MAX_FILE_BYTES / 1048576:g}"})

        outputs = [chatbot, session_state, proof, box]
        for trigger in (send.click, box.submit):
            trigger(on_message, [box, chatbot, session_state], outputs, api_visibility="private",
                    show_progress="minimal", show_progress_on=[chatbot])
        clear.click(on_clear, None, outputs, api_visibility="private", queue=False)
        chatbot.clear(on_clear, None, outputs, api_visibility="private", queue=False)
        files.upload(on_upload, files, [status, articles, files], api_visibility="private",
                     concurrency_limit=1, concurrency_id="ingest", show_progress_on=[status])
        articles.click(on_remove, None, [status, articles], api_visibility="private",
                       concurrency_limit=1, concurrency_id="ingest")
        demo.load(lambda: articles_html(assistant), None, articles, api_visibility="private", queue=False)  # as of now
        gr.api(chat, api_name="chat")
        gr.api(ask, api_name="ask")
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


def listen_address(environ: Mapping[str, str] | None = None) -> tuple[str, int]:
    """(host, port): ASSISTANT_HOST / ASSISTANT_PORT, else Gradio's GRADIO_SERVER_NAME / GRADIO_SERVER_PORT,
    else 127.0.0.1:7860. A port that is not a number in 1-65535 stops the app with a message naming the
    variable."""
    env = os.environ if environ is None else environ
    host = env.get("ASSISTANT_HOST") or env.get("GRADIO_SERVER_NAME") or DEFAULT_HOST
    name = next((n for n in ("ASSISTANT_PORT", "GRADIO_SERVER_PORT") if env.get(n)), None)
    if name is None:
        return host, DEFAULT_PORT
    raw = env[name]
    try:
        port = int(raw)
    except ValueError:
        port = 0
    if not 0 < port < 65536:
        raise SystemExit(f"{name}={raw!r} is not a port number (1-65535)")
    return host, port


LOG_LINE_CHARS = 2000  # longest line the app writes to its log (stderr); the rest is counted, not written


class BoundedLines:
    """A text stream that writes at most `limit` characters of any line: a 20 MB question echoed in an error
    (Gradio prints the inputs it could not use) becomes one readable line, not 20 MB of log."""

    def __init__(self, stream: Any, limit: int = LOG_LINE_CHARS) -> None:
        self._stream = stream
        self._limit = limit
        self._column = 0
        self._cut = 0

    def write(self, text: str) -> int:
        out: list[str] = []
        for piece in re.split(r"(\n)", str(text)):
            if piece == "\n":
                if self._cut:
                    out.append(f" … [{self._cut:,} more characters not logged]")
                out.append("\n")
                self._column = self._cut = 0
            elif piece:
                room = max(self._limit - self._column, 0)
                out.append(piece[:room])
                self._cut += max(len(piece) - room, 0)
                self._column += len(piece)
        self._stream.write("".join(out))
        return len(text)

    def flush(self) -> None:
        if self._cut:  # a long last line: say so before it is left behind
            self._stream.write(f" … [{self._cut:,} more characters not logged]")
            self._cut = 0
        self._stream.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def main() -> None:
    sys.stderr = BoundedLines(sys.stderr)  # before logging is set up: log records and printed tracebacks alike
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    started = time.perf_counter()
    host, port = listen_address()
    assistant = get_assistant()
    demo = build_demo(assistant)
    log.info("%d articles indexed; %s; ready in %.1f s (since import of app: see process start)",
             len(assistant.sources()), engine_label(assistant), time.perf_counter() - started)
    launch(demo, host, port)


if __name__ == "__main__":
    main()
