import pytest

from feedcraft.text.lexicon import _KNOWN_NAMES, is_ordinary_word, may_be_name


@pytest.mark.parametrize(
    "word",
    [
        "Brown",  # census surnames much commoner as names than as words
        "Smith",
        "Bell",
        "Nelson",
        "Sanders",
        "Smith's",  # possessive
        "China",  # countries and US states
        "Japan",
        "Turkey",
        "Colorado",
        "Cowboys",  # team nicknames
        "Jets",
        "Eagles",
    ],
)
def test_names_that_are_also_words_may_be_names(word: str) -> None:
    assert is_ordinary_word(word)  # the dictionary alone lets them through
    assert may_be_name(word)


@pytest.mark.parametrize(
    "word",
    [
        "Young",  # census names far commoner as words
        "White",
        "Will",
        "May",
        "Strong",
        "Long",
        "Green",
        "Police",  # no name at all
        "Researchers",
        "The",
        "Don't",
        "Self-driving",
        "Bills",  # a team, but also legislation: left out of the list
    ],
)
def test_ordinary_sentence_starts_are_not_names(word: str) -> None:
    assert not may_be_name(word)


@pytest.mark.parametrize("word", ["Obama", "Tuesday", "Instagram"])
def test_words_the_dictionary_does_not_know_stay_names(word: str) -> None:
    assert may_be_name(word)


def test_listed_places_and_teams_are_words_the_dictionary_knows() -> None:
    # the lists exist for names web2 reads as words; any other entry would be dead weight
    assert [w for w in sorted(_KNOWN_NAMES) if not is_ordinary_word(w)] == []


def test_case_of_the_input_does_not_matter() -> None:
    assert may_be_name("BROWN") and may_be_name("brown")
