"""newsletter serve: the subscriber web service."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from newsletter.cli.app import ProjectOpt, app, console, open_project


@app.command()
def serve(
    project: ProjectOpt = Path("."),
    host: Annotated[str | None, typer.Option(help="Address to listen on ([serve] host).")] = None,
    port: Annotated[int | None, typer.Option(help="Port ([serve] port).")] = None,
    workers: Annotated[int | None, typer.Option(help="Worker processes ([serve] workers).")] = None,
) -> None:
    """Run the subscriber service: sign-up with double opt-in, unsubscribe, preferences.

    Needs NEWSLETTER_SECRET (the same as for sending) and an [smtp] server for the
    confirmation mails. Put it behind a reverse proxy for HTTPS; set [serve] public_url.

    Example: newsletter serve --port 8080
    """
    import uvicorn

    from newsletter.serve.asgi import PROJECT_ENV
    from newsletter.signing import load_secret
    from newsletter.store.db import check_store

    proj = open_project(project)
    settings = proj.config.serve
    load_secret()  # fail now, not in each worker
    check_store(proj.database)  # an unreachable or outdated database too
    os.environ[PROJECT_ENV] = str(proj.root)
    bind_host, bind_port = host or settings.host, port or settings.port
    console.print(
        f"Serving [bold]{proj.config.newsletter.name}[/] on http://{bind_host}:{bind_port}/ "
        f"(public address: {settings.public_url or 'not set'}); Ctrl+C stops it."
    )
    uvicorn.run(
        "newsletter.serve.asgi:app",
        factory=True,
        host=bind_host,
        port=bind_port,
        workers=workers or settings.workers,
        proxy_headers=True,
        forwarded_allow_ips=",".join(settings.trusted_proxies),
        server_header=False,
        log_level="info",
    )
