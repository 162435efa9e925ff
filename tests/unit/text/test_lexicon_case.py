import pytest

from feedcraft.text.lexicon import capitalised_word, is_ordinary_word, may_be_name


@pytest.mark.parametrize(
    "word",
    [
        "Trump",  # a rare 1990 surname, and wordfreq counts the card game's "trump" with it
        "Trump's",
        "Phoenix",
        "Democrats",
        "Republicans",
        "Pentagon",
        "Kremlin",
        "Senate",
    ],
)
def test_words_mostly_written_capitalised_may_be_names(word: str) -> None:
    assert is_ordinary_word(word)  # web2 has them in lower case
    assert may_be_name(word)


@pytest.mark.parametrize(
    "word",
    [
        "Police",  # capitalised mostly at a sentence start
        "Officials",
        "Moreover",  # capitalised more often than not, but a function word (stopword)
        "Furthermore",  # two stopwords joined
        "However",
        "Young",
    ],
)
def test_ordinary_words_stay_words(word: str) -> None:
    assert not may_be_name(word)


def test_the_cut_off_is_a_parameter() -> None:
    # Apple leans +0.25: a name only under a looser cut-off than the one chosen
    assert not capitalised_word("apple")
    assert capitalised_word("apple", 0.2)


@pytest.mark.parametrize(
    "word", ["Email", "Online", "Website", "Smartphone", "Podcast", "Download", "Emails"]
)
def test_modern_words_are_ordinary(word: str) -> None:
    # newer than web2 (1934), written mostly in lower case
    assert is_ordinary_word(word)
    assert not may_be_name(word)


def test_modern_parts_of_a_hyphenated_word_are_ordinary() -> None:
    assert is_ordinary_word("Email-based")


@pytest.mark.parametrize(
    "word",
    [
        "Tim",  # census first names whose lower case is a word elsewhere ("tim", "max")
        "Max",
        "Nato",  # short lower-case pieces are abbreviations
        "Oz",
        "Esper",  # rare in lower case ("esper" is a fragment of "esperanza")
        "Obama",
        "Instagram",  # leans to the capital
    ],
)
def test_names_the_dictionary_lacks_stay_names(word: str) -> None:
    assert not is_ordinary_word(word)
    assert may_be_name(word)
