"""The entity check at a sentence start, with the case rule of `text.lexicon` (own sentences)."""

import pytest

from feedcraft.llm.guardrails import check_entities

SOURCE = (
    "The city council approved a new budget on Monday. Officials said the plan adds money "
    "for parks, and residents can send comments by email to the clerk's office."
)


@pytest.mark.parametrize("name", ["Trump", "Democrats", "Republicans", "Pentagon", "Phoenix"])
def test_a_name_that_is_also_a_word_fails_when_the_source_lacks_it(name: str) -> None:
    output = f"The city council approved a new budget. {name} welcomed the decision."
    result = check_entities(output, SOURCE)
    assert not result.passed
    assert name in result.detail


@pytest.mark.parametrize("word", ["Online", "Website", "Podcast", "Smartphone"])
def test_a_modern_word_opening_a_sentence_is_no_name(word: str) -> None:
    output = f"The city council approved a new budget. {word} comments are welcome."
    assert check_entities(output, SOURCE).passed


def test_a_name_commoner_in_another_language_is_checked() -> None:
    source = "Sadio Mané scored twice as Liverpool beat Chelsea on Saturday."
    result = check_entities("Liverpool beat Chelsea. Salah scored twice.", source)
    assert not result.passed
    assert "Salah" in result.detail


def test_a_word_written_only_in_lower_case_is_no_name() -> None:
    source = "Fire crews and ambulance staff reached the flats within minutes, the council said."
    output = "Firefighters reached the flats within minutes. Paramedics treated two residents."
    assert check_entities(output, source).passed
