"""`bankml serve`: the decisions service, the management API and metrics, on uvicorn."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Annotated, Any

import typer

from bankml.cli.app import console
from bankml.cli.context import HomeOption, open_platform
from bankml.cli.workers import balanced, serve_workers

MULTIPROCESS = "PROMETHEUS_MULTIPROC_DIR"


def serve(
    home: HomeOption = None,
    host: Annotated[str | None, typer.Option(
        help="Address to listen on (default: BANKML_SERVE_HOST, loopback).")] = None,
    port: Annotated[int | None, typer.Option(
        help="Port (default: BANKML_SERVE_PORT, 8080).")] = None,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes.")] = 1,
) -> None:
    """Serve every endpoint over HTTP: /v1 decisions, /v2 (Open Inference Protocol),
    the management API, /metrics and the OpenAPI docs at /docs."""
    import uvicorn  # noqa: PLC0415 - the server loads only when serving

    with open_platform(home) as platform:  # migrations run once, before any worker
        settings = platform.settings
    if home is not None:
        os.environ["BANKML_HOME"] = str(home)
    if workers > 1:  # one metrics folder for the workers, fresh each start
        folder = Path(settings.home) / "metrics"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        os.environ[MULTIPROCESS] = str(folder)
    chosen_host, chosen_port = host or settings.serve_host, port or settings.serve_port
    console.print(f"bankml serve on http://{chosen_host}:{chosen_port} ({workers} "
                  f"worker{'s' if workers > 1 else ''}); API docs at /docs, metrics at "
                  "/metrics.")
    options: dict[str, Any] = {"app": "bankml.api.app:create_app", "factory": True,
                               "log_level": "warning", "access_log": False}
    if workers > 1 and balanced():  # each worker on a socket of its own (cli/workers.py)
        status = serve_workers(options, host=chosen_host, port=chosen_port, workers=workers)
        if status:
            raise typer.Exit(status)
        return
    uvicorn.run(**options, host=chosen_host, port=chosen_port, workers=workers)
