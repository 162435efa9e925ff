"""L2 text: cleaning, language detection, tokenisation (English, Chinese), keywords."""

from feedcraft.text.clean import clean_text, strip_html, strip_wikitext
from feedcraft.text.keywords import KeywordExtractor
from feedcraft.text.language import detect_language, language_scores, supported_languages
from feedcraft.text.tokenize import tokenize

__all__ = [
    "KeywordExtractor",
    "clean_text",
    "detect_language",
    "language_scores",
    "strip_html",
    "strip_wikitext",
    "supported_languages",
    "tokenize",
]
