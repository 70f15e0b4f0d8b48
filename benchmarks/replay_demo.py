"""The replay bench on the demo store: a desk history is made, then replayed.

A fresh workspace gets the demo store (its 51 sample conversations, 7 agent replies among
them); a scripted agent then works through every conversation waiting in the inbox on the
desk (copilot/desk/desk.py), in the demo's order:

- the copilot hands over: the agent escalates, except one time in three, where they send the
  draft anyway (they judged it could be answered);
- the copilot answers: the agent sends the draft as it is (every other one) or edited (drops
  its last sentence, adds one of their own), and one time in five escalates instead.

Then `souffleur eval replay` is run on that workspace (evals/replay.py) and its table printed.
The agent here is a script: the escalation agreement measures the copilot against that
script, and an edit distance of 0 on unedited replies shows the replay reproduces the desk's
drafts; with a real team's history these figures measure the copilot against its agents.

    .venv/bin/python benchmarks/replay_demo.py [--embedder minilm] [--data-dir DIR] [--min-cases N]

Figures are printed, never asserted.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import arguments
from copilot import load_settings, open_workspace
from copilot.demo import load_demo
from copilot.desk.desk import Desk
from evals.replay import MIN_CASES, history, report_rows, run_replay
from knowledge import make_embedder
from knowledge.text import sentences

OWN_WORDS = {"fr": "Je reste à votre écoute.", "en": "I'm here if you need anything else."}


def work_the_inbox(desk: Desk) -> dict[str, int]:
    """The scripted agent: what it did, by action."""
    done = {"sent as drafted": 0, "edited": 0, "escalated": 0, "sent a hand-over draft": 0}
    handed = answered = 0
    for row in sorted(desk.inbox(waiting_only=True), key=lambda r: r.conversation_id):
        cid = row.conversation_id
        draft = desk.ensure_draft(cid)
        if draft is None:
            continue
        version = desk.view(cid).conversation.version
        if draft.suggestion.escalation.escalate:
            handed += 1
            if handed % 3:
                desk.escalate(cid, agent="script", expected_version=version)
                done["escalated"] += 1
                continue
            desk.send(cid, draft.draft_text, agent="script", expected_version=version)
            done["sent a hand-over draft"] += 1
            continue
        answered += 1
        if answered % 5 == 0:
            desk.escalate(cid, agent="script", expected_version=version)
            done["escalated"] += 1
        elif answered % 2:
            desk.send(cid, draft.draft_text, agent="script", expected_version=version)
            done["sent as drafted"] += 1
        else:
            kept = sentences(draft.draft_text)[:-1] or [draft.draft_text]
            text = " ".join([*kept, OWN_WORDS.get(draft.suggestion.language, OWN_WORDS["en"])])
            desk.send(cid, text, agent="script", expected_version=version)
            done["edited"] += 1
    return done


def main() -> None:
    ap = arguments(__doc__)
    ap.add_argument("--embedder", default="minilm")
    ap.add_argument("--data-dir", help="workspace folder (default: a new temporary one)")
    ap.add_argument("--min-cases", type=int, default=MIN_CASES)
    args = ap.parse_args()

    data = Path(args.data_dir) if args.data_dir else Path(tempfile.mkdtemp()) / "data"
    settings = load_settings(
        data_dir=data, embedder=args.embedder, demo_autoload=False, llm_base_url=None
    )
    t0 = time.perf_counter()
    ws = open_workspace(settings, embedder=make_embedder(args.embedder))
    load_demo(ws)
    desk = Desk(ws)
    print(f"demo store loaded in {time.perf_counter() - t0:.1f} s; {history(desk.store)}")
    t0 = time.perf_counter()
    done = work_the_inbox(desk)
    print(f"agent script in {time.perf_counter() - t0:.1f} s: {done}; {history(desk.store)}")
    t0 = time.perf_counter()
    result = run_replay(settings, workspace=ws, min_cases=args.min_cases)
    print(f"replay in {time.perf_counter() - t0:.1f} s\n")
    for name, value in report_rows(result.report):
        print(f"{name:<84} {value}")
    print(f"\nrun folder: {result.folder}")
    print(
        f"the same from the CLI: SOUFFLEUR_DATA_DIR={data} SOUFFLEUR_EMBEDDER={args.embedder} "
        "souffleur eval replay"
    )


if __name__ == "__main__":
    main()
