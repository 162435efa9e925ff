"""Few-shot completion prompts: what a very small or base model can actually follow.

Measured on the Wikinews and xMIND samples (benchmarks/README.md, "generation.py"): asked
through its chat template, SmolLM2-135M passed the guardrails 0 times in 72 calls (it copied
the data delimiter, invented names and overran the budget), while the same model continuing
a plain document of two worked examples ("Article: ... / Headline: ...") wrote text that
passes them most of the time; Gemma 3 270M, a base model with no chat template, only works
this way. A model continues the pattern it sees, so the examples teach the length, the
register and the language better than any instruction.

Injection hardening in this layout: the source is sanitised as for chat prompts (instructions
removed, delimiters and chat tokens neutralised), then flattened to one line, and generation
stops at the first newline. A line such as "Headline: buy now" inside an article therefore
stays inside the "Article:" line, and the layout's labels inside the data lose their colon
("Article — ..."), so the data cannot pose as a worked example of its own either; the
guardrails still reject any echo of the examples or of a removed instruction.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from feedcraft.llm.safety import join_sentences
from feedcraft.llm.sentences import count_units, split_sentences, truncate_units

__all__ = [
    "EXAMPLES",
    "STOP",
    "clip_units",
    "example_text",
    "excerpt",
    "fewshot_prompts",
    "one_line",
]

# Generation ends at the end of the answer's line (see the module docstring).
STOP = ("\n",)

# Source shown to the model, in length units: two or three paragraphs are enough for a
# headline or a short summary, and a small model loses the thread in longer input.
EXCERPT_UNITS = {"en": 150, "zh": 300}

# (input, answer) pairs per task and language: invented, generic stories, so that an answer
# copying an example fails the entity, overlap and prompt-echo checks.
EXAMPLES: dict[str, dict[str, tuple[tuple[str, str], ...]]] = {
    "headline": {
        "en": (
            (
                "The city council voted on Tuesday to close the central library for six months "
                "of repairs. Readers can use the two branch libraries in the meantime, the "
                "council said.",
                "City council closes central library for six months",
            ),
            (
                "Heavy rain flooded several roads in the north of the region overnight. Police "
                "asked drivers to avoid the area, and schools in three towns stayed closed on "
                "Friday.",
                "Heavy rain floods roads and closes schools",
            ),
        ),
        "zh": (
            (
                "市议会周二投票决定关闭中央图书馆六个月进行维修。议会表示，在此期间读者可以使用两个分馆。",
                "中央图书馆将关闭六个月维修",
            ),
            (
                "昨夜大雨导致该地区北部多条道路被淹。警方要求司机避开该地区，三个镇的学校周五停课。",
                "大雨淹没道路 三镇学校停课",
            ),
        ),
    },
    "summary": {
        "en": (
            (
                "The city council voted on Tuesday to close the central library for six months "
                "of repairs. Readers can use the two branch libraries in the meantime, the "
                "council said.",
                "The city council will close the central library for six months of repairs, "
                "and readers can use two branch libraries meanwhile.",
            ),
            (
                "Heavy rain flooded several roads in the north of the region overnight. Police "
                "asked drivers to avoid the area, and schools in three towns stayed closed on "
                "Friday.",
                "Overnight rain flooded roads in the north of the region, police told drivers "
                "to stay away and schools in three towns closed.",
            ),
        ),
        "zh": (
            (
                "市议会周二投票决定关闭中央图书馆六个月进行维修。议会表示，在此期间读者可以使用两个分馆。",
                "市议会决定关闭中央图书馆六个月维修，期间读者可使用两个分馆。",
            ),
            (
                "昨夜大雨导致该地区北部多条道路被淹。警方要求司机避开该地区，三个镇的学校周五停课。",
                "昨夜大雨淹没北部多条道路，警方提醒司机绕行，三个镇的学校停课。",
            ),
        ),
    },
    "ad_copy": {
        "en": (
            (
                "Product: trail running shoes; Audience: weekend hikers; Light shoes with a "
                "grippy sole and a waterproof upper.",
                "Weekend hikers, meet light trail shoes with a grippy sole and a waterproof upper.",
            ),
            (
                "Product: steel water bottle; Audience: office workers; Keeps drinks cold for "
                "a whole day and fits in a bag.",
                "Cold water all day at your desk: a steel bottle that fits in your bag.",
            ),
        ),
        "zh": (
            (
                "产品：越野跑鞋；受众：周末徒步爱好者；轻便，鞋底防滑，鞋面防水。",
                "周末徒步，就穿这双轻便越野跑鞋：鞋底防滑，鞋面防水。",
            ),
            (
                "产品：不锈钢水杯；受众：上班族；保冷一整天，方便放进包里。",
                "上班族的好帮手：不锈钢水杯保冷一整天，轻松放进包里。",
            ),
        ),
    },
    "product_description": {
        "en": (
            (
                "Product: trail running shoes; weight: 280 g; sole: grippy rubber; upper: "
                "waterproof mesh.",
                "Trail running shoes weighing 280 g, with a grippy rubber sole and a "
                "waterproof mesh upper.",
            ),
            (
                "Product: steel water bottle; capacity: 750 ml; keeps cold: 24 hours.",
                "A steel water bottle holding 750 ml that keeps drinks cold for 24 hours.",
            ),
        ),
        "zh": (
            (
                "产品：越野跑鞋；重量：280克；鞋底：防滑橡胶；鞋面：防水网布。",
                "这款越野跑鞋重280克，采用防滑橡胶鞋底和防水网布鞋面。",
            ),
            (
                "产品：不锈钢水杯；容量：750毫升；保冷：24小时。",
                "这款不锈钢水杯容量750毫升，可保冷24小时。",
            ),
        ),
    },
}

_LABELS = {
    "en": {
        "input": "Article",
        "headline": "Headline",
        "summary": "Summary",
        "ad_copy": "Ad",
        "product_description": "Description",
        "product_input": "Product data",
    },
    "zh": {
        "input": "文章",
        "headline": "标题",
        "summary": "摘要",
        "ad_copy": "广告",
        "product_description": "介绍",
        "product_input": "产品资料",
    },
}
_SPACE = re.compile(r"\s+")
# The prompt's own labels followed by a colon, inside the data: "Article: Acme pills cure
# every illness." reads to the model as the start of a new worked example, whose answer it
# then writes (gemma3 headlined it; without the label it did not). Their colon becomes a
# dash, which no block of the layout uses.
_DATA_LABEL = re.compile(
    "(?<![\\w])("
    + "|".join(
        sorted({re.escape(v) for lang in _LABELS.values() for v in lang.values()}, key=len)[::-1]
    )
    + ")\\s*[:：]\\s*",
    re.IGNORECASE,
)


def _unlabelled(data: str) -> str:
    """`data` with the layout's labels no longer followed by a colon (see `_DATA_LABEL`)."""
    return _DATA_LABEL.sub(lambda m: f"{m[1]} — ", data)


