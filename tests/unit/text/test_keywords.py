"""Keyword extraction on real Wikinews articles and xMIND Chinese news, fitted and unfitted."""

from __future__ import annotations

import math
from typing import Any

import pytest

from feedcraft.errors import InvalidInput, NotFitted
from feedcraft.text.clean import clean_text
from feedcraft.text.keywords import KeywordExtractor
from feedcraft.text.tokenize import tokenize


@pytest.fixture(scope="module")
def articles(wikinews: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(title, cleaned body) of every Wikinews article."""
    return [(a["title"], clean_text("\n".join(a["wikitext_paragraphs"]))) for a in wikinews]


@pytest.fixture(scope="module")
def fitted(articles: list[tuple[str, str]]) -> KeywordExtractor:
    return KeywordExtractor(top_k=10).fit(body for _, body in articles)


def _words(keywords: list[tuple[str, float]]) -> set[str]:
    return {w for term, _ in keywords for w in term.split()}


def test_keywords_of_a_wikinews_article_name_its_subject(
    articles: list[tuple[str, str]], fitted: KeywordExtractor
) -> None:
    body = next(b for t, b in articles if t.startswith("Kmart to buy Sears"))
    words = _words(fitted.extract(body))
    assert {"kmart", "sears"} <= words
    body = next(b for t, b in articles if t.startswith("16 Foot Asteroid"))
    assert "asteroid" in _words(fitted.extract(body))


@pytest.mark.parametrize("fit", [True, False])
def test_keywords_usually_contain_a_title_word(
    articles: list[tuple[str, str]], fitted: KeywordExtractor, fit: bool
) -> None:
    extractor = fitted if fit else KeywordExtractor(top_k=10)
    hits = total = 0
    for title, body in articles:
        if len(body.split()) < 40:  # a few sample articles lost their text upstream
            continue
        total += 1
        title_words = {w for w in tokenize(title, remove_stopwords=True) if len(w) > 2}
        hits += bool(title_words & _words(extractor.extract(body)))
    assert total >= 80
    assert hits / total >= 0.75


def test_scores_ranked_and_bounded(
    articles: list[tuple[str, str]], fitted: KeywordExtractor
) -> None:
    result = fitted.extract(articles[0][1], top_k=5)
    assert len(result) == 5
    scores = [s for _, s in result]
    assert scores == sorted(scores, reverse=True)
    assert all(0 < s <= 1 for s in scores)
    assert fitted.extract_many([articles[0][1], ""], top_k=3)[1] == []


def test_unfitted_fallback_is_term_frequency_without_stopwords() -> None:
    text = "The asteroid passed the Earth. The asteroid was small, and the asteroid was fast."
    extractor = KeywordExtractor(top_k=3)
    assert not extractor.is_fitted
    result = extractor.extract(text)
    assert result[0][0] == "asteroid"
    assert not {"the", "and", "was"} & _words(result)
    with pytest.raises(NotFitted):
        extractor.idf("asteroid")


def test_unseen_terms_count_as_rare(fitted: KeywordExtractor) -> None:
    assert fitted.idf("zyxwv") > fitted.idf("president")
    assert fitted.idf("zyxwv") == pytest.approx(math.log(fitted.n_documents_ + 1) + 1)
    result = fitted.extract("The president said that Zyxwv will meet the president.")
    terms = [t for t, _ in result]
    assert terms.index("zyxwv") < terms.index("president")  # despite half the frequency


def test_phrases_do_not_span_stopwords_or_punctuation() -> None:
    extractor = KeywordExtractor(top_k=20)
    terms = extractor.terms(
        "Bank of America profits rose. Bank of America shares fell, markets rose"
    )
    assert "bank america" not in terms
    assert "rose bank" not in terms
    assert "fell markets" not in terms
    assert terms["bank"] == 2


def test_a_hyphenated_compound_is_one_word() -> None:
    """ "Trump-era public" gave the keyword "era public": a phrase across half a compound."""
    terms = set(KeywordExtractor().terms("Wi-Fi routers are cheap. The Trump-era public mood."))
    assert {"wi-fi", "wi-fi routers", "trump-era", "trump-era public"} <= terms
    assert not terms & {"fi routers", "wi fi", "era public", "era", "fi"}
    assert "match" in KeywordExtractor().terms("A well - known match")  # a spaced dash splits
    aged = KeywordExtractor().terms("A 21-year-old migrant won 2-1.")
    assert "21-year-old migrant" in aged and "year old" not in aged and "2-1" not in aged


def test_chinese_function_words_are_not_keywords() -> None:
    """這裡 ("here") and 一些 ("some") ranked above 影片 ("videos")."""
    top = [
        t for t, _ in KeywordExtractor(top_k=3).extract("這裡有一些照片。這裡有一些照片和影片。")
    ]
    assert top == ["照片", "影片"]


def test_repeated_phrase_beats_its_words() -> None:
    text = "Hu Jintao met Lula. Hu Jintao praised Brazil. Later Hu Jintao left."
    result = KeywordExtractor(top_k=3).extract(text)
    assert result[0][0] == "hu jintao"
    assert "jintao" not in [t for t, _ in result]  # contained in a better phrase


def test_chinese_text_gives_chinese_keywords(xmind_rows: list[tuple[str, str, str]]) -> None:
    docs = [f"{title}。{abstract}" for _, title, abstract in xmind_rows[:1000]]
    extractor = KeywordExtractor(top_k=5).fit(docs)
    with_keywords = 0
    for doc in docs[:100]:
        result = extractor.extract(doc)
        if result:
            with_keywords += 1
        top = result[0][0] if result else ""
        if top and any("\u4e00" <= c <= "\u9fff" for c in top):
            assert len(top) >= 2  # single characters are not keywords
    assert with_keywords >= 95
    terms = [t for t, _ in extractor.extract(docs[0])]  # the royal-brands story
    assert "王子" in terms
    unfitted = KeywordExtractor(top_k=3).extract("烏克蘭戰爭前線的士兵。烏克蘭戰爭仍在繼續。")
    assert unfitted[0][0] == "烏克蘭戰爭"


def test_parameters_validated() -> None:
    with pytest.raises(InvalidInput, match="top_k"):
        KeywordExtractor(top_k=0)
    with pytest.raises(InvalidInput, match="ngram_range"):
        KeywordExtractor(ngram_range=(2, 1))
    with pytest.raises(InvalidInput, match="max_df"):
        KeywordExtractor(max_df=0)
    with pytest.raises(InvalidInput, match="texts"):
        KeywordExtractor().fit([])


def test_max_df_drops_corpus_wide_terms() -> None:
    docs = ["alpha beta", "alpha gamma", "alpha delta"]
    extractor = KeywordExtractor(max_df=0.5).fit(docs)
    assert "alpha" not in [t for t, _ in extractor.extract("alpha beta")]
