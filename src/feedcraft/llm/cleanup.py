"""Cleaning a model's answer: what models put around it, never its content.

Models wrap answers in lead-ins and preambles ("Sure!", "好的，", "Here's a headline:"), labels
and headers ("Headline 2:", "标题1：", "**Summary**" on a line of its own), list numbering
("1.", "1、", "一、", "（1）", "①"), quotes, book-title marks and Markdown emphasis, add chatter
after the answer ("I hope this helps!", "Note: this summary is based on…"), and stop
mid-sentence when they run out of tokens. Each rule takes off only what surrounds the
answer: a quote pair only when it wraps the whole line (a headline that opens with a quote,
'"We will rebuild," mayor says', or holds a title, "《三体》定档", keeps it), a number only when
list punctuation marks it as one ("3 candidates register" and "2024年…" keep theirs), a
sentence as chatter only when it speaks of the answer or to the user. Content is never
repaired: a wrong answer must fail the guardrails, not be hidden; a headline cut after a
dangling "and" loses only that word, as a summary loses its unfinished last sentence.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from feedcraft.llm.safety import join_sentences
from feedcraft.llm.sentences import count_units, split_sentences
from feedcraft.text.language import language_code, source_language
from feedcraft.text.script import HAN
from feedcraft.text.tokenize import tokenize_chinese

__all__ = [
    "drop_final_stop",
    "postprocess_headline",
    "postprocess_prose",
    "strip_answer",
    "unwrap_quotes",
]

_ZH_DIGITS = "一二三四五六七八九十"
# What may name an answer: "Summary", "**Headline 2**", "新标题", "第一个标题", "标题如下". A bare
# "ad" label is matched in its usual spellings only, so that "AD 79:" stays a date.
_LABEL_WORD = (
    r"(?:(?:(?:new|alternative|suggested|rewritten|revised|possible)\s+)?(?:headlines?|titles?"
    r"|summary|summaries|ad\s*copy|(?-i:[Aa]d)|product\s+descriptions?|descriptions?|answer"
    r"|options?|variants?)"
    rf"|(?:第[0-9{_ZH_DIGITS}]{{1,3}}[个個]?|新的?|备选|備選|候选|候選)?(?:标题|標題|摘要|总结"
    r"|總結|广告文案|廣告文案|广告|廣告|产品介绍|產品介紹|回答)(?:如下)?)"
    rf"(?:\s*#?\s*(?:\d{{1,2}}|[{_ZH_DIGITS}]{{1,3}}))?"
)
# A label before an answer on its line ("Summary:", "**Headline 2:**", "标题1：").
_LABEL = re.compile(rf"^\s*(?:[#>*_\-•]+\s*)?(?:\**\s*)?{_LABEL_WORD}\s*\**\s*[:：]\s*", re.I)
# A line that is only a label or a header ("**Summary**", "### Summary", "Headlines:"), or one
# that names the answer before a colon ("Summary of the article:", "文章的摘要："): the answer is
# on the lines after it.
_HEADER = re.compile(
    rf"[#>*_\-•\s]*(?:{_LABEL_WORD}[\s*_]*[:：]?"
    rf"|(?:{_LABEL_WORD}\s+(?:of|for)\s[^\n:：]{{1,40}}|[\u4e00-\u9fff]{{1,8}}的{_LABEL_WORD})"
    r"[\s*_]*[:：])[\s*_]*",
    re.I,
)
# Lead-ins before an answer ("Sure!", "Certainly.", "Of course,", "好的，", "当然，"), or a line
# that is nothing else; a word that goes on ("Sure-footed", "OK Go") is no lead-in.
_LEAD = re.compile(
    r"^\s*(?:(?:sure(?:\s+thing)?|certainly|of\s+course|absolutely|okay|ok|alright|all\s+right"
    r"|no\s+problem)(?:\s*[,!.:;]+|\s+[—–]|\s*$)|(?:好的|当然|當然|没问题|沒問題)[，,！!。.：:、])\s*",
    re.I,
)
_INTRO = re.compile(
    r"^\s*(?:here(?:'s|’s| is| are)\b[^\n:]{0,60}|以下是[^\n：:]{0,20})[:：]\s*",
    re.I,
)
# A Markdown block quote ("> Storm hits coast"); "> 50 dead" may mean "more than 50".
_BLOCKQUOTE = re.compile(r"^\s*(?:>\s*)*>\s+(?=\D)")
# A horizontal rule ("---", "***", "___"): layout between an answer and a note, never content.
_RULE = re.compile(r"\s*(?:[-*_=~]\s*){3,}")
# List numbering: bullets and "#" before a space; "1." "2)" "(3)" "１．" unless a digit
# follows (the decimal in "1.5亿", "5.1假期"); "1、" "一、" unless another number follows ("一、
# 二月份" is January and February); "（二）"; circled and bracketed numerals ("①", "⑴", "⒈").
_ENUM = re.compile(
    r"^\s*(?:[-*•]+\s+|#{1,6}\s+|[\u2460-\u249b\u2776-\u2793]\s*"
    r"|[(（]?[0-9０-９]{1,2}[.．)）](?![0-9０-９])\s*"
    rf"|(?:[0-9０-９]{{1,2}}|[{_ZH_DIGITS}]{{1,3}})、(?![0-9０-９{_ZH_DIGITS}])\s*"
    rf"|[(（](?:[0-9０-９]{{1,2}}|[{_ZH_DIGITS}]{{1,3}})[)）]\s*)"
)
# Quote marks and the mark that closes each; "*", "_" and "`" count by runs ("**bold**",
# "__bold__"); book-title marks and lenticular brackets wrap a whole Chinese headline too.
_PAIRS = {
    '"': '"', "'": "'", "`": "`", "*": "*", "_": "_", "“": "”", "‘": "’", "「": "」", "『": "』",
    "«": "»", "《": "》", "【": "】",
}  # fmt: skip
_RUNS = "*_`"
_CLOSERS = {close: open_ for open_, close in _PAIRS.items()}
_MARK = re.compile(r"\*+|`+|_+|[\"'“”‘’「」『』«»《》【】]")
# Marks a lone one of may be dropped from an end; "'" and "’" are too often apostrophes
# ("'90s", "the Joneses'").
_LONE = set('"“”「」『』‘*`_«»《》【】')
# The end of a sentence, as the guardrails' "ends mid-sentence" check reads it.
_TERMINAL = tuple("。！？.!?…\"'”’」』)）")
# A final dotted initialism ("the U.S."): its last dot is part of the word.
_INITIALISM = re.compile(r"(?:^|[^\w.])(?:[A-Za-z]\.){2,}$")


def _marks(text: str) -> list[re.Match[str]]:
    """Quote marks of `text`, without apostrophes (a "'" or "’" between letters or digits)
    and underscores inside a word ("snake_case")."""
    return [
        m
        for m in _MARK.finditer(text)
        if not (
            m[0][0] in "'’_"
            and text[m.start() - 1 : m.start()].isalnum()
            and text[m.end() : m.end() + 1].isalnum()
        )
    ]


def _family(mark: str) -> str:
    """The opening form of `mark`, naming its pair ("”" -> "“"); runs keep their length."""
    return _CLOSERS.get(mark, mark) if len(mark) == 1 else mark


def _balanced(text: str) -> bool:
    """True when every quote in `text` is closed: an even count of each symmetric mark, and
    no closing curly or corner quote without an opening one before it."""
    depth: dict[str, int] = {}
    for m in _marks(text):
        mark, family = m[0], _family(m[0])
        if _PAIRS.get(family, family) == family or len(mark) > 1:  # symmetric: ", ', *, `
            depth[family] = depth.get(family, 0) ^ 1
        elif mark == family:
            depth[family] = depth.get(family, 0) + 1
        elif depth.get(family, 0) == 0:
            return False
        else:
            depth[family] -= 1
    return not any(depth.values())


def _wraps(text: str) -> int:
    """Length of the quote mark that opens `text` when its pair closes `text`, else 0."""
    marks = _marks(text)
    if len(marks) < 2 or marks[0].start() != 0 or marks[-1].end() != len(text):
        return 0
    first, last = marks[0][0], marks[-1][0]
    closer = first if len(first) > 1 else _PAIRS.get(first)
    if closer is None or last != closer:
        return 0
    depth = 0
    for i, m in enumerate(marks):
        if closer == first and i > 0 and m[0] == first:
            depth = 0  # a symmetric mark closes at its next occurrence
        elif m[0] == first:
            depth += 1
        elif m[0] == closer:
            depth -= 1
        if depth == 0:
            return len(first) if i == len(marks) - 1 else 0
    return 0


def unwrap_quotes(text: str) -> str:
    """`text` without the quotes or emphasis that wrap all of it, and without a lone quote
    mark at one end when dropping it is what balances the rest (a reply cut off at either
    end); quotes that open or close only part of the text stay."""
    text = text.strip()
    while text:
        n = _wraps(text)
        if n:
            text = text[n:-n].strip()
            continue
        if _balanced(text):
            return text
        head = text.lstrip(text[0]) if text[0] in _RUNS else text[1:]
        tail = text.rstrip(text[-1]) if text[-1] in _RUNS else text[:-1]
        if text[0] in _LONE and _balanced(head):
            text = head.strip()
        elif text[-1] in _LONE and _balanced(tail):
            text = tail.strip()
        else:
            return text
    return text


def strip_answer(line: str) -> str:
    """One line of a reply without the lead-in, preamble, label, numbering and wrapping quotes,
    taken off until none is left ("**1. Storm hits coast**" is numbering inside emphasis);
    empty when the line is only a header or a rule."""
    previous = None
    while line != previous:
        previous = line
        line = _LEAD.sub("", line, count=1)
        line = _INTRO.sub("", line, count=1)
        line = _LABEL.sub("", line, count=1)
        line = _ENUM.sub("", line, count=1)
        line = _BLOCKQUOTE.sub("", line, count=1)
        line = _LABEL.sub("", line, count=1)
        line = unwrap_quotes(line)
    return "" if _HEADER.fullmatch(line) or _RULE.fullmatch(line) else line


# Sentences a chat model adds about its answer rather than the article: offers of more help,
# wishes that it helps, notes on the summary itself, word counts, "here is a summary". Each
# needs words no article sentence has (an assistant's "let me know", "对您有帮助", a "Note:"
# about "this summary"), so that content is never taken for chatter.
_CHATTER = re.compile(
    r"(?:i\s+)?hope\s+(?:this|that|it|these|the\s+(?:summary|headlines?|description|copy))"
    r"(?:\s+(?:summary|headlines?|description))?\s+(?:helps|is\s+(?:helpful|useful|what)|meets"
    r"|works\s+for\s+you)"
    r"|(?:please\s+)?(?:let\s+me\s+know|feel\s+free\s+to\s+(?:ask|let\s+me|tell\s+me))\b"
    r"|if\s+you\b[^.!?]{0,80}\b(?:let\s+me\s+know|feel\s+free|just\s+ask|i\s+can|i'd\s+be"
    r"|i\s+would\s+be|i'm\s+happy)"
    r"|is\s+there\s+anything\s+else\s+(?:i\s+can|i\s+could"
    r"|you(?:'d|\s+would)\s+like\s+(?:me|to\s+know))"
    r"|i(?:'d|\s+would)\s+be\s+(?:happy|glad)\s+to\s+(?:help|assist|provide|make|adjust|write)"
    r"|i'm\s+(?:happy|glad)\s+to\s+help"
    r"|i\s+can\s+(?:also\s+)?(?:provide|make|adjust|shorten|expand|rewrite|write|tailor|modify"
    r"|create)\b[^.!?]*\b(?:version|summary|summaries|headlines?|one|if\s+you|needed)\b"
    r"|(?:(?:note|n\.b\.|disclaimer)\s*:|please\s+note\b)[^!?]*\b(?:(?:the|this|my)\s+(?:summary"
    r"|article|source|passage|data|headlines?)|(?:text|information)\s+provided|word\s+count)\b"
    r"|this\s+(?:summary|headline)\s+(?:is|was|has|contains|captures"
    r"|highlights|focuses|covers|includes|provides|keeps|stays|uses|omits|does)\b"
    r"|(?:word\s+count|length)\s*[:：]\s*\d|\d+\s+words\W*$"
    r"|here(?:'s|\s+is|\s+are)\s+[^.!?:]{0,60}\b(?:summary|summaries|headlines?|description"
    r"|ad\s+copy)\b[^:：]*$"
    r"|希望(?:以上|这|這|本)?[些个個篇]?(?:内容|內容|摘要|总结|總結|回答|信息|資訊)?(?:能|可以)?"
    r"(?:对|對)(?:您|你)有(?:所)?(?:帮助|幫助|用)"
    r"|(?:如果|如|若)[^。！？!?]{0,30}(?:(?:告诉|告訴|告知|联系|聯繫)我|随时提出|隨時提出)"
    r"|(?:请|請)?(?:随时|隨時)(?:告诉|告訴|联系|聯繫)我"
    r"|(?:注|注意|说明|說明|备注|備註|提示)\s*[:：][^。！？]*(?:摘要|文章|原文|字数|字數|资料|資料"
    r"|总结|總結)"
    r"|(?:共|全文|字数|字數|约|約)\s*[:：]?\s*[0-9０-９]+\s*[个個]?字\W*$"
    r"|以上(?:是|为|為|就是)[^。！？]{0,20}(?:摘要|总结|總結|概括|标题|標題|介绍|介紹|文案)"
    r"|(?:本|这篇|這篇|该|該)(?:摘要|总结|總結)",
    re.I,
)


def _is_chatter(sentence: str) -> bool:
    """True for a sentence about the answer, not the article (see `_CHATTER`)."""
    text = sentence.strip().lstrip("-*_=~—–> ").strip("()（）[]【】 ").replace("’", "'")
    return bool(_CHATTER.match(text))


def _ends_sentence(text: str) -> bool:
    return text.endswith(_TERMINAL)


def postprocess_prose(max_length: int) -> Callable[[str], list[str]]:
    """Cleaning for one-paragraph answers: whole sentences within `max_length` units, less
    the unfinished ones a token limit cut off at the end and the chatter around them."""

    def run(raw: str) -> list[str]:
        lines = [strip_answer(x) for x in raw.strip().splitlines()]
        text = join_sentences([x for x in lines if x])
        sentences = split_sentences(text)
        while sentences and _is_chatter(sentences[0]):
            sentences.pop(0)
        # cut by max_tokens: a Chinese answer may stop after "；" (a clause, split as a
        # sentence) with the unfinished clause after it, so drop until one really ends
        while sentences and (
            _is_chatter(sentences[-1]) or (len(sentences) > 1 and not _ends_sentence(sentences[-1]))
        ):
            sentences.pop()
        kept: list[str] = []
        used = 0
        for sentence in sentences:
            n = count_units(sentence)
            if kept and used + n > max_length:
                break
            kept.append(sentence)
            used += n
        out = join_sentences(kept)
        return [out] if out else []

    return run


def drop_final_stop(text: str) -> str:
    """`text` without a final full stop, which headlines do not take; an initialism ("the
    U.S.") keeps its dot."""
    return text if _INITIALISM.search(text) else text.rstrip(".。")


# A word no English headline ends on: one a token limit cut off after ("…, killing three and").
# "of" ends idioms ("made of", "proud of") and stays after them; a capital "A" is a name ("Plan
# A"); "but" counts after a comma only. Other languages spell words alike that may end a
# headline (French "nouvel or", gold; Danish "Anders And", Donald Duck), so each language
# has its own list, applied to its headlines only.
_DANGLING = re.compile(
    r"(?<![\w'’-])(?:[Aa]nd|[Oo]r|[Nn]or|[Tt]he|a|(?<=,\s)[Bb]ut"
    r"|(?<!made )(?<!proud )(?<!afraid )(?<!think )(?<!sick )(?<!tired )(?<!rid )(?<!aware )"
    r"(?<!fond )(?<!short )(?<!out )(?<!full )(?<!capable )(?<!scared )(?<!part )[Oo]f)"
    r"[\s,;，、—–-]*$"
)


def _ending_on(words: str, kept_after: dict[str, str] | None = None) -> re.Pattern[str]:
    """A pattern for a last word among `words` (lower-case: a capital is a name, "Plan A",
    "Vitamina E"), with the marks after it; `kept_after` names, per word, the words before
    it that make it an ending ("Ooh la la")."""
    kept_after = kept_after or {}
    alternatives = []
    for word in sorted(words.split(), key=len, reverse=True):
        guards = "".join(f"(?<!{before} )" for before in kept_after.get(word, "").split())
        alternatives.append(guards + re.escape(word).replace("'", "['’]"))
    return re.compile(rf"(?<![\w'’-])(?:{'|'.join(alternatives)})[\s,;，、—–-]*$")


# The articles, prepositions and coordinating conjunctions of other languages that no
# headline ends on. There is no text in these languages to count on, so each list keeps only
# words with no other use that may end one: not an article that is also a pronoun ("Tous pour
# un", "numero uno", "mais um"), a German preposition that is also a verb particle ("Die
# Preise steigen an", "Auf und ab"), nor a word that is also a noun or verb ("vers", verses;
# Spanish and Portuguese "para", stops; "sobre", envelope; "entre", enters), and no "but"
# ("Ja, aber", "Oui, mais", "senza se e senza ma"), no "sin"/"sem"/"avec" ("con o sin",
# "faire avec") and no "par" ("sous le par"). "la" is the note in "Ooh la la", "dare il la".
_OTHER_DANGLING = {
    "fr": _ending_on("le la les des du au aux de à et ou ni l' d' qu' jusqu'", {"la": "la La"}),
    "de": _ending_on("und oder sondern des von für zum zur vom beim im am ins"),
    "es": _ending_on(
        "el la los las lo del al de a en con por hacia hasta desde y e o u ni", {"la": "la La"}
    ),
    "it": _ending_on(
        """il lo la i gli le un di a da in con per tra fra del dello della dei degli delle al
        allo alla ai agli alle dal dallo dalla dai dagli dalle nel nello nella nei negli nelle
        e ed o od né l' d' dell' all' dall' nell' sull' un'""",
        {"la": "la La il Il"},
    ),
    "pt": _ending_on(
        "o a os as de em por com do da dos das no na nos nas ao aos à às num numa e ou"
    ),
}
# ... and the Chinese conjunctions a cut one ends on ("…涉及教育和"), as whole jieba words:
# "缓和" (ease), "参与" (take part) and "普及" (spread) end good headlines.
_ZH_DANGLING = frozenset("和 与 與 及 或 以及 但".split())  # noqa: SIM905
_DANGLING_MARKS = " ,;，、；—–-"


def _without_dangling_word(text: str, language: str | None) -> str:
    """`text` less one dangling word at its end, in the headline's language: the item's
    (`language`) when the caller knows it, else the headline's own (`source_language`)."""
    bare = text.rstrip(_DANGLING_MARKS)
    if HAN.match(bare[-1:]):
        if bare.endswith(tuple(_ZH_DANGLING)) and _language(text, language) == "zh":
            words = tokenize_chinese(bare)
            if words and words[-1] in _ZH_DANGLING:
                return bare[: len(bare) - len(words[-1])]
        return text
    patterns = [("en", _DANGLING), *_OTHER_DANGLING.items()]
    ending = [(code, pattern) for code, pattern in patterns if pattern.search(text)]
    code = _language(text, language) if ending else ""
    return next((pattern.sub("", text) for c, pattern in ending if c == code), text)


def _language(text: str, language: str | None) -> str:
    return language_code(language) if language else source_language(text)


def _drop_dangling(text: str, language: str | None = None) -> str:
    """`text` without the function words and commas a cut-off headline ends on, when at least
    two words are left; a headline that ends on a whole word is unchanged."""
    while True:
        cut = _without_dangling_word(text, language).rstrip(_DANGLING_MARKS)
        if cut == text or count_units(cut) < 2:
            return text
        text = cut


def postprocess_headline(raw: str, language: str | None = None) -> list[str]:
    """The first line of a reply that is a headline (not a header, an introduction ending in
    a colon, or chatter), without a final full stop or a dangling last word of `language`
    (any tag: "en-US", "zh_CN"; None: the headline's own, as `source_language` reads it)."""
    lines = [strip_answer(line) for line in raw.strip().splitlines()]
    lines = [line for line in lines if line]
    for i, clean in enumerate(lines):
        if _is_chatter(clean) or (clean.endswith((":", "：")) and i < len(lines) - 1):
            continue
        previous = None
        while clean != previous:  # '“Storm hits coast.”' and '“中央图书馆将关闭”。' alike
            previous = clean
            clean = unwrap_quotes(_drop_dangling(drop_final_stop(clean), language))
        if clean:
            return [clean]
    return []
