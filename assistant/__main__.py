"""`python -m assistant ask "..." [--json]` and `python -m assistant chat` (a REPL)."""
from __future__ import annotations

import json
import sys
from dataclasses import asdict

import typer

app = typer.Typer(add_completion=False, help="Ask the articles, in French or English.")


def _show(answer, as_json: bool) -> None:
    """The answer and its citations; with an LLM configured, a notice (on stderr) when its answer was
    replaced by the extractive one. --json: the whole Answer (engine, fallback_reason, timings...) plus
    that notice."""
    from assistant.llm import fallback_notice

    notice = fallback_notice(answer.fallback_reason, answer.language)
    if as_json:
        data = asdict(answer)
        data["notice"] = notice
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    typer.echo(answer.text)
    for c in answer.citations:
        where = f"{c.title}" + (f" — {c.publisher}" if c.publisher else "")
        typer.echo(f"  [{c.number}] {where} ({c.source_id}, {c.start}:{c.end})")
    if notice:
        typer.echo(f"  ({notice})", err=True)


@app.command()
def ask(question: str, as_json: bool = typer.Option(False, "--json", help="print the Answer as JSON")) -> None:
    """Answer one question."""
    from assistant import Assistant

    _show(Assistant().ask(question), as_json)


@app.command()
def chat() -> None:
    """A conversation in the terminal (follow-ups understood). Empty line or Ctrl-D to quit."""
    from assistant import Assistant

    conversation = Assistant().chat()
    while True:
        try:
            line = input("> ")
        except (EOFError, KeyboardInterrupt):
            break
        if not line.strip():
            break
        _show(conversation.ask(line), False)


if __name__ == "__main__":
    sys.exit(app())
