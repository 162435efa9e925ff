"""Language identification with py3langid, which ships its model inside the package (offline).

The engine stores ISO 639-1 codes, so py3langid's few ISO 639-3 labels are folded into their
macrolanguage (Wu and Cantonese are written Chinese: "zh") and labels without a 639-1 code are
not candidates. Chinese in Simplified and Traditional characters is "zh" alike.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import TYPE_CHECKING

from feedcraft.errors import InvalidInput
from feedcraft.text.script import HAN, HANGUL, KANA

if TYPE_CHECKING:
    from py3langid.langid import LanguageIdentifier

__all__ = ["detect_language", "language_code", "language_scores", "supported_languages"]

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
def _all_labels() -> tuple[str, ...]:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return tuple(LanguageIdentifier.from_model_file(MODEL_FILE).labels)


def supported_languages() -> frozenset[str]:
    """ISO 639-1 codes that `detect_language` can return."""
    return frozenset(c for c in map(_iso1, _all_labels()) if c is not None)


@lru_cache(maxsize=16)
def _identifier(codes: frozenset[str] | None) -> LanguageIdentifier:
    """One identifier per candidate set: `set_languages` mutates, so each set gets its own."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    ident = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    labels = [lab for lab in ident.labels if _iso1(lab) is not None]
    if codes is not None:
        labels = [lab for lab in labels if _iso1(lab) in codes]
    ident.set_languages(labels)
    return ident


def _candidates(restrict_to: Iterable[str] | None) -> frozenset[str] | None:
    if restrict_to is None:
        return None
    codes = frozenset(c.strip().lower().split("-")[0] for c in restrict_to)
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
