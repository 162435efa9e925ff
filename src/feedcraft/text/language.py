"""Language identification with py3langid, which ships its model inside the package (offline).

The engine stores ISO 639-1 codes, so py3langid's few ISO 639-3 labels are folded into their
macrolanguage (Wu and Cantonese are written Chinese: "zh") and labels without a 639-1 code are
not candidates. Chinese in Simplified and Traditional characters is "zh" alike.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from functools import lru_cache
from typing import TYPE_CHECKING

from feedcraft.errors import InvalidInput
from feedcraft.text.script import HAN, HANGUL, KANA, mostly_latin

if TYPE_CHECKING:
    from py3langid.langid import LanguageIdentifier

__all__ = [
    "COMMON_LANGUAGES",
    "detect_language",
    "language_code",
    "language_scores",
    "source_language",
    "supported_languages",
]

# py3langid labels that are not ISO 639-1, mapped to the 639-1 code a reader would expect.
_TO_ISO1 = {
    "wuu": "zh",
    "yue": "zh",
    "arz": "ar",
    "ary": "ar",
    "uzs": "uz",
    "sdh": "ku",
    "kik": "ki",
    "fuv": "ff",
    "gug": "gn",
}


# Other names of languages a caller may label text with (ISO 639-2/3 codes, English names):
# xMIND labels its Chinese "cmn".
_ALIASES = {"cmn": "zh", "zho": "zh", "chi": "zh", "chinese": "zh", "eng": "en", "english": "en"}


def language_code(tag: str) -> str:
    """The ISO 639-1 code a language tag names: "zh_CN", "zh-Hant", "cmn" and "yue" all mean
    "zh"; a code this module does not know is returned lower-cased, as given."""
    code = re.split(r"[-_]", tag.strip().lower())[0]
    return _ALIASES.get(code) or _TO_ISO1.get(code) or code


def _iso1(label: str) -> str | None:
    if label in _TO_ISO1:
        return _TO_ISO1[label]
    return label if len(label) == 2 else None


@lru_cache(maxsize=1)
def _model() -> LanguageIdentifier:
    """py3langid's model over all its languages, loaded once (seconds on a busy machine)."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def _all_labels() -> tuple[str, ...]:
    return tuple(_model().labels)


def supported_languages() -> frozenset[str]:
    """ISO 639-1 codes that `detect_language` can return."""
    return frozenset(c for c in map(_iso1, _all_labels()) if c is not None)


@lru_cache(maxsize=16)
def _identifier(codes: frozenset[str] | None) -> LanguageIdentifier:
    """One identifier per candidate set: `set_languages` mutates, so each set gets a shallow
    copy of the model (it rebinds the copy's arrays, never writes into the shared ones)."""
    ident = copy.copy(_model())
    labels = [lab for lab in ident.labels if _iso1(lab) is not None]
    if codes is not None:
        labels = [lab for lab in labels if _iso1(lab) in codes]
    ident.set_languages(labels)
    return ident


def _candidates(restrict_to: Iterable[str] | None) -> frozenset[str] | None:
    """The ISO 639-1 codes `restrict_to` names, read as `language_code` reads a tag: "en-US",
    "zh_TW" and "cmn" are accepted as callers label their text, not only bare codes."""
    if restrict_to is None:
        return None
    given = list(restrict_to)
    if any(not isinstance(tag, str) for tag in given):
        raise InvalidInput("expected language tags (strings)", field="restrict_to")
    codes = frozenset(language_code(tag) for tag in given)
    unknown = codes - supported_languages()
    if not codes or unknown:
        raise InvalidInput(
            f"unsupported language code(s) {sorted(unknown)}; use ISO 639-1 codes such as "
            "'en' or 'zh'",
            field="restrict_to",
        )
    return codes


def _letter_weight(text: str) -> int:
    """Letters in `text`, counting a Han/kana/hangul character as two (it carries more)."""
    n = 0
    for ch in text:
        if ch.isalpha():
            n += 2 if HAN.match(ch) or KANA.match(ch) or HANGUL.match(ch) else 1
    return n


def language_scores(text: str, *, restrict_to: Iterable[str] | None = None) -> dict[str, float]:
    """Probability per ISO 639-1 code (labels of one macrolanguage summed), best first."""
    codes = _candidates(restrict_to)
    ident = _identifier(codes)
    ranked = ident.rank(text)
    scores: dict[str, float] = {}
    for label, p in ranked:
        code = _iso1(label)
        if code is not None:
            scores[code] = scores.get(code, 0.0) + float(p)
    return dict(sorted(scores.items(), key=lambda kv: kv[1], reverse=True))


def detect_language(
    text: str | None,
    *,
    restrict_to: Iterable[str] | None = None,
    min_letters: int = 6,
    min_confidence: float = 0.0,
) -> str | None:
    """ISO 639-1 code of `text`, or None when it is too short or too uncertain to tell.

    `min_letters` counts letters (a CJK character as two): below it n-gram statistics are
    noise. Han text without kana or hangul is Chinese even if the model leans to "ja"/"ko",
    because Japanese and Korean prose virtually always contains its own scripts.
    """
    if not text or _letter_weight(text) < min_letters:
        return None
    scores = language_scores(text, restrict_to=restrict_to)
    if not scores:
        return None
    code, p = next(iter(scores.items()))
    if code in ("ja", "ko") and "zh" in scores and HAN.search(text):
        own_script = KANA if code == "ja" else HANGUL
        if own_script.search(text) is None:
            code, p = "zh", scores["zh"] + scores[code]
    return code if p >= min_confidence else None


# Languages most news on the web is written in. On a few words, detection over all of
# py3langid's languages spreads its probability over rare neighbours of English (names and
# numbers read as Luxembourgish, Latin, Scots Gaelic or Javanese: 29 of 2,000 MIND titles);
# asked again among these, a short Spanish or Portuguese title is still told apart.
_COMMON = "en zh es fr de it pt nl ru ja ko ar tr pl sv da no fi cs el he hi id vi th uk hu ro fa"
COMMON_LANGUAGES = frozenset(_COMMON.split())
# The probability a label needs to be believed on short text: no MIND or Wikinews title was
# misread at 0.6 or above (a fifth of the correct labels fall below it, and are English by
# script anyway).
_CONFIDENT = 0.6


def source_language(text: str, hint: str | None = None) -> str:
    """ISO 639-1 code of a source text, never None: the hint if given ("zh_CN", "zh-Hant",
    "cmn" all mean "zh"), else a confident detection (over all languages, then over
    `COMMON_LANGUAGES`), else the script's language: Han (without kana or hangul) is "zh",
    mostly Latin letters "en", the engine's default. A headline of a few words is too short
    for n-gram statistics, and an unlikely label ("lb" for an English title) would make the
    language check reject a correct English answer."""
    if hint and hint.strip():
        return language_code(hint)
    detected = detect_language(text, min_confidence=_CONFIDENT) or detect_language(
        text, restrict_to=COMMON_LANGUAGES, min_confidence=_CONFIDENT
    )
    if detected is not None:
        return detected
    if HAN.search(text) and not (KANA.search(text) or HANGUL.search(text)):
        return "zh"
    if mostly_latin(text):
        return "en"
    return detect_language(text) or "en"
