"""Language detection for French and English (other languages fall back to the default)."""

from __future__ import annotations

import re

from knowledge.text import STOPWORDS, words

SUPPORTED = ("fr", "en")
# Words that are frequent and unambiguous in one language only.
_MARKERS = {
    "fr": STOPWORDS["fr"] - STOPWORDS["en"]
    | {"commande", "colis", "livraison", "remboursement", "retour", "salut", "merci", "oui"},
    "en": STOPWORDS["en"] - STOPWORDS["fr"]
    | {"order", "parcel", "delivery", "refund", "return", "thanks", "yes", "please"},
}
_FRENCH_CHARS = re.compile(r"[éèêàùçœâîôûëïü]", re.IGNORECASE)


def detect_language(text: str, default: str = "en") -> tuple[str, float]:
    """Return ``(lang, confidence)`` with lang in :data:`SUPPORTED`.

    Counts language-specific function words plus French accented letters. Good on a single
    short chat message ("slt, tjrs pas reçu mon colis") and on long documents alike;
    confidence is 0 when there is no evidence at all.
    """
    tokens = words(text[:20000])
    fr = sum(1 for t in tokens if t in _MARKERS["fr"])
    en = sum(1 for t in tokens if t in _MARKERS["en"])
    fr += min(3, len(_FRENCH_CHARS.findall(text[:20000])))
    total = fr + en
    if total == 0:
        return default, 0.0
    lang = "fr" if fr > en else "en" if en > fr else default
    return lang, max(fr, en) / total
