"""Text normalisation shared by language detection, BM25 and the drafting heuristics."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache
from typing import NamedTuple

import Stemmer

from knowledge.stopwords import STOPWORDS

_WORD = re.compile(r"[0-9a-z]+(?:[.,][0-9]+)*")
LETTER_RUN = re.compile(r"[^\W\d_]+")  # a run of letters, accents kept (unfolded text)
_ELISION = re.compile(r"\b(?:l|d|j|m|n|s|t|c|qu|jusqu|lorsqu|puisqu)['’]", re.IGNORECASE)
# Splits on sentence ends, keeping decimal numbers ("4.90") and abbreviations short of a full stop.
# A sentence ends at . ! ? … (closing Markdown emphasis allowed: "**One code per order.** Codes
# cannot…") before a capital or a digit (opening quote or emphasis allowed), or at a line break.
_SENTENCE_END = re.compile(
    r"(?:(?<=[.!?…])|(?<=[.!?…]\*)|(?<=[.!?…]\*\*)|(?<=[.!?…]_)|(?<=[.!?…]__))"
    r"\s+(?=(?:\*{1,2}|_{1,2})?[«\"'(\[]?[A-ZÀ-ÖØ-Þ0-9])|\n+"
)


_STEMMER_NAMES = {"fr": "french", "en": "english"}


_COMBINING = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")


def fold(text: str) -> str:
    """Lower-case and strip accents: ``"Délai de rétractation"`` -> ``"delai de retractation"``."""
    return _COMBINING.sub("", unicodedata.normalize("NFKD", text.casefold()))


# Multi-word terms (and their chat abbreviations) read as one word: folded and stemmed, the
# "passe" of "mot de passe" was the "passé" of "j'ai passé commande", and "mdp" matched nothing.
_COMPOUNDS = ((re.compile(r"\b(?:mots? de passe|mdp)\b"), "motdepasse"),)


def words(text: str) -> list[str]:
    """Folded word tokens, French elisions removed (``l'article`` -> ``article``), multi-word
    terms joined (``mot de passe``/``mdp`` -> ``motdepasse``)."""
    folded = fold(_ELISION.sub(" ", text))
    for pattern, joined in _COMPOUNDS:
        folded = pattern.sub(joined, folded)
    return _WORD.findall(folded)


@lru_cache(maxsize=8)
def _stemmer(lang: str) -> Stemmer.Stemmer:
    return Stemmer.Stemmer(_STEMMER_NAMES.get(lang, "english"))


def content_terms(text: str, lang: str) -> list[str]:
    """Stemmed content words (stop words dropped) in ``lang``'s stemmer: what BM25 indexes."""
    if len(text) <= 4000:
        return list(_content_terms_cached(text, lang))
    return _content_terms(text, lang)


@lru_cache(maxsize=65536)
def _content_terms_cached(text: str, lang: str) -> tuple[str, ...]:
    return tuple(_content_terms(text, lang))


def _content_terms(text: str, lang: str) -> list[str]:
    return terms_of_words(words(text), lang)


def terms_of_words(tokens: Sequence[str], lang: str) -> list[str]:
    """:func:`content_terms` of a text already split by :func:`words` (split once, read twice)."""
    stop = STOPWORDS.get(lang, STOPWORDS["en"])
    kept = [w for w in tokens if w not in stop and (len(w) > 1 or w.isdigit())]
    if lang == "fr":
        kept = [_FR_FEMININE.sub(r"\1\2", w) for w in kept]
    return list(_stemmer(lang).stemWords(kept))


# Words are folded before stemming (customers often type without accents), but the French
# stemmer reads "-ée" and "-ière" only with their accents: folded, "débitée" would stem to
# "debite" and "débité" to "debit". Back to the masculine form first, so that both agree.
_FR_FEMININE = re.compile(r"(?<=\w\w)(e|ier)e(s?)$")


def sentences(text: str) -> list[str]:
    """Split text into sentences and list items, dropping Markdown markers and empty pieces;
    a Markdown table's rows become one sentence each (see :func:`pieces`)."""
    return [s for s, _ in pieces(text)]


class Piece(NamedTuple):
    text: str
    cells: str | None = None  # a table row's own cells (its header's words are not in them)


_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(?:\|\s*:?-{3,}:?\s*)*\|?\s*$")


class Table(NamedTuple):
    header: str  # the header line
    rule: str  # the |---| line under it
    rows: list[str]


def blocks(text: str) -> list[str | Table]:
    """The text in reading order as stretches of prose and Markdown tables (a header row, a
    rule, then the rows)."""
    lines = text.split("\n")
    out: list[str | Table] = []
    prose: list[str] = []
    i = 0
    while i < len(lines):
        if not (
            lines[i].lstrip().startswith("|")
            and i + 1 < len(lines)
            and _TABLE_RULE.match(lines[i + 1])
        ):
            prose.append(lines[i])
            i += 1
            continue
        j = i + 2
        while j < len(lines) and lines[j].lstrip().startswith("|"):
            j += 1
        out.append("\n".join(prose))
        prose = []
        out.append(
            Table(lines[i].strip(), lines[i + 1].strip(), [x.strip() for x in lines[i + 2 : j]])
        )
        i = j
    out.append("\n".join(prose))
    return out


def pieces(text: str) -> list[Piece]:
    """The sentences of a text in reading order; a table row's also carry its cells.

    A Markdown table row is read with its header, so it makes sense on its own:
    ``| Colissimo | 3–5 working days | €4.90 |`` under ``| Carrier | Delivery time | Price |``
    reads "Colissimo — Delivery time: 3–5 working days; Price: €4.90." (two columns:
    "Saturday: 10:00–16:00."). Rows of a table whose header is not in the text (a chunk cut
    inside a table) stay as they are."""
    out: list[Piece] = []
    for block in blocks(text):
        if isinstance(block, str):
            out.extend(Piece(s) for s in _prose_sentences(block))
            continue
        header = _cells(block.header)
        for line in block.rows:
            cells = _cells(line)
            row = _row_sentence(header, cells)
            if row:
                out.append(Piece(row, " ".join(cells)))
    return out


def _prose_sentences(text: str) -> list[str]:
    out: list[str] = []
    for raw in _SENTENCE_END.split(text):
        piece = re.sub(r"^\s*(?:#{1,6}\s+|[-*•]\s+|\d+[.)]\s+|\|)", "", raw).strip()
        if piece and not set(piece) <= set("|-: "):
            out.append(piece)
    return out


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def _row_sentence(header: list[str], row: list[str]) -> str:
    if not row or not row[0]:
        return ""
    pairs = [(h, c) for h, c in zip(header[1:], row[1:], strict=False) if c]
    if not pairs:
        return ""
    if len(header) == 2:
        body = f"{row[0]}: {pairs[0][1]}"
    else:
        # a header that asks ("Possible before shipping?") is answered, not labelled
        body = f"{row[0]} — " + "; ".join(
            f"{h} {c}" if h.endswith("?") else f"{h}: {c}" if h else c for h, c in pairs
        )
    return body if body[-1:] in ".!?…" else body + "."
