"""The architecture, checked: imports flow one way, and a package is entered only by what it
declares (its ``__all__`` names and its ``PUBLIC_MODULES``)."""

from __future__ import annotations

import ast
import importlib
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# lower layers never import higher ones; the same rank may not import each other either, except
# inside one package
LAYERS = {
    "knowledge": 0,
    "copilot.config": 1,
    "copilot.types": 1,
    "copilot.pipeline": 2,
    "copilot.desk": 3,
    "copilot.channels": 4,
    "copilot": 5,  # the wiring: workspace, providers, demo, testing
    "evals": 6,
    "faces": 7,
}
PACKAGES = ("knowledge", "copilot.pipeline", "copilot.desk", "copilot.channels", "evals")


def _owner(module: str, names: tuple[str, ...]) -> str | None:
    return next(
        (
            k
            for k in sorted(names, key=len, reverse=True)
            if module == k or module.startswith(k + ".")
        ),
        None,
    )


def _imports(tree: ast.Module) -> Iterator[tuple[ast.ImportFrom | ast.Import, bool]]:
    """Every import with whether it is read for types only (under ``if TYPE_CHECKING:``)."""
    typing_only: set[int] = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.If)
            and isinstance(node.test, ast.Name)
            and node.test.id == "TYPE_CHECKING"
        ):
            typing_only |= {id(n) for stmt in node.body for n in ast.walk(stmt)}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom | ast.Import):
            yield node, id(node) in typing_only


def _product_modules() -> Iterator[tuple[str, Path]]:
    for top in ("knowledge", "copilot", "evals", "faces"):
        for path in sorted((ROOT / top).rglob("*.py")):
            if "datasets" in path.parts:
                continue
            parts = path.relative_to(ROOT).with_suffix("").parts
            yield ".".join(parts).removesuffix(".__init__"), path


def test_imports_flow_one_way() -> None:
    upward = []
    for module, path in _product_modules():
        mine = _owner(module, tuple(LAYERS))
        assert mine is not None, module
        for node, typing_only in _imports(ast.parse(path.read_text(encoding="utf-8"))):
            targets = (
                [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else [a.name for a in node.names]
            )
            for target in targets:
                theirs = _owner(target, tuple(LAYERS))
                if theirs is None or typing_only or theirs == mine:
                    continue
                if LAYERS[theirs] >= LAYERS[mine] and not (
                    module.startswith("copilot.") and theirs in ("copilot.config", "copilot.types")
                ):
                    upward.append(f"{module} imports {target}")
    assert upward == []


def test_a_package_is_entered_only_by_what_it_declares() -> None:
    reached = []
    for module, path in _product_modules():
        mine = _owner(module, PACKAGES)
        for node, _ in _imports(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ImportFrom) or not node.module:
                continue
            theirs = _owner(node.module, PACKAGES)
            if theirs is None or theirs == mine:
                continue
            package = importlib.import_module(theirs)
            rest = node.module[len(theirs) :].lstrip(".")
            names = [a.name for a in node.names]
            if not rest:  # from the package itself: its __all__ names or public modules
                allowed = set(getattr(package, "__all__", ())) | set(package.PUBLIC_MODULES)
                reached += [f"{module}: {theirs}.{n}" for n in names if n not in allowed]
            elif rest.split(".")[0] not in package.PUBLIC_MODULES:
                reached.append(f"{module}: {node.module} (not in {theirs}.PUBLIC_MODULES)")
            reached += [
                f"{module}: {node.module}.{n} (private)" for n in names if n.startswith("_")
            ]
    assert reached == []


@pytest.mark.parametrize("package", PACKAGES)
def test_each_declared_module_exists(package: str) -> None:
    for name in importlib.import_module(package).PUBLIC_MODULES:
        importlib.import_module(f"{package}.{name}")
