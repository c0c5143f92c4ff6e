"""``channel-sync demo``: the product's story against sandbox CRMs started in this process."""

from __future__ import annotations

import typer


def demo_command(
    keep: bool = typer.Option(
        False,
        "--keep",
        help="Leave the sandboxes running afterwards and print how to point commands at them.",
    ),
) -> None:
    """Partners register deals, the vendor decides, a channel conflict, a field conflict, co-sell
    and an expiry, synced by the real scheduler between three sandbox CRMs."""
    from channel_sync.cli.sync import console  # noqa: PLC0415
    from channel_sync.demo.runner import run_demo  # noqa: PLC0415
    from channel_sync.errors import ChannelSyncError  # noqa: PLC0415

    try:
        outcome = run_demo(console(), keep=keep)
    except ChannelSyncError as exc:
        typer.echo(f"channel-sync demo: {exc}", err=True)
        raise typer.Exit(1) from None
    if outcome.isolation is None or not outcome.isolation.ok:
        raise typer.Exit(1)


def attach(root: typer.Typer) -> None:
    root.command("demo")(demo_command)
