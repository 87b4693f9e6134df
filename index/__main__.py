"""`python -m index build|add|status`: the index from the command line."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from index.settings import IndexSettings

app = typer.Typer(add_completion=False, help="Build and inspect the article index.")


def _settings(sources: Optional[Path], index_dir: Optional[Path]) -> IndexSettings:
    return IndexSettings.from_env(sources, index_dir)


def _print_report(report) -> None:
    typer.echo(f"added {len(report.added)}, replaced {len(report.replaced)}, deleted {len(report.deleted)}, "
               f"unchanged {len(report.unchanged)}; {report.chunks} chunks; {report.embedded} texts embedded; "
               f"{report.seconds:.2f} s" + (" (full rebuild)" if report.rebuilt else ""))
    for note in report.notes:
        typer.echo(f"note: {note}")
    for error in report.errors:
        typer.echo(f"skipped: {error}", err=True)


@app.command()
def build(sources: Optional[Path] = typer.Option(None, help="sources directory"),
          index_dir: Optional[Path] = typer.Option(None, "--index-dir", help="index directory"),
          rebuild: bool = typer.Option(False, "--rebuild", help="re-embed everything")) -> None:
    """Bring the index in line with the sources directory (idempotent)."""
    from index.ingest import Ingestor
    from index.store import StoreError

    try:
        report = Ingestor(_settings(sources, index_dir)).build(rebuild=rebuild)
    except StoreError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2)
    _print_report(report)


@app.command()
def add(paths: list[Path], sources: Optional[Path] = typer.Option(None),
        index_dir: Optional[Path] = typer.Option(None, "--index-dir")) -> None:
    """Copy articles into the sources directory and index them."""
    from index.ingest import Ingestor
    from index.store import StoreError

    try:
        names, report = Ingestor(_settings(sources, index_dir)).add_files(paths)
    except StoreError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2)
    for name in names:
        typer.echo(f"added to sources: {name}")
    _print_report(report)
    if report.errors and not names:
        raise typer.Exit(1)


@app.command()
def status(sources: Optional[Path] = typer.Option(None),
           index_dir: Optional[Path] = typer.Option(None, "--index-dir")) -> None:
    """Sources, chunks, embedder and store location."""
    from index.store import IndexStore, StoreError

    settings = _settings(sources, index_dir)
    store = IndexStore(settings)
    try:
        manifest = store.load_manifest()
    except StoreError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2)
    where = (f"chroma server {settings.chroma_host}:{settings.chroma_port}" if settings.chroma_host
             else f"{settings.index_dir / 'chroma'}")
    typer.echo(f"sources dir: {settings.sources_dir}\nindex dir:   {settings.index_dir}\nstore:       {where}")
    typer.echo(f"embedder:    {manifest.embedder or '(none: not built)'}\nbm25:        {manifest.bm25_dir or '-'}")
    typer.echo(f"sources:     {len(manifest.sources)}; chunks: {sum(e.chunks for e in manifest.sources.values())}")
    for entry in sorted(manifest.sources.values(), key=lambda e: e.source_id):
        typer.echo(f"  {entry.source_id}  [{entry.language}] {entry.title!r} "
                   f"({entry.publisher or 'publisher unknown'}): {entry.chunks} chunks, {entry.segments} segments")


if __name__ == "__main__":
    sys.exit(app())
