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
        index_dir: Optional[Path] = typer.Option(None, "--index-dir"),
        replace: bool = typer.Option(False, "--replace", help="overwrite the source of the same name (the default "
                                     "gives a name already taken a suffix: article-2.txt)")) -> None:
    """Copy articles into the sources directory and index them (the operator's own: bundled)."""
    from index.ingest import Ingestor
    from index.store import StoreError

    try:
        names, report = Ingestor(_settings(sources, index_dir)).add_files(paths, replace=replace, origin="bundled")
    except StoreError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2)
    for name in names:
        typer.echo(f"added to sources: {name}")
    _print_report(report)
    if report.errors and not names:
        raise typer.Exit(1)


@app.command()
def remove(source_ids: list[str], sources: Optional[Path] = typer.Option(None),
           index_dir: Optional[Path] = typer.Option(None, "--index-dir")) -> None:
    """Remove sources by name (file, rows and text), uploaded or bundled: the operator's action."""
    from index.ingest import Ingestor, read_uploads, write_uploads
    from index.loaders import sidecar_path
    from index.store import StoreError

    settings = _settings(sources, index_dir)
    missing = [s for s in source_ids if not (settings.sources_dir / s).is_file() or "/" in s or s.startswith(".")]
    if missing:
        typer.echo(f"error: not in {settings.sources_dir}: {', '.join(missing)}", err=True)
        raise typer.Exit(1)
    ingestor = Ingestor(settings)
    try:
        with ingestor.store.writer():
            uploads = read_uploads(settings.sources_dir)
            for source_id in source_ids:
                (settings.sources_dir / source_id).unlink()
                sidecar_path(settings.sources_dir / source_id).unlink(missing_ok=True)
                uploads.pop(source_id, None)
            write_uploads(settings.sources_dir, uploads)
            report = ingestor.build()
    except StoreError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2)
    _print_report(report)


@app.command()
def status(sources: Optional[Path] = typer.Option(None),
           index_dir: Optional[Path] = typer.Option(None, "--index-dir"),
           check: bool = typer.Option(False, "--check", help="compare Chroma's raw rows with the manifest "
                                      "(orphans, duplicates, missing rows, stray generations); exit 1 if they differ")
           ) -> None:
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
    typer.echo(f"revision:    {manifest.revision}")
    typer.echo(f"sources:     {len(manifest.sources)}; chunks: {sum(e.chunks for e in manifest.sources.values())}")
    for entry in sorted(manifest.sources.values(), key=lambda e: e.source_id):
        origin = entry.origin + (f" {entry.added_at}" if entry.added_at else "")
        typer.echo(f"  {entry.source_id}  [{entry.language}] {entry.title!r} "
                   f"({entry.publisher or 'publisher unknown'}): {entry.chunks} chunks, {entry.segments} segments; "
                   f"{origin}")
    if not check:
        return
    if not manifest.generation:
        typer.echo("check: nothing is built yet")
        return
    try:
        census = store.row_census(manifest)
    except StoreError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2)
    except Exception as exc:  # noqa: BLE001 — a damaged store is what --check is for: say so, no traceback
        typer.echo(f"error: reading Chroma's rows failed ({type(exc).__name__}: {exc}); "
                   "`python -m index build` repairs the index", err=True)
        raise typer.Exit(2)
    problems = 0
    stray = [g for g in census["generations"] if g != manifest.generation]
    typer.echo(f"check: generation {manifest.generation}; other generations in Chroma: {', '.join(stray) or 'none'}")
    problems += len(stray)
    for kind in ("chunks", "segments"):
        c = census[kind]
        typer.echo(f"check: {kind}: {c['held']} rows held, {c['listed']} listed by the manifest, "
                   f"{len(c['orphans'])} orphan rows, {c['duplicates']} duplicate ids, "
                   f"{len(c['mismatched'])} sources with a wrong row count")
        for sid, (held, listed) in sorted(c["mismatched"].items()):
            typer.echo(f"  {sid}: {held} {kind} rows for {listed} listed")
        problems += len(c["orphans"]) + c["duplicates"] + len(c["mismatched"]) + (c["held"] != c["listed"])
    if problems:
        typer.echo("check: the rows differ from the manifest; `python -m index build` collects orphans, "
                   "`--rebuild` re-creates everything")
        raise typer.Exit(1)
    typer.echo("check: ok, every row belongs to a listed source version")


if __name__ == "__main__":
    sys.exit(app())
