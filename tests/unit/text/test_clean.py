"""Cleaning: MediaWiki markup (including the damaged markup of the real Wikinews sample), HTML."""

from __future__ import annotations

from typing import Any

import pytest

from feedcraft.text.clean import (
    clean_text,
    looks_like_wikitext,
    normalize_whitespace,
    remove_urls,
    strip_html,
    strip_wikitext,
)


@pytest.mark.parametrize(
    ("wikitext", "expected"),
    [
        ("{{w|President of Brazil|President}} spoke", "President spoke"),
        ("the {{w|Fatah}} party", "the Fatah party"),
        ("{{date|November 13, 2004}}Lula met Hu", "Lula met Hu"),
        ("both [[Israel]] and [[United States|the US]]", "both Israel and the US"),
        (
            "the [[w:Nanking Massacre|Rape of Nanking]] and [[w:human rights]]",
            "the Rape of Nanking and human rights",
        ),
        ("[[File:Gross-Powell.jpg|thumb|left|Colin [[Powell]]]]Text", "Text"),
        ("[[Image:x.png|right|300px|]]Text [[Category:Politics]]", "Text"),
        ("'''December 2004''' was ''cold''", "December 2004 was cold"),
        ('Fact.<ref>Source, p. 3</ref> More.<ref name="a" />', "Fact. More."),
        (
            "see [http://www.getfirefox.com GetFirefox.com] or [http://x.org]",
            "see GetFirefox.com or",
        ),
        ("== Background ==\n* first\n* second", "Background first second"),
        ("Text [[de:Friedensnobelpreis an Wangari Maathai]]", "Text"),
        ("a {{Palestine}}{{haveyoursay}}{{PD-Article}} b", "a b"),
        ("x {{w|Hu Jintao|{{nowrap|Hu}} Jintao}} y", "x Hu Jintao y"),
    ],
)
def test_wikitext_keeps_only_visible_text(wikitext: str, expected: str) -> None:
    assert clean_text(wikitext, wikitext=True) == expected


@pytest.mark.parametrize(
    ("damaged", "expected"),
    [
        # Real fragments of the Wikinews sample, where a byline template lost its end.
        (
            "{{Iraq}}{{byline|date[w:Paul Volcker|Paul Volcker]], a former [[United States|"
            "American]] official",
            "Paul Volcker, a former American official",
        ),
        ("{{byline|date{byline|date{reviewed}}\n{{archive}}", ""),
        ("{{haveyoursay}}\n{publish}}\n{{archived}}\n{{PD-Article}}", ""),
        ("{| border{publish}}\n{{archive}}", ""),
        (
            "!-- Instructions for editing wikipedia tables: http://meta.wikipedia.org -->Text",
            "Text",
        ),
    ],
)
def test_damaged_markup_is_removed_not_echoed(damaged: str, expected: str) -> None:
    assert clean_text(damaged, wikitext=True) == expected


def test_html_tags_entities_and_blocks() -> None:
    raw = "<p>Caf&eacute; &amp; bar</p><script>var x = 1;</script><br/>next&nbsp;line <!-- c -->"
    assert clean_text(raw) == "Café & bar next line"
    assert strip_html("&lt;b&gt; is a tag") == "<b> is a tag"  # escaped markup stays visible


def test_urls_removed_unless_kept() -> None:
    text = "read https://example.org/a?b=1 and www.example.com now"
    assert clean_text(text) == "read and now"
    assert "https://example.org/a?b=1" in clean_text(text, keep_urls=True)
    assert remove_urls("x http://a.b/c y").split() == ["x", "y"]


def test_nfkc_and_whitespace() -> None:
    assert clean_text("ＡＢＣ　１２３\t\n x") == "ABC 123 x"
    assert clean_text("ﬁne") == "fine"
    assert normalize_whitespace(" a  b \n\n c ", keep_paragraphs=True) == "a b\nc"
    assert clean_text("<p>one</p><p>two</p>", keep_paragraphs=True) == "one\ntwo"


def test_empty_and_none() -> None:
    assert clean_text("") == ""
    assert clean_text(None) == ""
    assert clean_text("   \n ") == ""


def test_wikitext_detection_and_override() -> None:
    assert looks_like_wikitext("a [[b]]")
    assert not looks_like_wikitext("plain <b>html</b>")
    # Without the flag, single quotes and brackets in ordinary text are left alone.
    assert clean_text("it's [not] markup") == "it's [not] markup"
    assert strip_wikitext("''x''") == "x"


def test_real_wikinews_has_no_markup_left(wikinews: list[dict[str, Any]]) -> None:
    cleaned = [clean_text("\n\n".join(a["wikitext_paragraphs"])) for a in wikinews]
    assert sum(1 for c in cleaned if len(c.split()) >= 20) >= 90
    for article, text in zip(wikinews, cleaned, strict=True):
        for token in ("{{", "}}", "[[", "]]", "{|", "|", "'''", "http", "<ref", "&mdash;"):
            assert token not in text, (article["title"], token)
    first = cleaned[0]  # "President of China lunches with Brazilian President"
    assert "Hu Jintao, the President of the People's Republic of China" in first
    assert "Luiz Inácio Lula da Silva" in first
    assert "Granja do Torto" in first  # ''italics'' unwrapped, not dropped


def test_cleaning_is_idempotent(wikinews: list[dict[str, Any]]) -> None:
    for article in wikinews[:30]:
        once = clean_text("\n\n".join(article["wikitext_paragraphs"]))
        assert clean_text(once) == once
