"""Text as a reader sees it: script and style blocks, hidden elements, stray tags and control
characters removed, blank lines normalised. Linear in the text's length, whatever it holds."""

from __future__ import annotations

import re
from collections.abc import Callable

_SCRIPT_OPEN = re.compile(r"<(script|style|noscript|template)\b", re.I)
_SCRIPT_CLOSE = {
    name: re.compile(rf"</{name}\s*>", re.I) for name in ("script", "style", "noscript", "template")
}
_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9:-]{0,64}(?:\s[^<>]{0,4096})?/?>")
# C0 control characters other than tab, newline, form feed and carriage return (NUL among them:
# PostgreSQL refuses it in text, and none of them means anything in a help article).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def strip_controls(text: str) -> str:
    return _CONTROL.sub("", text)


def clean_text(text: str) -> str:
    """Drop script/style blocks, stray markup tags and control characters; normalise blank
    lines. Linear in the text's length, whatever it holds (unclosed blocks, tag openers)."""
    text = _TAG.sub(" ", _drop_hidden(_drop_script_blocks(strip_controls(text))))
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u00a0", " ")
    text = "\n".join(line.rstrip(" \t") for line in text.split("\n"))
    return re.sub(r"\n{3,}", "\n\n", text).strip()


_HIDDEN_OPEN = re.compile(
    r"<([A-Za-z][A-Za-z0-9]{0,15})\b[^<>]{0,4096}?(?:display\s*:\s*none|visibility\s*:\s*hidden"
    r"|aria-hidden\s*=\s*[\"']?true|\shidden(?=[\s/>=])|class\s*=\s*[\"'][^\"'<>]*\b(?:hidden|sr-only|d-none)\b)"
    r"[^<>]{0,4096}>",
    re.I,
)


def _drop_hidden(text: str) -> str:
    """Inline HTML that a reader never sees (in Markdown, text or a JSONL record) removed with
    its content, as the HTML loader does; an unclosed element runs to the end."""
    return _drop_elements(
        text, _HIDDEN_OPEN, lambda m: re.compile(rf"</{re.escape(m.group(1))}\s*>", re.I), ""
    )


def _drop_script_blocks(text: str) -> str:
    """``<script>…</script>`` (and style, noscript, template) removed; a block never closed runs
    to the end."""
    return _drop_elements(text, _SCRIPT_OPEN, lambda m: _SCRIPT_CLOSE[m.group(1).lower()], " ")


def _drop_elements(
    text: str,
    opener: re.Pattern[str],
    closer_of: Callable[[re.Match[str]], re.Pattern[str]],
    gap: str,
) -> str:
    """``text`` without each element ``opener`` finds, up to its closer (to the end when it has
    none), ``gap`` in its place. One scan: each search starts where the previous one stopped."""
    out: list[str] = []
    pos = 0
    while (m := opener.search(text, pos)) is not None:
        out.append(text[pos : m.start()])
        out.append(gap)
        close = closer_of(m).search(text, m.end())
        if close is None:
            return "".join(out)
        pos = close.end()
    out.append(text[pos:])
    return "".join(out)
