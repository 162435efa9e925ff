"""The no-model fallback: pick the source's own sentences by embedding centrality.

Everything it outputs is copied from the source (a list item only gains a capital and a full
stop), so it cannot invent a number or a name; it is what the generator returns when a model
is absent, fails the guardrails twice, or cannot write the source's language. Scoring is
LexRank-style degree centrality (mean cosine to the other sentences, Erkan and Radev 2004)
plus a lead bonus, because news puts the gist first, plus, for a personalised summary,
similarity to the reader's interests. Selection is greedy with a redundancy penalty (maximal
marginal relevance) under the length budget, and the chosen sentences are returned in source
order so that the text still reads as prose.

A body has no size limit, so only its leading `MAX_SENTENCES` distinct sentences are ranked
(news puts the substance first, and the model reads only the leading part too), and no step
builds the sentence-by-sentence similarity matrix: work and memory grow linearly.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from feedcraft.embeddings.base import Encoder
from feedcraft.errors import InvalidInput
from feedcraft.llm.clauses import CLAUSE_BREAK, is_adverbial, is_fragment
from feedcraft.llm.cleanup import drop_final_stop, unwrap_quotes
from feedcraft.llm.safety import join_sentences
from feedcraft.llm.sentences import (
    Sentence,
    clip_chars,
    count_units,
    iter_sentences,
    truncate_units,
)
from feedcraft.text.script import HAN, has_han
from feedcraft.text.tokenize import tokenize_chinese

__all__ = ["MAX_SENTENCES", "ExtractiveSummarizer"]

# The most sentences ranked per text: ~50 news sentences fill the model's 1,200-word window,
# and the sample articles have at most 42, so only an outsized body is cut.
MAX_SENTENCES = 300
# ... and the most characters split into sentences, for a huge body with few line breaks:
# 300 long news sentences (~650 characters each) fit, and splitting stays fast. It is cut
# at a sentence end near the limit (`clip_chars`): Chinese has no spaces, and the last one
# may end the dateline ("新华社 电").
_MAX_CHARS = 200_000

_DASH = re.compile(r"\s[-–—]\s")
_FIRST_WORD = re.compile(r"[\W_]*([^\W_]+)")
# The last word, after a dash or dots too: "reinstated—for", "again...on" ("Plug-In" is one).
_LAST_WORD = re.compile(r"(?<![\w'’-])[\w'’-]+[^\w\s]*$")
# What a clause break leaves at an end of a headline, and what a cut drops before its "…".
_CLAUSE_MARKS = " ,;:，；：、"
_TRAILING = " .,;:!?。，；：！？、-–—"
_QUOTES = "\"'“”‘’「」『』"
_ELLIPSIS = re.compile(r"(?:\.\s?){3,}$|…+$")
_SENTENCE_END = tuple("。！？.!?…\"'”’」』)）")
# Quote marks and brackets that open, and the mark that closes each.
_CLOSER = dict(zip("“‘(（[「『《【", "”’)）]」』》】", strict=True))
_CLOSES = frozenset(_CLOSER.values()) - {"’"}  # ... those that are no apostrophe
# Words an English headline cut short should not end on (articles, prepositions, auxiliaries).
_DANGLING = frozenset(
    """a an the and or but nor so of to in on at by for from with as into onto over under
    about after before than that which who whom whose is are was were be been being has have
    had will would can could should may might must its their his her our your my this these
    those not no""".split()  # noqa: SIM905 (a word list reads better as words)
)
# ... and Chinese ones (a jieba word): "受到李斯特菌的…" and "球迷因…" (fans, because of)
# read as broken, and so do adverbs cut before their verb or adjective: "警方已…" (police
# have already …), "警方正在…", "美国最…". "了" may end a cut: "分享了…" (shared …) has its
# verb; so may the words that end a clause themselves: "没有" (絕對沒有, not at all), "不断"
# (冲突不断, clashes go on), "而已" (only), "不已" (感激不已); "便" may be a noun. Modals and
# determiners need theirs too: "大桥将会…" (the bridge will …), "变得…", "该…" (this …),
# and so do "不会…" (will not), "几乎…" (almost), "非常…" (very), "试图…" (tries to), "约…"
# (about, before a number); "值得" and "准备" may end one. "可能" (may) is `_zh_modal`.
_ZH_DANGLING = frozenset(
    """的 之 在 被 和 与 與 及 或 把 将 將 对 對 从 從 向 于 於 为 為 给 給 由 并 並
    是 而 因 因为 因為 由于 由於 以 但 但是 以及 及其 且 并且 並且 而且 或者 关于 關於
    对于 對於 据 據 所
    已 已经 已經 早已 曾 曾经 曾經 正 正在 刚 剛 刚刚 剛剛 即将 即將 尚 尚未 未 并未 並未 不
    仍 仍然 依然 依旧 依舊 一直 还 還 也 亦 都 均 皆 就 才 再 又 终于 終於 很 更 最
    会 會 将会 將會 能 能否 可 可以 应 應 应该 應該 该 該 要 将要 將要 想 想要 必须 必須
    须 須 得 变得 變得 显得 顯得 使得 这 這 那 各 每 某 其
    不会 不會 不再 再次 从未 從未 几乎 幾乎 非常 更加 越来越 越來越 较 較 只 只是 试图 試圖
    企图 企圖 首次 约 約 大约 大約 不得不 相对 相對""".split()  # noqa: SIM905 (Simplified and Traditional forms)
)
# A leading run of clauses that ends on one of these (then a comma or colon) only introduces
# what follows: "主办方表示，" (the organisers said), "Police said," are not headlines.
_ZH_REPORTING = tuple(
    """表示 称 说 说道 指出 认为 强调 透露 介绍 宣布 报道 坦言 直言 回应 补充 提到 写道 问道
    解释 警告 呼吁 承认 证实 获悉 据悉 显示 表明 发现 了解到 注意到 看来 称赞 提醒
    稱 說 說道 認為 強調 介紹 宣佈 報道 報導 回應 補充 寫道 問道 解釋 呼籲 承認 證實 獲悉
    據悉 顯示 發現 看來 稱讚""".split()  # noqa: SIM905 (Simplified, then Traditional forms)
)
_EN_REPORTING = frozenset(
    """said says say told tells added adds noted notes explained warned warns stated states
    announced reported wrote writes asked argued argues claimed claims insisted believes
    revealed confirmed suggested suggests showed shows found finds""".split()  # noqa: SIM905
)


class ExtractiveSummarizer:
    """Sentence ranking by centrality, lead position and interest; no language model."""

    def __init__(
        self,
        encoder: Encoder,
        *,
        interest_weight: float = 0.5,
        lead_weight: float = 0.15,
        redundancy: float = 0.5,
    ) -> None:
        for field, value in (
            ("interest_weight", interest_weight),
            ("lead_weight", lead_weight),
            ("redundancy", redundancy),
        ):
            if not value >= 0:
                raise InvalidInput(f"must be >= 0, got {value!r}", field=field)
        self.encoder = encoder
        self.interest_weight = interest_weight
        self.lead_weight = lead_weight
        self.redundancy = redundancy

    @property
    def name(self) -> str:
        return f"extractive:{self.encoder.name}"

    def scores(self, sentences: Sequence[str], interests: Sequence[str] = ()) -> np.ndarray:
        """One relevance score per sentence (higher is more summary-worthy)."""
        return self._scored(list(sentences), interests)[0]

    def _scored(
        self, sentences: list[str], interests: Sequence[str]
    ) -> tuple[np.ndarray, np.ndarray]:
        n = len(sentences)
        if n == 0:
            return np.zeros(0, dtype=np.float64), np.zeros((0, 0), dtype=np.float64)
        vectors = self.encoder.encode(sentences).astype(np.float64)
        # the mean cosine to the others, row sums of the n x n similarities without forming it
        self_sims = np.einsum("ij,ij->i", vectors, vectors)
        total = vectors.sum(axis=0)
        centrality = (vectors @ total - self_sims) / (n - 1) if n > 1 else np.ones(1)
        lead = self.lead_weight / (1.0 + np.arange(n))
        score = centrality + lead
        wanted = [t for t in interests if t and t.strip()]
        if wanted and self.interest_weight > 0:
            profile = self.encoder.encode(wanted).astype(np.float64)
            score = score + self.interest_weight * (vectors @ profile.T).max(axis=1)
        return np.asarray(score, dtype=np.float64), vectors

    def select(
        self,
        sentences: Sequence[str],
        max_length: int,
        *,
        interests: Sequence[str] = (),
    ) -> list[int]:
        """Indexes of the sentences to keep, in source order, within `max_length` units."""
        sentences = list(sentences)
        if not sentences or max_length < 1:
            return []
        score, vectors = self._scored(sentences, interests)
        lengths = np.array([count_units(s) for s in sentences])
        remaining = lengths > 0
        overlap = np.zeros(len(sentences))  # cosine to the nearest chosen sentence
        chosen: list[int] = []
        used = 0
        while True:
            fits = remaining & (used + lengths <= max_length)
            if not fits.any():
                break
            value = np.where(fits, score - self.redundancy * overlap, -np.inf)
            best = int(np.argmax(value))  # the first of equals, in source order
            near = vectors @ vectors[best]
            overlap = np.maximum(overlap, near) if chosen else near
            chosen.append(best)
            used += int(lengths[best])
            remaining[best] = False
        if not chosen:  # every sentence is longer than the budget: the best one is cut below
            chosen = [int(np.argmax(score))]
        return sorted(chosen)

    def summarize(
        self, text: str, max_length: int, *, interests: Sequence[str] = (), title: str = ""
    ) -> str:
        """Source sentences worth `max_length` units (words, or characters for Chinese).

        Only complete sentences are candidates when there are any: real pages end in
        fragments (a related story's heading, "ww.cnn.com", left-over markup) that centrality
        alone may pick. A lead cut mid-sentence upstream is kept (it is often the gist) but
        marked as cut: "…leadership could prove to be the key…". A body of fragments only (a
        scrape or translation cut short) gives them marked as cut at the end too, less those
        that only introduce what is missing ("市長周日表示,", the mayor said); one with none
        gives the title, ended as a sentence, rather than an announcement.
        """
        sentences = _candidates(text)
        complete = [s for s in sentences if s.endswith(_SENTENCE_END)]
        informative = [_unfinished(s) for s in sentences if not _introduces(s)]
        titled = [_ended(title.strip())] if title.strip() else []
        sentences = complete or informative or titled or [_unfinished(s) for s in sentences]
        keep = self.select(sentences, max_length, interests=interests)
        summary = join_sentences([_marked(sentences[i]) for i in keep])
        return truncate_units(summary, max_length)

    def headlines(self, title: str, text: str, n: int, max_units: int) -> list[str]:
        """Up to `n` distinct headline-length phrases: the title, then the best clauses.

        Each is served as the model's would be (`_as_headline`). One that differs from an
        earlier one only in punctuation is no second headline, and the source's own text
        that opens a quote or bracket it does not close, or closes one it did not open (a
        sentence split inside a quotation: 'James Roche: "Oy.'), is none at all; the title
        is served as it stands.
        """
        out: list[str] = []
        seen: set[str] = set()

        def add(candidate: str, *, closed: bool = True) -> None:
            candidate = _as_headline(candidate)
            key = _normalised(candidate)
            if closed and not _balanced(candidate):
                return
            if _has_letters(candidate) and key not in seen and count_units(candidate) <= max_units:
                seen.add(key)
                out.append(candidate)

        if title:
            add(title, closed=False)
        sentences = _candidates(text)
        order = [int(i) for i in np.argsort(-self.scores(sentences), kind="stable")]
        shortest = min(4, max_units)
        for i in order:  # whole sentences that fit first: they read best
            fits = shortest <= count_units(sentences[i]) <= max_units
            whole = _is_complete(sentences[i]) and not is_fragment(sentences[i])
            if len(out) < n and fits and whole:
                add(sentences[i])
        for i in order:  # then the longest leading run of clauses of the others
            if len(out) >= n:
                break
            if _starts_mid_sentence(sentences[i]):  # its lead is lost: not a headline's
                continue
            head = _leading_clauses(sentences[i], max_units)
            if _introduces(head):
                continue
            short = _cut_short(head)  # the sentence's end, cut upstream: marked as cut
            whole = head == sentences[i] and head.endswith(_SENTENCE_END)
            if short or not whole:  # a whole sentence ends as it may: "stood by."
                head = _without_dangling(_ELLIPSIS.sub("", head) if short else head)
            if count_units(head) >= max(shortest, min(5, max_units)) and not is_adverbial(head):
                add(head + "…" if short else head)
        # Last resort, for budgets shorter than any clause: the title, then the best complete
        # sentences, cut at the budget and marked as cut. Fewer than `n` only when the
        # source holds fewer distinct texts.
        complete = (
            s for s in (sentences[i] for i in order) if _is_complete(s) and not is_fragment(s)
        )
        for source in [title, *complete]:
            if len(out) >= n:
                break
            add(_cut(_as_headline(source), max_units))
        # A body of fragments only (a scrape cut at both ends) and no title: its best
        # fragment, marked as cut like a summary's, is a headline where none would be.
        for i in order if not out else ():
            add(_cut(_as_headline(_marked(sentences[i])), max_units))
            if out:
                break
        return out[:n]


def _candidates(text: str) -> list[str]:
    """The sentences worth ranking: the leading `MAX_SENTENCES` distinct ones with a letter.

    A piece without letters ("1.", "---", "[") is never served. A repeated sentence (a
    "Subscribe to our newsletter." in every section) is kept once: the redundancy penalty
    only lowers a copy's score, so a budget with room left would still take it again.
    """
    text = clip_chars(text, _MAX_CHARS)
    out: list[str] = []
    seen: set[str] = set()
    for sentence in iter_sentences(text):
        if not _has_letters(sentence.text):
            continue
        key = _normalised(sentence.text)
        if key in seen:
            continue
        seen.add(key)
        out.append(_as_sentence(sentence))
        if len(out) >= MAX_SENTENCES:
            break
    return out


def _as_sentence(sentence: Sentence) -> str:
    """A list item written as a sentence of its own: capitalised, ending in a full stop.

    A reader expects a summary in prose. Items copied as they stand run together ("Key points:
    - Schools get more money - Roads are repaired") and, lacking end punctuation, would count
    as fragments; as sentences they are complete candidates for summaries and headlines, and
    a lower-case item is not mistaken for a sentence cut at its start. "iPhone" stays as is,
    and so does an item's later sentence (it does not open the item).
    """
    text = sentence.text
    if not sentence.item:
        return text
    first = _FIRST_WORD.match(text)
    if sentence.first and first is not None and _is_lower(first.group(1)):
        i = first.start(1)
        text = text[:i] + text[i].upper() + text[i + 1 :]
    if not text.endswith(_SENTENCE_END):
        text = text.rstrip(" ,;:，；：、") + ("。" if has_han(text) else ".")
    return text


def _has_letters(text: str) -> bool:
    return any(ch.isalpha() for ch in text)


def _normalised(text: str) -> str:
    """`text` compared as a reader would: case, spacing and punctuation do not count."""
    return " ".join(re.findall(r"\w+", text.casefold()))


def _starts_mid_sentence(text: str) -> bool:
    """Its first word is lower-case: scraped articles often begin mid-sentence ("iPhone"
    and "eBay" start sentences too)."""
    first = _FIRST_WORD.match(text)
    return first is not None and _is_lower(first.group(1))


def _is_lower(word: str) -> bool:
    """Starts with a lower-case letter and has no capital ("the", not "iPhone" nor "3rd")."""
    return word[0].islower() and word.islower()


def _is_complete(sentence: str) -> bool:
    """A headline candidate: ends like a sentence, not in an ellipsis, and does not start like
    the middle of one."""
    return (
        sentence.endswith(_SENTENCE_END)
        and not _cut_short(sentence)
        and not _starts_mid_sentence(sentence)
    )


def _cut_short(text: str) -> bool:
    """`text` ends in an ellipsis ("Before the...", "赛后…"): an abstract or scrape cut short,
    whose last words may be any ("Before the" read as a whole headline once its dots went)."""
    return _ELLIPSIS.search(text.rstrip(_QUOTES + ")）")) is not None


def _introduces(head: str) -> bool:
    """The clauses end where they announce what follows: at a reporting verb before a comma
    or colon ("表示，", "said,", "He added:"), or at the comma after "According to ..."."""
    head = head.rstrip()
    if not head.endswith((",", "，", "、", ":", "：")):
        return False
    bare = head.rstrip(",，、 ")
    if has_han(head):
        return bare.endswith(_ZH_REPORTING)
    words = bare.split()
    return bool(words) and (
        words[-1].casefold() in _EN_REPORTING or head.casefold().startswith("according to")
    )


def _marked(sentence: str) -> str:
    """`sentence` marked "…" at the start when it starts mid-sentence (once)."""
    cut = _starts_mid_sentence(sentence) and not sentence.startswith("…")
    return "…" + sentence if cut else sentence


def _unfinished(fragment: str) -> str:
    """A fragment marked as cut at the end, and at the start when it opens with a clause
    mark (", 討論…"): a summary ending "市長周日表示," or "roads were closed," reads as
    broken. A lower-case start is marked by `_marked`."""
    bare = fragment.strip(_CLAUSE_MARKS)
    starts_cut = bare[:1] != fragment.lstrip()[:1]
    return ("…" if starts_cut else "") + bare.rstrip(_TRAILING) + "…"


def _ended(title: str) -> str:
    """A title as a summary's sentence, with the full stop a list item gains too."""
    if title.endswith(_SENTENCE_END):
        return title
    return title.rstrip(_CLAUSE_MARKS) + ("。" if has_han(title) else ".")


def _as_headline(text: str) -> str:
    """`text` as the model's headlines are served (cleanup.postprocess_headline): without a
    final full stop (an initialism keeps its dot) or the quotes that wrap all of it or are
    left unpaired at an end, nor the clause marks a cut leaves; "?", "!" and quotes that mark
    a part ("Not a “Crisis”", '"SCO" was ...') stay."""
    previous = None
    text = text.strip(_CLAUSE_MARKS)
    if _cut_short(text):  # cut upstream: marked as `_cut` marks its own cuts, not read whole
        bare = _ELLIPSIS.sub("", text.rstrip(_QUOTES + ")）"))
        text = _marked_cut(bare, bare) if _open_end_dropped(bare) else ""
    while text != previous:  # '“Storm hits coast.”' and '“中央图书馆将关闭”。' alike
        previous = text
        text = unwrap_quotes(drop_final_stop(text)).strip(_CLAUSE_MARKS)
    return text


def _leading_clauses(sentence: str, max_units: int) -> str:
    """The longest leading run of clauses of `sentence` within `max_units`, verbatim (a dash
    is kept, not dropped as a break), that closes every quote, bracket and dash aside it
    opens: '... possible "only in a State ruled by law' would leave one open; "" if none."""
    ends = [m.end() if m["after"] else m.start() for m in CLAUSE_BREAK.finditer(sentence)]
    best = ""
    for end in [*ends, len(sentence)]:
        head = sentence[:end].rstrip()
        if count_units(head) > max_units:
            break
        inside_aside = len(_DASH.findall(head)) % 2 and _DASH.search(sentence, end)
        if not _unclosed(head) and not inside_aside:
            best = head
    return best


def _unclosed(text: str) -> str:
    """The closing marks of the quotes and brackets `text` opens and leaves open, innermost
    first ('He said “we will…' -> '”'); a "'" or "’" is too often an apostrophe to count."""
    stack: list[str] = []
    for ch in text:
        if ch == '"':
            if stack and stack[-1] == '"':
                stack.pop()
            else:
                stack.append('"')
        elif ch in _CLOSER:
            stack.append(_CLOSER[ch])
        elif stack and ch == stack[-1]:
            stack.pop()
    return "".join(reversed(stack))


def _balanced(text: str) -> bool:
    """Every quote and bracket of `text` closed, and none closed that it did not open ("’"
    is too often an apostrophe to count)."""
    pairs = ((o, c) for o, c in _CLOSER.items() if c != "’")
    strays = (text.count(close) > text.count(open_) for open_, close in pairs)
    return not _unclosed(text) and not any(strays)


def _without_dangling(head: str) -> str:
    """A leading run of clauses less the clause marks and, in English, the function words
    it ends on: "... of humanitarian law and, in some cases," ends on "and", "DACA has been
    reinstated—for" on "for"; "" when it is only such words ("That", "And")."""
    head = head.rstrip(_CLAUSE_MARKS)
    while last := _LAST_WORD.search(head):
        if last[0].casefold().strip(_TRAILING + _QUOTES) not in _DANGLING:
            break
        head = head[: last.start()].rstrip(_CLAUSE_MARKS + "-–—")
    return head


def _cut(text: str, max_units: int) -> str:
    """`text` within `max_units`, marked "…" if cut. An English cut drops the function words
    it would end on ("to elect new president on…" reads as broken, "…president…" does not);
    a Chinese one ends on a whole word, not a function word ("受到李斯特菌的污…" is
    neither); quotes and brackets the cut leaves open are closed after the "…"."""
    cut = truncate_units(text, max_units, ellipsis="")
    return text if cut == text else _marked_cut(text, cut)


def _marked_cut(text: str, cut: str) -> str:
    """`cut`, a leading part of `text`, ended as a cut: on a whole word that is no function
    word, without the punctuation it ends on, then "…" and the quotes it leaves open closed."""
    cut = _open_end_dropped(cut)
    cut = _zh_word_cut(text, len(cut)) if HAN.match(cut[-1:]) else _without_dangling(cut)
    cut = _open_end_dropped(cut)
    return cut + "…" + _unclosed(cut) if _has_letters(cut) else ""


def _open_end_dropped(cut: str) -> str:
    """`cut` without the punctuation it ends on, nor a quote or bracket that opens nothing."""
    cut = cut.rstrip(_TRAILING)
    while cut[-1:] in _CLOSER or (cut[-1:] == '"' and _unclosed(cut)[:1] == '"'):
        cut = cut[:-1].rstrip(_TRAILING)
    return cut


def _zh_word_cut(text: str, end: int) -> str:
    """`text[:end]` backed off to the end of a jieba word that is not a function word."""
    window = text[: end + 8]  # enough to see the word the cut falls in
    spans: list[tuple[int, int]] = []
    at = 0
    for word in tokenize_chinese(window):
        at = window.index(word, at)
        if at + len(word) > end:
            break
        spans.append((at, at + len(word)))
        at += len(word)
    while len(spans) > 1:
        word = window[spans[-1][0] : spans[-1][1]]
        if word in _CLOSES:  # "詹森 (Kenley Jansen) 不会…": the aside stays whole
            break
        dangling = word in _ZH_DANGLING or _zh_modal(window, spans)
        if dangling or not any(ch.isalnum() for ch in word):
            spans.pop()
        else:
            break
    return text[: spans[-1][1]] if spans else text[:end]


def _zh_modal(window: str, spans: list[tuple[int, int]]) -> bool:
    """The last word is "可能" as a modal, whose verb the cut lost: "他很可能…" (he may …),
    "美国不可能…" (cannot possibly …; "不" and "很" then go too). Not the noun after "的" or
    a measure word ("…的可能", "另一种可能", the possibility, another one), nor one that ends
    its clause, before a stop or "并"/"而" ("这根本不可能并…", it is impossible and …)."""
    start, end = spans[-1]
    before = window[spans[-2][0] : spans[-2][1]]
    if window[start:end] != "可能" or before == "的" or before.endswith(("种", "種")):
        return False
    after = window[end:].lstrip()
    joins = after[:1] in ("并", "並", "而") and after[1:2] not in "不未没沒非"  # "可能并不…"
    return any(ch.isalnum() for ch in after[:1]) and not joins
