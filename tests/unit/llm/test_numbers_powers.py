"""Powers of ten in the numbers check: "10⁶" is a million, not the 106 NFKC folds it to."""

from __future__ import annotations

import pytest

from feedcraft.llm.guardrails import check_numbers
from feedcraft.llm.numerals import read_powers
from feedcraft.llm.units import quantities_in


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10⁶ cells", "1000000 cells"),
        ("10^6 cells", "1000000 cells"),
        ("10⁻³ m", "0.001 m"),
        ("10^-3 m", "0.001 m"),
        ("1.5×10⁶ people", "1500000 people"),
        ("1.5 x 10^6 people", "1500000 people"),
        ("5 km², 2010¹, 510⁶, 10 m³", "5 km², 2010¹, 510⁶, 10 m³"),  # no powers of ten
        ("10^400", "10^400"),  # no quantity
    ],
)
def test_powers_of_ten_are_read_as_their_value(text: str, expected: str) -> None:
    assert read_powers(text) == expected


@pytest.mark.parametrize(
    ("output", "source"),
    [
        ("It has 10⁶ cells.", "It has 1 million cells."),
        ("It has 10⁶ cells.", "It has 1,000,000 cells."),
        ("It has 10⁶ cells.", "It has one million cells."),
        ("It has 10^6 cells.", "It has 1 million cells."),
        ("It has 1,000,000 cells.", "It has 10⁶ cells."),
        ("About 1.5×10⁶ people.", "About 1,500,000 people."),
        ("About 1.5 x 10^6 people.", "About 1.5 million people."),
        ("It is 10⁻³ m long.", "It is 0.001 m long."),
        ("The lake covers 10⁶ km².", "The lake covers 1 million square kilometres."),
    ],
)
def test_a_power_of_ten_passes_for_its_value(output: str, source: str) -> None:
    result = check_numbers(output, source)
    assert result.passed, result.detail


@pytest.mark.parametrize(
    ("output", "source"),
    [
        ("It has 10⁶ cells.", "It has 106 cells."),  # was a pass
        ("It has 106 cells.", "It has 10⁶ cells."),  # was a pass
        ("About 2.5×10⁶ people.", "About 1,500,000 people, 2.5% of them."),
        ("The lake covers 10⁶ km².", "The lake covers 1 million miles."),  # another unit
    ],
)
def test_a_power_of_ten_of_another_value_fails(output: str, source: str) -> None:
    assert not check_numbers(output, source).passed


def test_a_power_of_ten_keeps_its_unit() -> None:
    assert [(q.value, q.unit) for q in quantities_in("1.5×10⁶ km² and 10⁻³ m")] == [
        ("1500000", "square kilometre"),
        ("0.001", "metre"),
    ]
