import pytest

from feedcraft.text.lexicon import inflections, is_ordinary_word


@pytest.mark.parametrize(
    "word",
    [
        "Police",
        "Heavy",
        "Officials",  # plural
        "Authorities",  # -ies
        "Earlier",  # -ier
        "Announced",  # -ed after e
        "Stopped",  # doubled consonant
        "Women",  # -men
        "Don't",  # contraction
        "Isn't",
        "It's",
        "Self-driving",  # every part a word
        "I",
        "A",
    ],
)
def test_ordinary_words_in_any_form(word: str) -> None:
    assert is_ordinary_word(word)


@pytest.mark.parametrize(
    "word", ["Obama", "Merkel", "Instagram", "Émile", "Tuesday", "Putin", "Obama's", "Ex-Obama"]
)
def test_names_and_capitalised_only_entries_are_not_ordinary(word: str) -> None:
    # web2 writes "Tuesday" with a capital: a day is checked against the source like a name
    assert not is_ordinary_word(word)


def test_case_of_the_input_does_not_matter() -> None:
    assert is_ordinary_word("POLICE") and is_ordinary_word("police")
    assert not is_ordinary_word("OBAMA")


def test_inflections_add_regular_endings() -> None:
    assert {"cure", "cures", "cured", "curing"} <= inflections("cure")
    assert {"stops", "stopped", "stopping"} <= inflections("stop")
    assert {"remedies", "remedied"} <= inflections("remedy")
    assert {"boxes", "boxed"} <= inflections("box")
    assert "heatted" not in inflections("heat")  # two vowels: no doubling
