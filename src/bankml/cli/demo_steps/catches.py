"""The seed's failure modes, each named in the narrative where the demo shows it caught,
and gathered for the summary."""

from __future__ import annotations

from bankml.cli.app import console

SKEW = "train-serve skew"
NOTEBOOKS = "irreproducible notebooks"
TICKETS = "ticket deployments"
MONITORING = "no monitoring"
REGISTRY = "no registry"
BIAS = "unchecked bias"
FAILURE_MODES = (SKEW, NOTEBOOKS, TICKETS, MONITORING, REGISTRY, BIAS)


class Catches:
    """Where each failure mode was caught, in the order the narrative showed them."""

    def __init__(self) -> None:
        self.where: dict[str, str] = {}

    def caught(self, mode: str, where: str, how: str) -> None:
        """Say it on the terminal; the first place each mode is caught is the summary's."""
        console.print(f"[bold magenta]Caught: {mode}[/] — {how}")
        self.where.setdefault(mode, where)

    def missed(self) -> list[str]:
        return [mode for mode in FAILURE_MODES if mode not in self.where]
