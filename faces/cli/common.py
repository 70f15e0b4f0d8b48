"""What every command module of the CLI shares: the workspace of a command, the sub-parser type."""

from __future__ import annotations

import argparse
from typing import Any, TypeAlias

from copilot.config import Settings
from copilot.workspace import Workspace, open_workspace

Subcommands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
"""What `add_parser(sub)` of each command module receives: `souffleur`'s sub-parsers."""


def workspace_of(args: argparse.Namespace, **kw: Any) -> Workspace:
    settings: Settings = args.settings
    return open_workspace(settings, **kw)
