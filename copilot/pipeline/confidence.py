"""Confidence: the probability that a draft is right and needs no human.

Features describe the *evidence*, never the query text itself, so a model fitted on one
knowledge base transfers to another: retrieval scores and their agreement, margins, how well
the best passage covers the customer's words (and their phrases), whether the best title says
more than the question (a neighbouring article's scope), question type, triggers, the order lookup, the
language and the conversation length (and, with an LLM, its own answerability verdict).

The model is a logistic regression over standardised features followed by an isotonic
calibration map, stored as JSON (never pickle) with its deflection threshold.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np

from knowledge import Hit
from knowledge.text import content_terms

DEFAULT_MODEL = Path(__file__).parent / "calibration" / "default.json"

FEATURES = (
    "dense_top",
    "dense_margin",
    "bm25_margin",
    "rrf_margin",
    "agree_top",
    "rank_overlap",
    "doc_concentration",
    "coverage_top",
    "coverage_best",
    "title_coverage",
    "query_terms",
    "n_hits",
    "intent_order",
    "intent_policy",
    "intent_chit_chat",
    "intent_other",
    "pattern_triggers",
    "order_found",
    "foreign_order",
    "unknown_order",
    "lang_fr",
    "customer_turns",
    "llm_answerable",
    "llm_confidence",
    "has_llm",
    "oov_rate",
    "mean_idf",
    "bm25_top_norm",
    "doc_agree",
    "second_doc_gap",
    "draft_coverage",
    "kb_sentences",
    "cites_top_doc",
    "title_excess",
    "title_pair_overlap",
    "phrase_coverage",
)
# Evidence recorded for the study of answerability (see the stop notes), not read by this model:
# how much of the question's specific (rare, by IDF) terms the best passages hold.
ANSWERABILITY_EVIDENCE = ("idf_coverage_best", "idf_coverage_top3", "missing_idf")


def extract(
    query: str,
    lang: str,
    hits: Sequence[Hit],
    *,
    intents: Sequence[str],
    pattern_triggers: int,
    order_found: bool,
    foreign_order: bool,
    unknown_order: bool,
    customer_turns: int,
    llm_answerable: bool | None = None,
    llm_confidence: float | None = None,
    query_stats: dict[str, float] | None = None,
    draft_sentences: Sequence[str] = (),
    cited_docs: Sequence[str] = (),
    term_weights: Mapping[str, float] | None = None,
) -> dict[str, float]:
    query_terms = content_terms(query, lang)
    q = set(query_terms)
    f: dict[str, float] = dict.fromkeys((*FEATURES, *ANSWERABILITY_EVIDENCE), 0.0)
    f["query_terms"] = math.log1p(len(q))
    f["n_hits"] = float(len(hits))
    _retrieval_features(f, hits, query_stats)
    if hits and q:
        _coverage_features(f, query_terms, hits, term_weights)
    order_intents = {"order_status", "return", "refund", "cancel"}
    f["intent_order"] = float(any(i in order_intents for i in intents))
    f["intent_chit_chat"] = float("chit_chat" in intents)
    f["intent_other"] = float(tuple(intents) == ("other",))
    f["intent_policy"] = float(
        not f["intent_order"] and not f["intent_chit_chat"] and not f["intent_other"]
    )
    f["pattern_triggers"] = float(pattern_triggers)
    f["order_found"] = float(order_found)
    f["foreign_order"] = float(foreign_order)
    f["unknown_order"] = float(unknown_order)
    f["lang_fr"] = float(lang == "fr")
    f["customer_turns"] = math.log1p(customer_turns)
    if hits:
        _scope_features(f, q, hits, cited_docs)
    f["kb_sentences"] = float(len(draft_sentences))
    if q and draft_sentences:
        drafted = set(content_terms(" ".join(draft_sentences), lang))
        f["draft_coverage"] = len(q & drafted) / len(q)
    if llm_answerable is not None or llm_confidence is not None:
        f["has_llm"] = 1.0
        f["llm_answerable"] = float(bool(llm_answerable))
        f["llm_confidence"] = float(llm_confidence or 0.0)
    return f


def _retrieval_features(
    f: dict[str, float], hits: Sequence[Hit], query_stats: dict[str, float] | None
) -> None:
    """How clearly the search found something: score margins, the two signals agreeing."""
    dense = sorted((h.dense_score for h in hits if h.dense_score is not None), reverse=True)
    bm25 = sorted((h.bm25_score for h in hits if h.bm25_score is not None), reverse=True)
    if dense:
        f["dense_top"] = dense[0]
        f["dense_margin"] = dense[0] - (dense[1] if len(dense) > 1 else 0.0)
    if bm25:
        f["bm25_margin"] = (
            (bm25[0] - (bm25[1] if len(bm25) > 1 else 0.0)) / bm25[0] if bm25[0] > 0 else 0.0
        )
    if hits:
        top = hits[0]
        f["rrf_margin"] = (top.score - (hits[1].score if len(hits) > 1 else 0.0)) * 60
        f["agree_top"] = float((top.dense_rank or 99) <= 3 and (top.bm25_rank or 99) <= 3)
        both = [h for h in hits[:5] if (h.dense_rank or 99) <= 5 and (h.bm25_rank or 99) <= 5]
        f["rank_overlap"] = len(both) / min(5, len(hits))
        f["doc_concentration"] = sum(1 for h in hits[:5] if h.doc_id == top.doc_id) / min(
            5, len(hits)
        )
    if query_stats:
        f["oov_rate"] = query_stats.get("oov_rate", 0.0)
        f["mean_idf"] = query_stats.get("mean_idf", 0.0) / 10.0
        if bm25 and query_stats.get("max_score"):
            f["bm25_top_norm"] = min(1.0, bm25[0] / query_stats["max_score"])


def _coverage_features(
    f: dict[str, float],
    query_terms: list[str],
    hits: Sequence[Hit],
    term_weights: Mapping[str, float] | None,
) -> None:
    """How much of the question the best passages (and the top one's title) hold."""
    q = set(query_terms)
    top = hits[0]
    passages = [content_terms(h.chunk.context_text, h.chunk.lang) for h in hits[:3]]
    covers = [len(q & set(terms)) / len(q) for terms in passages]
    f["coverage_top"] = covers[0]
    f["coverage_best"] = max(covers)
    _idf_coverage(f, q, passages, term_weights)
    f["phrase_coverage"] = _phrase_coverage(query_terms, passages[0])
    f["title_coverage"] = len(
        q & set(content_terms(" ".join((top.title, *top.chunk.heading_path)), top.chunk.lang))
    ) / len(q)


def _scope_features(
    f: dict[str, float], q: set[str], hits: Sequence[Hit], cited_docs: Sequence[str]
) -> None:
    """Whether the best article is the one both signals found, how far ahead of the next
    article it is, and whether its title says more than the question."""
    by_dense = min(hits, key=lambda h: h.dense_rank or 10**6)
    by_bm25 = min(hits, key=lambda h: h.bm25_rank or 10**6)
    f["doc_agree"] = float(
        by_dense.dense_rank is not None
        and by_bm25.bm25_rank is not None
        and by_dense.doc_id == by_bm25.doc_id
    )
    other = next((h for h in hits if h.doc_id != hits[0].doc_id), None)
    f["second_doc_gap"] = (hits[0].score - (other.score if other else 0.0)) * 60
    # Scope: a title that says more than the question ("... dans la fonction publique",
    # "... employé par un particulier") is often a neighbouring article, not the answer;
    # the two best articles sharing their title words means the topic is well covered.
    title = set(content_terms(hits[0].title, hits[0].chunk.lang))
    if q and title:
        f["title_excess"] = len(title - q) / len(title)
    if other is not None and title:
        second = set(content_terms(other.title, other.chunk.lang))
        f["title_pair_overlap"] = len(title & second) / len(title | second)
    f["cites_top_doc"] = float(hits[0].doc_id in cited_docs)


_HINTS = {
    "few_words": {
        "en": "The sources share few of the customer's words: check they answer the question.",
        "fr": "Les sources reprennent peu des mots du client : vérifiez qu'elles répondent à sa question.",
    },
    "searches_disagree": {
        "en": "The keyword and meaning searches point to different articles: check the sources.",
        "fr": "Les recherches par mots-clés et par sens désignent des articles différents : vérifiez les sources.",
    },
}


def review_hints(feats: dict[str, float], lang: str) -> list[str]:
    """What an agent should check in a draft, read from its evidence. Each hint is a signal
    that on every evaluation set (cdtn-fr, mtrag-support-en, the demo store) goes with about
    twice the rate of wrong drafts: few of the customer's words in the best passages (under
    half), or the two searches preferring different articles."""
    if not feats.get("n_hits"):
        return []
    keys = []
    if feats.get("coverage_best", 0.0) < 0.5:
        keys.append("few_words")
    if not feats.get("doc_agree"):
        keys.append("searches_disagree")
    lang = lang if lang in ("en", "fr") else "en"
    return [_HINTS[k][lang] for k in keys]


def _idf_coverage(
    f: dict[str, float],
    q: set[str],
    passages: Sequence[Sequence[str]],
    weights: Mapping[str, float] | None,
) -> None:
    """The question's terms weighted by how specific they are in this knowledge base (IDF; a
    term it never uses weighs the most): the share the best passage holds, the share the three
    best hold together, and the weight of the most specific term none of them has."""
    if not weights:
        return
    top = max(weights.values(), default=0.0)
    w = {t: weights.get(t) or top for t in q}  # 0: a term the index never saw
    total = sum(w.values())
    if total <= 0:
        return
    sets = [set(p) for p in passages]
    f["idf_coverage_best"] = max(sum(w[t] for t in q if t in p) / total for p in sets)
    union = set().union(*sets)
    f["idf_coverage_top3"] = sum(w[t] for t in q if t in union) / total
    f["missing_idf"] = max((w[t] for t in q if t not in union), default=0.0) / (top or 1.0)


def _phrase_coverage(query: Sequence[str], passage: Sequence[str]) -> float:
    """Share of the question's adjacent word pairs ("congé sans solde") that the passage also
    has side by side: the words of a phrase scattered over a passage ("congé" here, "solde de
    tout compte" there) are not the phrase."""
    pairs = set(pairwise(query))
    if not pairs:
        return float(bool(query) and set(query) <= set(passage))
    return len(pairs & set(pairwise(passage))) / len(pairs)


@dataclass
class ConfidenceModel:
    features: list[str]
    mean: list[float]
    scale: list[float]
    coef: list[float]
    intercept: float
    calib_x: list[float] = field(
        default_factory=list
    )  # isotonic map: raw probability -> calibrated
    calib_y: list[float] = field(default_factory=list)
    threshold: float = 0.8  # deflection threshold: at or above, the draft could go without an agent
    info: dict[str, Any] = field(default_factory=dict)

    def raw(self, feats: dict[str, float]) -> float:
        z = self.intercept
        for name, m, s, w in zip(self.features, self.mean, self.scale, self.coef, strict=True):
            z += w * (feats.get(name, 0.0) - m) / (s or 1.0)
        return 1.0 / (1.0 + math.exp(-max(min(z, 40.0), -40.0)))

    def predict(self, feats: dict[str, float]) -> float:
        p = self.raw(feats)
        if self.calib_x:
            p = float(np.interp(p, self.calib_x, self.calib_y))
        return min(max(p, 0.0), 1.0)

    def to_json(self) -> str:
        return json.dumps(self.__dict__, indent=2)

    @classmethod
    def from_json(cls, text: str) -> ConfidenceModel:
        data = json.loads(text)
        return cls(**data)

    @classmethod
    def load(cls, path: Path | None = None) -> ConfidenceModel:
        p = path if path is not None and path.exists() else DEFAULT_MODEL
        if not p.exists():
            return heuristic()
        return cls.from_json(p.read_text(encoding="utf-8"))


def heuristic() -> ConfidenceModel:
    """A hand-set starting point used until a model is fitted (`souffleur calibrate`)."""
    weights = {
        "coverage_top": 2.0,
        "coverage_best": 1.0,
        "agree_top": 0.8,
        "doc_concentration": 0.6,
        "rrf_margin": 0.5,
        "title_coverage": 0.6,
        "intent_chit_chat": 1.0,
        "order_found": 0.7,
        "pattern_triggers": -1.5,
        "foreign_order": -2.0,
        "unknown_order": -1.0,
        "intent_other": -0.4,
    }
    names = list(FEATURES)
    return ConfidenceModel(
        features=names,
        mean=[0.0] * len(names),
        scale=[1.0] * len(names),
        coef=[weights.get(n, 0.0) for n in names],
        intercept=-2.2,
        threshold=0.8,
        info={"kind": "heuristic"},
    )
