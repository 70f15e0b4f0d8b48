"""Typo tolerance of the keyword search (knowledge.spelling)."""

from __future__ import annotations

from knowledge.spelling import Speller

FR = (
    "La démission du salarié. Le préavis de démission. "
    "Les heures supplémentaires sont majorées. Le harcèlement moral est interdit. "
    "L'indemnité de licenciement. Le renouvellement du CDD. La rupture conventionnelle. "
    "Le congé sabbatique. Le contrat de travail. Le format du bulletin de paie. "
)
EN = "Deliveries leave our warehouse every day; the parcel is tracked. Deliveries are free. "
ARTICLES = [FR, FR, EN, EN]
LANGS = ["fr", "fr", "en", "en"]


def test_typing_slips_are_read_as_the_articles_closest_words() -> None:
    speller = Speller.build(ARTICLES, LANGS)
    assert speller.corrections("demmission", ["fr"]) == {"demmission": "demission"}  # doubled
    assert speller.corrections("rupture conventionelle", ["fr"]) == {  # a letter missing
        "conventionelle": "conventionnelle"
    }
    assert speller.corrections("heures suplementaires", ["fr"]) == {
        "suplementaires": "supplementaires"
    }
    assert speller.corrections("sabbaitque", ["fr"]) == {"sabbaitque": "sabbatique"}  # swapped
    # two slips from ten letters on ("renouvelemnt": an l and an e missing)
    assert speller.corrections("renouvelemnt cdd", ["fr"]) == {"renouvelemnt": "renouvellement"}
    assert speller.correct("Harceelement au travail, l'indemntié ?", ["fr"]) == (
        "harcelement au travail, l'indemnite ?"
    )


def test_real_words_short_words_and_other_languages_are_left_alone() -> None:
    speller = Speller.build(ARTICLES, LANGS)
    assert speller.corrections("démission salarié", ["fr"]) == {}  # known words
    assert speller.corrections("salariées congés", ["fr"]) == {}  # known stems
    assert speller.corrections("formal", ["en", "fr"]) == {}  # a different letter: no slip
    assert speller.corrections("prxavs", ["fr"]) == {}  # two slips in six letters
    assert speller.corrections("parcl", ["en"]) == {}  # too short to correct safely
    assert speller.corrections("placardisation", ["fr"]) == {}  # nothing close
    assert speller.corrections("xemission", ["fr"]) == {}  # the first letter is kept
    # an English typo is corrected from the English articles only
    assert speller.corrections("warehhouse", ["en"]) == {"warehhouse": "warehouse"}
    assert speller.corrections("warehhouse", ["fr"]) == {}


def test_the_most_frequent_of_equally_close_words_wins_and_a_word_seen_once_never() -> None:
    speller = Speller.build(["contrat contrat contrat contras contras", "rarissime"], ["fr", "fr"])
    assert speller.corrections("contrast", ["fr"]) == {"contrast": "contrat"}
    assert speller.corrections("rarisssime", ["fr"]) == {}


def test_a_query_is_corrected_once_per_speller_and_per_language() -> None:
    speller = Speller.build(ARTICLES, LANGS)
    looked: list[str] = []
    corrections = speller.corrections
    speller.corrections = lambda q, langs: looked.append(q) or corrections(q, langs)  # type: ignore[method-assign]
    for _ in range(3):
        assert speller.correct("ma demmission", ["fr"]) == "ma demission"
    assert speller.correct("ma demmission", ["en"]) == "ma demmission"  # another language
    assert looked == ["ma demmission", "ma demmission"]
    speller.forget()
    assert speller.correct("ma demmission", ["fr"]) == "ma demission" and len(looked) == 3


def test_the_closest_word_is_the_one_the_slip_rule_picks_among_all_candidates() -> None:
    """Dense buckets (words of seven letters, many the same letters in another order): the
    speller's pick is the one a comparison with every word of the articles makes."""
    import random

    from rapidfuzz.distance import DamerauLevenshtein, Indel

    rng = random.Random(7)
    vocab = {
        "".join(rng.choice("aeinrst") for _ in range(rng.randrange(6, 12))) for _ in range(3000)
    }
    vocab |= {"".join(rng.sample(w, len(w))) for w in list(vocab)[:800]}  # the same letters
    counts = {w: rng.randrange(1, 6) for w in sorted(vocab)}
    books = {"fr": counts, "en": {w: 7 - n for w, n in counts.items()}}
    speller = Speller.from_counts(books)

    def by_rule(word: str, langs: list[str]) -> str | None:
        limit = 2 if len(word) >= 10 else 1
        best = None
        for lang in langs:
            for cand, n in books[lang].items():
                if n < 2 or cand[0] != word[0]:
                    continue
                d = Indel.distance(word, cand)
                if d > limit and sorted(word) == sorted(cand):
                    d = DamerauLevenshtein.distance(word, cand)
                if d <= limit and (best is None or (d, -n, cand) < best):
                    best = (d, -n, cand)
        return best[2] if best else None

    words = sorted(vocab)
    asked = []
    for w in rng.sample(words, 300):
        i = rng.randrange(len(w) - 1)
        asked += [w[:i] + w[i + 1 :], w[:i] + w[i] + w[i:], w[:i] + w[i + 1] + w[i] + w[i + 2 :]]
    for word in asked:
        for langs in (["fr"], ["en"], ["fr", "en"]):
            assert speller._closest(word, langs) == by_rule(word, langs), (word, langs)
