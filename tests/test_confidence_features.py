"""The evidence features of the confidence model: what each one says about a retrieval."""

from __future__ import annotations

from copilot.pipeline.confidence import extract, review_hints
from knowledge import Hit
from knowledge.types import Chunk


def _hit(doc_id: str, title: str, text: str, rank: int, lang: str = "fr") -> Hit:
    chunk = Chunk(
        chunk_id=f"{doc_id}::0",
        doc_id=doc_id,
        version=1,
        position=0,
        text=text,
        title=title,
        heading_path=(),
        lang=lang,
    )
    return Hit(chunk=chunk, score=1.0 / (60 + rank), rank=rank, dense_score=0.5, dense_rank=rank)


def _features(query: str, *hits: Hit, lang: str = "fr") -> dict[str, float]:
    return extract(
        query,
        lang,
        list(hits),
        intents=("other",),
        pattern_triggers=0,
        order_found=False,
        foreign_order=False,
        unknown_order=False,
        customer_turns=1,
    )


def test_a_title_narrower_than_the_question_counts_as_excess_scope() -> None:
    public = _hit(
        "sp:1",
        "Congé de formation professionnelle dans la fonction publique",
        "Le fonctionnaire peut demander un congé de formation professionnelle.",
        1,
    )
    private = _hit(
        "sp:2",
        "Congé de formation professionnelle",
        "Le salarié peut demander un congé de formation professionnelle.",
        1,
    )
    narrow = _features("congé formation professionnelle", public)["title_excess"]
    exact = _features("congé formation professionnelle", private)["title_excess"]
    assert exact == 0.0
    # "fonction" and "publique" are two of the five content words of the narrower title
    assert narrow == 0.4


def test_words_of_a_phrase_scattered_over_the_passage_do_not_cover_the_phrase() -> None:
    scattered = _hit(
        "mt:1",
        "Le congé sabbatique",
        "Le congé sabbatique suspend le contrat. Le solde de tout compte est remis au départ.",
        1,
    )
    together = _hit(
        "mt:2",
        "Le congé sans solde",
        "Le congé sans solde n'est pas prévu par le code du travail.",
        1,
    )
    assert _features("congé sans solde", scattered)["phrase_coverage"] == 0.0
    assert _features("congé sans solde", together)["phrase_coverage"] == 1.0
    # a one-word question is covered when the passage has the word, not otherwise
    assert _features("sabbatique", scattered)["phrase_coverage"] == 1.0
    assert _features("démission", scattered)["phrase_coverage"] == 0.0


def test_two_best_articles_on_one_topic_share_their_title_words() -> None:
    first = _hit("a", "Rupture conventionnelle du CDI", "La rupture conventionnelle…", 1)
    same_topic = _hit("b", "Rupture conventionnelle : indemnité", "L'indemnité…", 2)
    elsewhere = _hit("c", "Médecine du travail", "La visite médicale…", 2)
    assert _features("rupture conventionnelle", first, same_topic)["title_pair_overlap"] > 0.3
    assert _features("rupture conventionnelle", first, elsewhere)["title_pair_overlap"] == 0.0
    # a single article: nothing to compare
    assert _features("rupture conventionnelle", first)["title_pair_overlap"] == 0.0


def test_review_hints_tell_the_agent_what_to_check() -> None:
    """Few of the customer's words in the sources, and the two searches preferring different
    articles, are each shown as something to check; agreeing, well-covered evidence is not."""

    def hit(doc_id: str, text: str, rank: int, dense: int | None, bm25: int | None) -> Hit:
        h = _hit(doc_id, doc_id, text, rank, lang="en")
        return Hit(
            chunk=h.chunk,
            score=h.score,
            rank=rank,
            dense_score=0.5 if dense else None,
            dense_rank=dense,
            bm25_score=3.0 if bm25 else None,
            bm25_rank=bm25,
        )

    good = _features(
        "parcel delivery time",
        hit("delivery", "Parcel delivery takes three days; delivery time varies.", 1, 1, 1),
        lang="en",
    )
    assert review_hints(good, "en") == []
    vague = _features(
        "can my sister in Manchester get the lamp by Friday",
        hit("lamps", "Our lamps come with a two-year warranty.", 1, 1, 2),
        hit("gifts", "Gift wrapping is free.", 2, 2, 1),
        lang="en",
    )
    assert review_hints(vague, "en") == [
        "The sources share few of the customer's words: check they answer the question.",
        "The keyword and meaning searches point to different articles: check the sources.",
    ]
    assert review_hints(vague, "fr")[0].startswith("Les sources reprennent peu")
    assert review_hints(_features("rien", lang="en"), "en") == []  # no sources: nothing to check
