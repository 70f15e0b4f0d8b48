"""Functions over 60 lines and modules over 400 lines that do not say why they are long.

The rule (README, "Map of the code"): a function stays under ~60 lines and a module under
~400, unless a comment at its top starts with ``Long on purpose:`` and gives the reason (for a
function, a comment line right after its ``def`` line or its docstring; for a module, within its
first lines). Data tables (the evaluation-set generators, the UI string tables) are the usual
reason.

    .venv/bin/python tools/long_code.py            # lists what breaks the rule, exit 1 if any
    .venv/bin/python tools/long_code.py --all      # every long function and module, reason or not
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOPS = ("knowledge", "copilot", "evals", "faces", "benchmarks", "tools", "app.py")
MAX_FUNCTION = 60
MAX_MODULE = 400
MARK = "Long on purpose:"
MODULE_HEAD = 30  # the reason sits in the module's first lines (docstring or comment)


@dataclass(frozen=True)
class Long:
    path: str
    line: int
    name: str
    lines: int
    reason: str | None

    def __str__(self) -> str:
        why = f"  ({self.reason})" if self.reason else ""
        return f"{self.path}:{self.line} {self.name}: {self.lines} lines{why}"


def _reason(lines: list[str]) -> str | None:
    for text in lines:
        at = text.find(MARK)
        if at >= 0:
            return text[at + len(MARK) :].strip().strip('"').strip() or None
    return None


def _sources() -> Iterator[Path]:
    for top in TOPS:
        path = ROOT / top
        yield from [path] if path.is_file() else sorted(path.rglob("*.py"))


def _function_head(src: list[str], node: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
    """The lines between the ``def`` and the first statement that is not a docstring."""
    body = node.body
    first = body[0]
    if (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
    ):
        end = first.end_lineno or first.lineno
        nxt = body[1].lineno if len(body) > 1 else end + 1
        return src[node.lineno - 1 : max(nxt - 1, end)]
    return src[node.lineno - 1 : first.lineno - 1]


def long_in(path: Path, rel: str) -> tuple[list[Long], list[Long]]:
    """The long functions and, if it is long, the module of one source file."""
    text = path.read_text(encoding="utf-8")
    src = text.splitlines()
    modules = []
    if len(src) > MAX_MODULE:
        modules.append(Long(rel, 1, "(module)", len(src), _reason(src[:MODULE_HEAD])))
    functions = []
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            n = (node.end_lineno or node.lineno) - node.lineno + 1
            if n > MAX_FUNCTION:
                why = _reason(_function_head(src, node))
                functions.append(Long(rel, node.lineno, node.name, n, why))
    return functions, modules


def scan() -> tuple[list[Long], list[Long]]:
    functions: list[Long] = []
    modules: list[Long] = []
    for path in _sources():
        f, m = long_in(path, str(path.relative_to(ROOT)))
        functions += f
        modules += m
    key = lambda x: (-x.lines, x.path)  # noqa: E731
    return sorted(functions, key=key), sorted(modules, key=key)


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--all", action="store_true", help="list long code that gives a reason too")
    args = ap.parse_args()
    functions, modules = scan()
    bad = 0
    for title, found, limit in (
        ("functions", functions, MAX_FUNCTION),
        ("modules", modules, MAX_MODULE),
    ):
        shown = [x for x in found if args.all or x.reason is None]
        bad += sum(x.reason is None for x in found)
        print(
            f"{title} over {limit} lines: {len(found)}, {sum(x.reason is None for x in found)} without a reason"
        )
        for x in shown:
            print(f"  {x}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
