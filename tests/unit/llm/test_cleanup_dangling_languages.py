"""The dangling last word of a French, German, Spanish, Italian or Portuguese headline.

A token limit cuts a model's headline after any word; only English and Chinese lost a final
article or conjunction. Each language's list holds only words that cannot end a headline,
and applies to that language's headlines only: the look-alikes below end good ones.
"""

from __future__ import annotations

import pytest

from feedcraft.llm.cleanup import postprocess_headline


@pytest.mark.parametrize(
    ("raw", "language", "expected"),
    [
        (
            "Le gouvernement dévoile son plan pour l’emploi et les",
            "fr",
            "Le gouvernement dévoile son plan pour l’emploi",
        ),
        ("La mairie ferme la piscine et", "fr", "La mairie ferme la piscine"),
        ("Incendie à Lyon : les pompiers de l’", "fr", "Incendie à Lyon : les pompiers"),
        ("Regierung beschließt Reform und", "de", "Regierung beschließt Reform"),
        ("Bahn streicht Züge wegen des", "de", "Bahn streicht Züge wegen"),
        ("La selección vuelve a casa y", "es", "La selección vuelve a casa"),
        ("El Gobierno aprueba la reforma de la", "es", "El Gobierno aprueba la reforma"),
        ("Il governo approva la riforma della", "it", "Il governo approva la riforma"),
        ("Maltempo, chiuse le scuole nell'", "it", "Maltempo, chiuse le scuole"),
        ("Governo anuncia novas regras para os", "pt", "Governo anuncia novas regras para"),
        ("Chuva forte fecha escolas e", "pt-BR", "Chuva forte fecha escolas"),
    ],
)
def test_a_headline_loses_its_languages_dangling_word(
    raw: str, language: str, expected: str
) -> None:
    assert postprocess_headline(raw, language) == [expected]


@pytest.mark.parametrize(
    ("raw", "language"),
    [
        ("Le gouvernement présente son Plan B", "fr"),
        ("Ces journaux qui font la une", "fr"),
        ("Un pour tous, tous pour un", "fr"),  # "un" is also a pronoun
        ("Ooh la la", "fr"),
        ("Le Brexit, vous êtes pour", "fr"),
        ("Der Dax im Auf und ab", "de"),
        ("Die Preise steigen an", "de"),  # a verb particle, not a preposition
        ("Ja, aber", "de"),
        ("La lluvia no para", "es"),  # "para" also means "stops"
        ("El Congreso votó en contra", "es"),
        ("Con o sin", "es"),
        ("Complejo de vitamina E", "es"),
        ("Senza se e senza ma", "it"),
        ("Il Napoli torna numero uno", "it"),
        ("Il maestro ha dato il la", "it"),
        ("O trânsito para", "pt"),
        ("Flamengo vence mais um", "pt"),
        ("Le bitcoin, nouvel or", "fr"),
    ],
)
def test_a_headline_ending_on_a_look_alike_is_kept(raw: str, language: str) -> None:
    assert postprocess_headline(raw, language) == [raw]


def test_a_word_is_dangling_only_in_its_own_language() -> None:
    """Spanish "y" ends a Spanish headline cut short, not a Danish or English one."""
    assert postprocess_headline("Holdet vinder igen i år og y", "da") == [
        "Holdet vinder igen i år og y"
    ]
    assert postprocess_headline("Bahn streicht Züge und", "en") == ["Bahn streicht Züge und"]
