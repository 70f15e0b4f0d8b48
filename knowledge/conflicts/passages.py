"""How a decision reads in the passages: whether a passage states a sentence of a pair, and the
passage with the statement set aside replaced by the one kept."""

from __future__ import annotations

from functools import lru_cache

from knowledge.text import pieces, sentences


def holds(text: str, sentence: str) -> bool:
    """The passage states the sentence: as written, or as one of its table rows (a row is read
    with its header, "Colissimo — Price: 4.90 €.", which is nowhere in the text as such)."""
    return sentence in text or ("|" in text and sentence in _sentences(text))


@lru_cache(maxsize=1024)
def _sentences(text: str) -> frozenset[str]:
    return frozenset(sentences(text))


def set_aside(text: str, sentence: str, kept: str) -> str:
    """The passage with the kept statement in place of the one set aside; a table row set
    aside leaves its table, and the kept statement follows the table."""
    if sentence in text:
        return text.replace(sentence, kept)
    if "|" not in text:
        return text  # no table
    row = next((p.cells for p in pieces(text) if p.text == sentence and p.cells), None)
    if row is None:
        return text
    lines = text.split("\n")
    at = next(
        (
            i
            for i, line in enumerate(lines)
            if line.lstrip().startswith("|")
            and " ".join(c.strip() for c in line.strip().strip("|").split("|")) == row
        ),
        None,
    )
    if at is None:
        return text
    del lines[at]
    end = at
    while end < len(lines) and lines[end].lstrip().startswith("|"):
        end += 1
    lines[end:end] = ["", kept, ""]
    return "\n".join(lines)
