"""``channel-sync sandbox``: run the emulated CRMs locally."""

from __future__ import annotations

from pathlib import Path

import typer

from channel_sync.sandbox.serve import DEFAULT_INSTANCES

sandbox_app = typer.Typer(
    name="sandbox",
    help="Run local emulators of Salesforce and HubSpot with fault injection and a call ledger.",
    no_args_is_help=True,
)


def _check_instances(value: str) -> str:
    from channel_sync.sandbox.serve import parse_instances  # noqa: PLC0415

    try:
        parse_instances(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    return value


@sandbox_app.command("serve")
def serve_command(
    instances: str = typer.Option(
        DEFAULT_INSTANCES,
        "--instances",
        callback=_check_instances,
        help="Comma-separated name:kind pairs; kind is salesforce or hubspot.",
    ),
    seed: int = typer.Option(1, "--seed", help="Seed of the generated deals."),
    deals: int = typer.Option(
        0, "--deals", min=0, help="Generated deals to load into each instance."
    ),
    env_file: Path | None = typer.Option(
        None,
        "--env-file",
        dir_okay=False,
        help="Also write the connectors' environment variables here (mode 0600).",
    ),
) -> None:
    """Serve the instances on free loopback ports, print one JSON line, run until SIGINT/SIGTERM."""
    from channel_sync.sandbox.serve import parse_instances, serve  # noqa: PLC0415

    typer.echo("sandbox: starting; stop with Ctrl+C or SIGTERM", err=True)
    try:
        serve(parse_instances(instances), seed=seed, deals=deals, env_file=env_file)
    except (ImportError, RuntimeError, OSError) as exc:
        typer.echo(f"sandbox: cannot serve: {exc}", err=True)
        raise typer.Exit(1) from None


def attach(root: typer.Typer) -> None:
    root.add_typer(sandbox_app, name="sandbox")
