"""The UI strings: one table per language (faces/pages/strings_en.py, strings_fr.py).

Both tables have the same keys with the same ``{fields}``; every key a page asks for exists and
gets exactly its fields; no page writes its text inline as an English/French pair any more.
"""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest

from faces.pages.ui import STRINGS, translate

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted((ROOT / "faces" / "pages").glob("*.py"))
FACES = [*PAGES, ROOT / "app.py"]


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def test_both_languages_have_the_same_keys() -> None:
    assert set(STRINGS) == {"en", "fr"}
    assert sorted(STRINGS["en"].keys() - STRINGS["fr"].keys()) == [], "missing in French"
    assert sorted(STRINGS["fr"].keys() - STRINGS["en"].keys()) == [], "missing in English"


def test_each_key_has_the_same_fields_in_both_languages() -> None:
    differ = {
        key: (fields(en), fields(STRINGS["fr"][key]))
        for key, en in STRINGS["en"].items()
        if fields(en) != fields(STRINGS["fr"][key])
    }
    assert differ == {}


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_every_template_formats(lang: str) -> None:
    """A stray brace or a bad format spec fails here, not on a page. ``key`` and ``lang`` are
    taken by ``translate``'s own parameters; no entry is a fragment glued to others in code
    (edge spaces): sentences are whole, with fields."""
    for key, text in STRINGS[lang].items():
        names = fields(text)
        assert not names & {"key", "lang", "self"}, key
        assert text.strip() == text and text, key
        if names:
            assert "{" not in translate(lang, key, **dict.fromkeys(names, 1.5)), key


def _asked(tree: ast.AST) -> list[tuple[int, str, set[str] | None]]:
    """(line, key, fields passed) of every ``t("key", ...)``, ``ctx.t(...)`` and
    ``translate(lang, "key", ...)`` / ``T(lang, ...)`` call with literal keys; ``None`` when
    the fields come from ``**mapping``."""
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
        position = {"t": 0, "translate": 1, "T": 1}.get(name)
        if position is None or len(node.args) <= position:
            continue
        arg = node.args[position]
        options = [arg.body, arg.orelse] if isinstance(arg, ast.IfExp) else [arg]
        passed = {k.arg for k in node.keywords if k.arg is not None}
        spread = any(k.arg is None for k in node.keywords)
        for option in options:
            if isinstance(option, ast.Constant) and isinstance(option.value, str):
                found.append((node.lineno, option.value, None if spread else passed))
    return found


def test_every_key_the_faces_ask_for_exists_with_its_fields() -> None:
    problems, asked = [], 0
    for path in FACES:
        for line, key, passed in _asked(ast.parse(path.read_text(encoding="utf-8"))):
            asked += 1
            where = f"{path.relative_to(ROOT)}:{line} {key}"
            if key not in STRINGS["en"]:
                problems.append(f"{where}: no such key")
            elif passed is not None and passed != fields(STRINGS["en"][key]):
                problems.append(f"{where}: passes {sorted(passed)}")
    assert asked > 250  # the walk does see the pages' calls
    assert problems == []


def test_no_page_writes_an_inline_two_language_pair() -> None:
    inline = re.compile(r"(?<![\w.])L\(")
    found = [
        f"{path.relative_to(ROOT)}:{n}"
        for path in PAGES
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if inline.search(line)
    ]
    assert found == []


# `"Texte" if fr else "Text"`, on one line or across several; either quote.
_FR_EN_PAIR = re.compile(
    r"""(?P<q1>["'])(?P<fr>(?:(?!(?P=q1))[^\\\n]|\\.)*)(?P=q1)\s*if\s+fr\s+else\s*"""
    r"""(?P<q2>["'])(?P<en>(?:(?!(?P=q2))[^\\\n]|\\.)*)(?P=q2)"""
)


def inline_pairs(source: str) -> list[str]:
    """The ``"…" if fr else "…"`` text pairs of ``source`` (line: English); a language code
    (``"fr" if fr else "en"``) is no text and is left out."""
    return [
        f"{source.count(chr(10), 0, m.start()) + 1}: {m['en']}"
        for m in _FR_EN_PAIR.finditer(source)
        if not {m["fr"], m["en"]} <= set(STRINGS)
    ]


def test_the_pair_check_sees_pairs_and_skips_language_codes() -> None:
    old = 'x = (\n    "Rejeté"\n    if fr\n    else "Rejected"\n)\ny = f"{label(c, \'fr\' if fr else \'en\')}"\n'
    assert inline_pairs(old) == ["2: Rejected"]
    assert inline_pairs('st.caption("Aucun brouillon." if fr else "No draft yet.")') != []
    assert inline_pairs('policy.triggers("fr" if fr else "en")') == []


def test_no_page_writes_its_text_as_a_french_english_pair() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{pair}"
        for path in PAGES
        for pair in inline_pairs(path.read_text(encoding="utf-8"))
    ]
    assert found == [], "move these into strings_en.py / strings_fr.py and call t(key)"
