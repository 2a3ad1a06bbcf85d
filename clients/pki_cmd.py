"""Placeholder until its owner fills it in."""


def register(subparsers) -> None:
    """Adds no subcommand yet."""
