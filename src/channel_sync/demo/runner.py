"""Runs the whole demo: the story, the isolation check, the tally, and (``--keep``) the hand-over
of the still-running sandboxes to the ordinary commands."""

from __future__ import annotations

import shlex
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from rich.console import Console
from rich.panel import Panel
from rich.text import Text

from channel_sync.demo.narrator import (
    ConflictCounts,
    Tally,
    count_conflicts,
    print_conflicts,
    print_step,
    print_tally,
    tally,
)
from channel_sync.demo.story import STEPS, Cast, StepResult
from channel_sync.demo.world import DemoWorld, open_world

INTRO = (
    "Three sandbox CRMs start on this machine: the vendor's Salesforce org, partner A's HubSpot "
    "portal and partner B's Salesforce org, each with deals of its own. channel-sync's real "
    "scheduler keeps them in step while the people in the story work in their own CRMs."
)


@dataclass
class Isolation:
    """Canary strings each partner wrote, searched for in the other partner's CRM."""

    a_in_b: bool
    b_in_a: bool
    other_partner_named_in_b: bool

    @property
    def ok(self) -> bool:
        return not (self.a_in_b or self.b_in_a or self.other_partner_named_in_b)


@dataclass
class DemoOutcome:
    root: Path
    results: list[StepResult] = field(default_factory=list)
    tally: list[Tally] = field(default_factory=list)
    isolation: Isolation | None = None
    conflicts: ConflictCounts | None = None
    seconds: float = 0.0


def check_isolation(world: DemoWorld, cast: Cast) -> Isolation:
    text_a = world.rep_a.all_text()
    text_b = world.rep_b.all_text()
    return Isolation(
        a_in_b=cast.canary_a in text_b,
        b_in_a=cast.canary_b in text_a,
        other_partner_named_in_b="partner-a" in text_b,
    )


def keep_instructions(root: Path) -> str:
    project = shlex.quote(str(root))
    env = shlex.quote(str(root / "sandbox.env"))
    flags = f"--project {project} --env-file {env}"
    return "\n".join(
        [
            "The sandboxes keep running until you press Ctrl+C. Point any command at them:",
            "",
            f"  channel-sync status {flags}",
            f"  channel-sync sync --once {flags}",
            f"  channel-sync conflicts list {flags}",
            f"  channel-sync pipeline --by partner {flags}",
            f"  channel-sync run {flags}",
            "",
            f"Project files, the env file (mode 0600) and the state store are in {root}.",
            "With the shipped connection files HubSpot changes are read once a minute old.",
        ]
    )


def wait_for_interrupt(stop: threading.Event | None = None) -> None:
    event = stop or threading.Event()

    def handler(_signum: int, _frame: FrameType | None) -> None:
        event.set()

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        while not event.wait(0.5):
            pass
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def run_demo(
    console: Console, *, keep: bool = False, stop: threading.Event | None = None
) -> DemoOutcome:
    """The demo, printed to ``console``; with ``keep`` it blocks until interrupted (or ``stop``)
    with the sandboxes serving."""
    started = time.monotonic()
    console.print(Panel(INTRO, title="channel-sync demo", expand=False))
    cast = Cast()
    with open_world(keep=keep) as world:
        outcome = DemoOutcome(root=world.root)
        for number, step in enumerate(STEPS, start=1):
            result = step(world, cast)
            outcome.results.append(result)
            print_step(console, number, result)
        outcome.isolation = check_isolation(world, cast)
        kinds = {name: rt.connector.kind for name, rt in world.service.runtimes.items()}
        outcome.tally = tally(kinds, world.reports)
        outcome.conflicts = count_conflicts(world.service.store)
    outcome.seconds = time.monotonic() - started
    console.rule("[bold]The tally")
    print_tally(console, outcome.tally)
    if outcome.conflicts is not None:
        print_conflicts(console, outcome.conflicts)
    verdict = "kept apart" if outcome.isolation.ok else "LEAKED"
    style = "green" if outcome.isolation.ok else "bold red"
    console.print(
        Text(f"Partner isolation (canary strings in each other's CRM): {verdict}", style=style)
    )
    console.print(Text(f"Finished in {outcome.seconds:.1f} s.", style="dim"))
    if keep:
        console.rule("[bold]Sandboxes running")
        # Not wrapped, so the commands can be copied as printed.
        console.print(keep_instructions(world.root), soft_wrap=True, highlight=False)
        try:
            wait_for_interrupt(stop)
        finally:
            world.server.__exit__(None, None, None)
    return outcome
