"""Run an ingestion in a subprocess and SIGKILL it at a given stage (used by the crash tests)."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

from copilot import load_settings, open_workspace
from knowledge import HashEmbedder


def main() -> None:
    data_dir, stage, path = sys.argv[1:4]
    ws = open_workspace(
        load_settings(data_dir=Path(data_dir), demo_autoload=False), embedder=HashEmbedder()
    )

    def hook(reached: str) -> None:
        if reached == stage:
            os.kill(os.getpid(), signal.SIGKILL)

    ws.kb.ingest_paths([path], hook=hook)
    print("finished")


if __name__ == "__main__":
    main()
