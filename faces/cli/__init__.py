"""`souffleur ...`: the command-line face. Errors are printed once, here, with their fix.

Each module holds one group of commands, both their functions and their `add_parser(sub)`;
`build_parser` adds the groups in the order `souffleur --help` lists them.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from copilot.config import load_settings, unknown_variables
from faces.cli import (
    calibrate,
    desk,
    draft,
    evaluation,
    faq,
    intents,
    knowledge,
    logs,
    orders,
    workspace,
)
from knowledge import SouffleurError

__all__ = ["build_parser", "main"]

GROUPS = (knowledge, orders, draft, evaluation, calibrate, intents, desk, logs, faq, workspace)
"""The command modules, in the order of `souffleur --help`."""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="souffleur", description="Souffleur: the agent copilot for customer-service chat."
    )
    sub = p.add_subparsers(dest="command", required=True)
    for group in GROUPS:
        group.add_parser(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    for line in unknown_variables():
        print(f"warning: {line}", file=sys.stderr)
    try:
        args.settings = load_settings()
        return int(args.func(args))
    except SouffleurError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
