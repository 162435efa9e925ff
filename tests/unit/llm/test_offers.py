"""Deals a model invents in ad copy, with no number for the numbers check to catch."""

from __future__ import annotations

import pytest

from feedcraft.llm.guardrails import check_offers
from feedcraft.llm.offers import offers_in

KETTLE = "Acme Kettle. A 1.7 litre electric kettle for the kitchen. Colour: red."


@pytest.mark.parametrize(
    "output",
    [
        "The Acme Kettle boils water fast, now at half price.",
        "Buy one, get one free on the Acme Kettle!",
        "The red Acme Kettle, with free shipping today.",
        "Get the Acme Kettle for 30% off.",
        "A lifetime warranty on the Acme Kettle.",
        "Limited-time offer: the Acme Kettle.",
        "Acme电水壶限时半价，买一送一。",
        "Acme电水壶，全国包邮。",
    ],
)
def test_a_deal_the_source_never_offers_fails(output: str) -> None:
    assert not check_offers(output, KETTLE).passed


@pytest.mark.parametrize(
    ("output", "source"),
    [
        ("The Acme Kettle is now at half price.", KETTLE + " Sale price: 50% off this week."),
        ("Free delivery on the Acme Kettle.", KETTLE + " Free shipping in the UK."),
        ("The Acme Kettle boils 1.7 litres, in red.", KETTLE),
        ("Acme电水壶八折优惠。", "Acme电水壶，本周打折。"),
        ("A sale of the company's shares raised the price.", "The sale of shares raised it."),
        ("The free software runs everywhere.", "The free software runs everywhere."),
    ],
)
def test_a_deal_the_source_makes_or_no_deal_passes(output: str, source: str) -> None:
    assert check_offers(output, source).passed


def test_claims_are_named_by_family() -> None:
    assert offers_in("Now at half price, with free shipping!") == {
        "discount": "half price",
        "free_extra": "free shipping",
    }
    detail = check_offers("Now at half price.", KETTLE).detail
    assert "half price" in detail
