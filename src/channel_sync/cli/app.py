"""The ``channel-sync`` command line: the root Typer app and its sub-commands."""

from __future__ import annotations

import typer

from channel_sync import __version__

app = typer.Typer(
    name="channel-sync",
    help="Keep channel-sales deals in step between a vendor CRM and partner CRMs.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"channel-sync {__version__}")
        raise typer.Exit


@app.callback()
def root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """channel-sync command line."""


def main() -> None:
    """Console-script entry point."""
    from channel_sync.cli import register  # noqa: PLC0415  (sub-commands attach on import)

    register.attach(app)
    app()
