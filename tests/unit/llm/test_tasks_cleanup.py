"""Post-processing of model answers: only what surrounds the answer goes (wrapping quotes,
labels, list numbering, an unfinished tail), never part of the answer itself."""

from __future__ import annotations

import pytest

from feedcraft.embeddings import HashingEncoder
from feedcraft.llm import Generator, Guardrails, HeadlineRequest, SummaryRequest
from feedcraft.llm.tasks import prepare_headlines, prepare_summary

METRO = (
    "北京市政府周三宣布，地铁十号线将在下个月延长运营时间。"
    "市民可以在晚上十二点之前乘坐末班车；周末的末班车时间不变。"
)


# Post-processing as the tasks run it: headlines, and prose within 60 words.
postprocess_headline = prepare_headlines(HeadlineRequest("Storm", "A storm hit.")).postprocess
postprocess_prose = prepare_summary(
    SummaryRequest("Storm", "A storm hit.", max_length=60)
).postprocess


def _generator() -> Generator:
    hashing = HashingEncoder(256)
    return Generator(None, hashing, guardrails=Guardrails(hashing, min_similarity=0.1))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (  # a quote opening the headline is part of it, not a wrapper
            '"We will rebuild," Springfield mayor says after storm',
            '"We will rebuild," Springfield mayor says after storm',
        ),
        ("Mayor vows to “rebuild”", "Mayor vows to “rebuild”"),
        ("‘We will rebuild’: mayor vows after storm", "‘We will rebuild’: mayor vows after storm"),
        ("「我们会重建」，市长说", "「我们会重建」，市长说"),
        ('"Mayor\'s plan passes"', "Mayor's plan passes"),
        ("“Storm hits coast.”", "Storm hits coast"),
        ("“中央图书馆将关闭六个月”。", "中央图书馆将关闭六个月"),
        ("**Storm hits coast**", "Storm hits coast"),
        ("“Storm hits coast", "Storm hits coast"),  # a lone quote that balances nothing
        ("Trade deal signed with the U.S.", "Trade deal signed with the U.S."),
        ("Storm hits coast.", "Storm hits coast"),
    ],
)
def test_headlines_lose_only_quotes_that_wrap_the_whole_line(raw: str, expected: str) -> None:
    assert postprocess_headline(raw) == [expected]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ('The mayor called the storm "a disaster."', 'The mayor called the storm "a disaster."'),
        ("市长表示：“我们会重建。”", "市长表示：“我们会重建。”"),
        ('"We will rebuild," the mayor said. Repairs start Monday.', None),
        ('"Lula met Hu."', "Lula met Hu."),
        ('"Lula met Hu.\nThey ate."', "Lula met Hu. They ate."),  # one quote on each line
    ],
)
def test_prose_keeps_quotes_that_open_or_close_only_part_of_it(
    raw: str, expected: str | None
) -> None:
    assert postprocess_prose(raw) == [expected or raw]


def test_an_answer_that_quotes_the_source_passes_the_checks() -> None:
    body = (
        '"We will rebuild," Springfield mayor Anna Lee said on Monday after the storm destroyed '
        'the harbour. Lee called the storm "a disaster." Repairs start next week.'
    )
    heads = prepare_headlines(HeadlineRequest("Springfield mayor vows to rebuild", body, n=1))
    [headline] = heads.postprocess('"We will rebuild," Springfield mayor says after storm')
    assert headline.count('"') == 2
    assert all(c.passed for c in _generator().check(heads, headline))
    summary = prepare_summary(SummaryRequest("Springfield mayor vows to rebuild", body))
    [text] = summary.postprocess('Springfield mayor Anna Lee called the storm "a disaster."')
    assert text.endswith('"a disaster."')


@pytest.mark.parametrize(
    "raw",
    [
        "一、地铁十号线下月延长运营",
        "1、地铁十号线下月延长运营",
        "1.地铁十号线下月延长运营",
        "１．地铁十号线下月延长运营",
        "（1）地铁十号线下月延长运营",
        "（一）地铁十号线下月延长运营",
        "标题1：地铁十号线下月延长运营",
        "标题一：地铁十号线下月延长运营",
        "**标题2：** 地铁十号线下月延长运营",
    ],
)
def test_chinese_numbering_and_labels_are_removed(raw: str) -> None:
    assert postprocess_headline(raw) == ["地铁十号线下月延长运营"]


@pytest.mark.parametrize(
    "headline",
    [
        "3 candidates have registered",
        "2024年地铁十号线延长运营",
        "1.5亿人次乘坐地铁",
        "5.1假期地铁延长运营",
        "一、二月份地铁客流增长",  # January and February, not item one
        "Title IX: court rules on funding",
        "AD 79: Vesuvius erupts",
    ],
)
def test_a_real_leading_number_or_label_like_word_stays(headline: str) -> None:
    assert postprocess_headline(headline) == [headline]


def test_numbered_chinese_answers_pass_the_numbers_check() -> None:
    task = prepare_headlines(HeadlineRequest("地铁延长运营", METRO, n=1))
    [headline] = task.postprocess("一、地铁十号线下月延长运营")
    assert headline == "地铁十号线下月延长运营"
    assert all(c.passed for c in _generator().check(task, headline))
    summary = prepare_summary(SummaryRequest("地铁延长运营", METRO))
    raw = "一、北京地铁十号线将在下个月延长运营时间。\n二、市民可以在晚上十二点之前乘坐末班车。"
    [text] = summary.postprocess(raw)
    assert text == "北京地铁十号线将在下个月延长运营时间。市民可以在晚上十二点之前乘坐末班车。"


def test_an_answer_cut_after_a_clause_ends_on_a_whole_sentence() -> None:
    """Cut by max_tokens after "；": the clause before it is no sentence end either."""
    task = prepare_summary(SummaryRequest("地铁延长运营", METRO))
    raw = "地铁十号线将在下个月延长运营时间。市民可以在晚上十二点之前乘坐末班车；周末的末班"
    [text] = task.postprocess(raw)
    assert text == "地铁十号线将在下个月延长运营时间。"
    assert all(c.passed for c in _generator().check(task, text))
    en = postprocess_prose("The line will run later. Riders praised it; some 🎉 asked")
    assert en == ["The line will run later."]


def test_emphasis_runs_and_code_spans() -> None:
    assert postprocess_headline('""') == []
    assert postprocess_headline("*Storm hits coast") == ["Storm hits coast"]
    assert postprocess_headline("`rm -rf` bug hits bank") == ["`rm -rf` bug hits bank"]
