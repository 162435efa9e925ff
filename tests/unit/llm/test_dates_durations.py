"""A Chinese month after 连续, 前, 近, 每 or 为期 is a count of months, not a date: 连续十月
(ten months in a row), 前三月 (the first three months). Read as dates, 前三月 passed for a
source's 三月份 (March), and 连续十月 failed for the source's 连续10个月. 前 ending a word
(目前, 此前) still leaves a date: 此前3月5日 is "earlier, on 5 March"."""

from __future__ import annotations

import pytest

from feedcraft.llm.guardrails import check_numbers

FAITHFUL = [
    ("他连续十月未领工资。", "他连续10个月未领工资。"),
    ("前三月销量增长。", "前3个月销量增长。"),
    ("近三月销量增长。", "近3个月销量增长。"),
    ("此前3月5日他离开。", "他于3月5日离开。"),
    ("目前3月销量增长。", "3月销量增长了。"),
    ("他三月离开。", "他3月离开。"),
    ("此前3日他离开。", "他于本月3日离开。"),
]

UNFAITHFUL = [
    ("连续三月上涨。", "三月份价格上涨。"),
    ("前三月销量增长。", "三月份销量增长。"),
    ("他连续十月未领工资。", "他连续9个月未领工资。"),
    ("3人离开。", "此前3月5日他离开。"),
]


@pytest.mark.parametrize(("output", "source"), FAITHFUL)
def test_faithful(output: str, source: str) -> None:
    assert check_numbers(output, source).passed


@pytest.mark.parametrize(("output", "source"), UNFAITHFUL)
def test_unfaithful(output: str, source: str) -> None:
    assert not check_numbers(output, source).passed
