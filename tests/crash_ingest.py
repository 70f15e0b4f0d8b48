"""Run an ingestion in a subprocess and SIGKILL it at a given stage (used by the crash tests).

With ``pause:STAGE`` it stops at that stage instead: it writes ``DATA_DIR/paused`` and waits
for ``DATA_DIR/resume`` before going on (the race tests open the workspace meanwhile).
"""

from __future__ import annotations

import os
import signal
import sys
import time
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
        if stage == f"pause:{reached}":
            (Path(data_dir) / "paused").touch()
            deadline = time.monotonic() + 60
            while not (Path(data_dir) / "resume").exists() and time.monotonic() < deadline:
                time.sleep(0.05)

    ws.kb.ingest_paths([path], hook=hook)
    print("finished")


if __name__ == "__main__":
    main()
