"""List-aware sentence splitting: a list marker is neither a sentence nor part of one."""

from __future__ import annotations

from feedcraft.llm.sentences import Sentence, iter_sentences, split_sentences


def test_list_markers_are_taken_off_their_items() -> None:
    text = (
        "Council approves budget.\n"
        "1. Schools get more money.\n"
        "2) Roads are repaired\n"
        "(3) Taxes stay flat.\n"
        "a. Parks reopen\n"
        "iv. Buses run later\n"
        "IV. Trams run later\n"
        "- a dash item\n"
        "* a star item\n"
        "• a dot item\n"
        "– an en-dash item"
    )
    assert list(iter_sentences(text)) == [
        Sentence("Council approves budget."),
        Sentence("Schools get more money.", item=True),
        Sentence("Roads are repaired", item=True),
        Sentence("Taxes stay flat.", item=True),
        Sentence("Parks reopen", item=True),
        Sentence("Buses run later", item=True),
        Sentence("Trams run later", item=True),
        Sentence("a dash item", item=True),
        Sentence("a star item", item=True),
        Sentence("a dot item", item=True),
        Sentence("an en-dash item", item=True),
    ]
    # split_sentences keeps every character (the sanitiser rebuilds text from it)
    assert split_sentences("1. Schools get more money.") == ["1.", "Schools get more money."]


def test_what_only_looks_like_a_marker_stays_text() -> None:
    text = (
        "J. Smith won the race.\n"
        "I. M. Pei designed it.\n"
        "civil. war is how the note ends.\n"
        "1.5 million people voted.\n"
        "3 candidates have registered.\n"
        "-5 degrees were measured.\n"
        "2004. The year began badly.\n"
        "---"
    )
    assert [s.text for s in iter_sentences(text)] == [
        "J. Smith won the race.",
        "I. M. Pei designed it.",
        "civil. war is how the note ends.",
        "1.5 million people voted.",
        "3 candidates have registered.",
        "-5 degrees were measured.",
        "2004.",
        "The year began badly.",
        "---",
    ]
    assert not any(s.item for s in iter_sentences(text))


def test_an_items_later_sentences_do_not_open_it() -> None:
    assert list(iter_sentences("- Roads are repaired. Work starts in May\n1.")) == [
        Sentence("Roads are repaired.", item=True, first=True),
        Sentence("Work starts in May", item=True, first=False),
    ]  # a marker alone on its line gives nothing


def test_chinese_enumerators_are_markers() -> None:
    text = "要点：\n1、学校获得更多资金\n一、道路得到修复。\n（二）税收保持不变\n十分重要。"
    assert list(iter_sentences(text)) == [
        Sentence("要点："),
        Sentence("学校获得更多资金", item=True),
        Sentence("道路得到修复。", item=True),
        Sentence("税收保持不变", item=True),
        Sentence("十分重要。"),
    ]


def test_a_chinese_number_list_is_no_marker() -> None:
    """ "1、2月份" is January and February, "一、二月份" too: no list item "2月份"."""
    for line in ("1、2月份，全市工业产值同比增长5.3%。", "一、二月份，全市工业产值同比增长5.3%。"):
        assert list(iter_sentences(line)) == [Sentence(line)]


def test_an_initialism_before_a_sentence_starter_ends_the_sentence() -> None:
    text = "Exports to the U.S. rose again. Most went to the U.S. The trade office was pleased."
    assert split_sentences(text) == [
        "Exports to the U.S. rose again.",
        "Most went to the U.S.",
        "The trade office was pleased.",
    ]
    # a name or an example goes on
    for text in ("He met the U.S. Army chief.", "Papers, e.g. The Times, agreed."):
        assert split_sentences(text) == [text]
