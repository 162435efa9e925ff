"""Words web2 (1934) lacks, read by how Gemma 3's vocabulary writes them (`text.lexicon`)."""

import json
import subprocess
import sys

import pytest

from feedcraft.text.cased_vocabulary import lower_case_only
from feedcraft.text.lexicon import is_ordinary_word, may_be_name


@pytest.mark.parametrize(
    "word",
    [
        "Salah",  # Malay and Indonesian "salah" (wrong) leans the vocabulary to lower case
        "Notre",
        "Monde",
        "Maison",
        "Forza",
        "Serie",
    ],
)
def test_words_much_commoner_in_another_language_stay_names(word: str) -> None:
    assert not is_ordinary_word(word)
    assert may_be_name(word)


@pytest.mark.parametrize(
    "word",
    [
        "Firefighters",  # no capitalised piece in the vocabulary, only the lower-case one
        "Firefighter",
        "Paramedics",
        "Spokesperson",
        "Meantime",
        "Longtime",
        "Horrified",
        "Groundbreaking",
    ],
)
def test_words_the_vocabulary_has_only_in_lower_case_are_ordinary(word: str) -> None:
    assert is_ordinary_word(word)
    assert not may_be_name(word)


def test_english_loans_abroad_stay_ordinary() -> None:
    # commoner in Dutch or Indonesian than in English, but by less than the margin
    for word in ("Website", "Smartphone", "Online", "Email", "Download", "Latte"):
        assert is_ordinary_word(word), word


def test_a_team_written_in_lower_case_is_still_a_name() -> None:
    assert is_ordinary_word("Canadiens")  # the vocabulary has only "canadiens"
    assert may_be_name("Canadiens")


def test_lower_case_only_needs_the_lower_case_piece_and_no_capitalised_one() -> None:
    assert lower_case_only("Firefighters")
    assert not lower_case_only("email")  # both forms
    assert not lower_case_only("Trump")
    assert not lower_case_only("xqzvbt")  # neither


def test_warm_loads_every_list_the_tests_read() -> None:
    code = """
import json, wordfreq
from feedcraft.text import cased_vocabulary, lexicon
lexicon.warm()
print(json.dumps({
    "web2": lexicon._lower_case_entries.cache_info().currsize,
    "census": lexicon._census_shares.cache_info().currsize,
    "vocabulary": cased_vocabulary._ranks.cache_info().currsize,
    "wordfreq": wordfreq.get_frequency_dict.cache_info().currsize,
}))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = json.loads(out.stdout)
    assert loaded == {"web2": 1, "census": 1, "vocabulary": 1, "wordfreq": 10}  # en + 9 others