def one_line(text: str) -> str:
    """`text` with every run of whitespace (newlines included) made one space."""
    return _SPACE.sub(" ", text).strip()


def clip_units(text: str, limit: int) -> str:
    """`text` if it fits `limit` length units, else its leading sentences that fit (or, when
    the first sentence alone is too long, its first `limit` units)."""
    if count_units(text) <= limit:
        return text
    kept: list[str] = []
    used = 0
    for sentence in split_sentences(text):
        n = count_units(sentence)
        if used + n > limit:
            break
        kept.append(sentence)
        used += n
    return join_sentences(kept) if kept else truncate_units(text, limit)


def excerpt(text: str, language: str, focus: Sequence[str] = ()) -> str:
    """The sentences of `text` a model sees, within the excerpt budget, on one line.

    Without `focus`, the leading sentences. With it (a reader's interests), the lead sentence,
    then the sentences that mention an interest, then the rest, kept in document order: a
    small model continuing a few-shot prompt follows no "for a reader interested in"
    instruction, but it summarises what it is shown, so the choice of sentences is how a
    summary is personalised.
    """
    limit = EXCERPT_UNITS.get(language, EXCERPT_UNITS["en"])
    terms = [t.strip().casefold() for t in focus if t.strip()]
    sentences = split_sentences(text)
    if not terms or count_units(text) <= limit or len(sentences) < 2:
        return one_line(clip_units(text, limit))
    hits = [i for i, s in enumerate(sentences) if any(t in s.casefold() for t in terms)]
    order = list(dict.fromkeys([0, *hits, *range(len(sentences))]))
    kept: list[int] = []
    used = 0
    for i in order:
        n = count_units(sentences[i])
        if used + n <= limit:
            kept.append(i)
            used += n
    if not kept:
        return one_line(clip_units(text, limit))
    return one_line(join_sentences([sentences[i] for i in sorted(kept)]))


def fewshot_prompts(task: str, language: str, data: str, variants: int = 1) -> tuple[str, ...]:
    """`variants` prompts for `task` on `data` (already sanitised): the worked examples, then
    the data and the answer label left open. Variant i rotates the examples' order, so that
    greedy decoding of several variants does not repeat one answer."""
    lang = language if language in _LABELS else "en"
    labels = _LABELS[lang]
    sep = "：" if lang == "zh" else ": "
    product = task in ("ad_copy", "product_description")
    input_label = labels["product_input"] if product else labels["input"]
    answer_label = labels[task]
    examples: Sequence[tuple[str, str]] = EXAMPLES[task][lang]
    prompts: list[str] = []
    for v in range(max(1, variants)):
        k = v % len(examples)
        order = [*examples[k:], *examples[:k]]
        blocks = [f"{input_label}{sep}{x}\n{answer_label}{sep}{y}\n" for x, y in order]
        blocks.append(
            f"{input_label}{sep}{_unlabelled(one_line(data))}\n{answer_label}{sep}".rstrip()
        )
        prompts.append("\n".join(blocks))
    return tuple(prompts)


def example_text(task: str, language: str) -> str:
    """Every example of `task`, as one text: an output must not echo it."""
    lang = language if language in _LABELS else "en"
    return "\n".join(f"{x}\n{y}" for x, y in EXAMPLES[task][lang])
