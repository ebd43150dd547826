"""newsletter preview."""

from __future__ import annotations

from contextlib import suppress
from pathlib import Path
from typing import Annotated

import typer

from newsletter.cli.app import MonthArg, ProjectOpt, app, console, err_console, open_project


@app.command()
def preview(
    month: MonthArg,
    project: ProjectOpt = Path("."),
    port: Annotated[
        int, typer.Option("--port", help="Port on 127.0.0.1 (0 picks a free one).", min=0)
    ] = 8000,
    screenshots: Annotated[
        Path | None,
        typer.Option(
            "--screenshots",
            help="Instead of serving: write desktop.png, mobile.png, dark.png and summary.md "
            "into this folder (needs Chromium).",
            file_okay=False,
        ),
    ] = None,
    open_browser: Annotated[
        bool, typer.Option("--open", help="Open the preview in your web browser.")
    ] = False,
) -> None:
    """See an issue as subscribers will: desktop, phone, dark mode, plain text, checks.

    Serves a live preview on 127.0.0.1 that reloads whenever you save the issue file,
    newsletter.toml or a template; Ctrl+C stops it. With --screenshots it photographs the
    email with headless Chromium instead, for a pull request.

    Example: newsletter preview 2020-10 --open

    Example: newsletter preview 2020-10 --screenshots out/
    """
    proj = open_project(project)
    proj.require_issue(month)
    if screenshots is not None:
        _screenshots(proj.root, month, screenshots)
    else:
        _serve(proj.root, month, port, open_browser)


def _screenshots(root: Path, month: str, out: Path) -> None:
    from newsletter.preview.screenshots import find_chromium, take_screenshots
    from newsletter.preview.snapshot import take_snapshot
    from newsletter.preview.summary import write_summary

    chromium = find_chromium()  # before any work: say so at once if there is none
    snapshot = take_snapshot(root, month)
    with console.status(f"Taking screenshots of {month} with headless Chromium…"):
        shots = take_screenshots(snapshot, out, chromium=chromium)
    summary = write_summary(snapshot, shots, out)
    for shot in shots:
        console.print(f"Wrote {shot.path} ({shot.width} × {shot.height} px, {shot.view.label})")
    console.print(f"Wrote {summary}")
    report = snapshot.report
    colour = "red" if report.errors else "green"
    console.print(
        f"[{colour}]{len(report.errors)} error(s)[/], {len(report.warnings)} warning(s); "
        f"HTML {report.html_bytes / 1024:.1f} KB"
    )


def _serve(root: Path, month: str, port: int, open_browser: bool) -> None:
    from rich.markup import escape

    from newsletter.preview.interrupt import until_interrupted
    from newsletter.preview.server import Build, PreviewServer

    def report(build: Build) -> None:
        when = build.built_at.strftime("%H:%M:%S")
        if build.error:
            err_console.print(f"[red]{when} build failed:[/] {escape(build.error)}")
        else:
            console.print(f"{when} built {month}")

    with (
        until_interrupted() as wait,
        PreviewServer(root, month, port=port, on_rebuild=report) as server,
    ):
        console.print(
            f"Previewing [bold]{month}[/] at [link={server.url}]{server.url}[/link]\n"
            "Saving the issue file, newsletter.toml or a template reloads the page. "
            "Ctrl+C stops."
        )
        if open_browser:
            import webbrowser

            webbrowser.open(server.url)
        with suppress(KeyboardInterrupt):  # where Ctrl+C cannot be held back for wait()
            wait()
    console.print("Stopped.")
