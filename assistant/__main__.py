"""`python -m assistant ask "..." [--json]` and `python -m assistant chat` (a REPL)."""
from __future__ import annotations

import json
import sys
from dataclasses import asdict

import typer

app = typer.Typer(add_completion=False, help="Ask the articles, in French or English.")


def _show(answer, as_json: bool) -> None:
    if as_json:
        data = asdict(answer)
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    typer.echo(answer.text)
    for c in answer.citations:
        where = f"{c.title}" + (f" — {c.publisher}" if c.publisher else "")
        typer.echo(f"  [{c.number}] {where} ({c.source_id}, {c.start}:{c.end})")


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
