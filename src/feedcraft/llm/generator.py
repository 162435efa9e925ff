"""Run a task on a backend under the guardrails, with retry and the extractive fallback.

For each output a task needs (one summary, or `n` headlines) the model gets up to
`max_attempts` tries, each with its own seed so that a retry is not a replay; a retry asks
again only for the outputs still missing, each with its own prompt. A backend whose
`prompt_style` is "completion" gets the task's few-shot prompt for that output instead of the
chat messages, greedy on the first try unless an earlier output had the same prompt (see
`PreparedTask.completion_params`). A candidate is kept only when every guardrail passes; what
is still missing after the last attempt comes from the extractive fallback, less any sentence
with a banned term or an echoed instruction (`UNSERVABLE`). Outputs that differ only in case,
punctuation or spacing count as one (`variant_key`). A backend that errors (server down, prompt
too long) is not retried: the fallback answers at once. The result says who wrote each output,
what failed, and how many outputs nobody could give (`GenerationResult.unfilled`).
"""

from __future__ import annotations

import time
import unicodedata
from dataclasses import dataclass, field, replace

from feedcraft.embeddings.base import Encoder
from feedcraft.errors import FeedcraftError, InvalidInput
from feedcraft.llm.admission import Admission
from feedcraft.llm.base import Backend, Completion, CompletionBackend, Loadable, prompt_style
from feedcraft.llm.breaker import Breaker
from feedcraft.llm.extractive import ExtractiveSummarizer
from feedcraft.llm.guardrails import (
    CheckResult,
    Guardrails,
    check_banned_terms,
    check_injection,
)
from feedcraft.llm.safety import join_sentences
from feedcraft.llm.sentences import split_sentences
from feedcraft.llm.tasks import (
    AdCopyRequest,
    HeadlineRequest,
    PreparedTask,
    ProductDescriptionRequest,
    SummaryRequest,
    prepare_ad_copy,
    prepare_headlines,
    prepare_product_description,
    prepare_summary,
)

__all__ = ["GENERATION_REVISION", "UNSERVABLE", "GenerationResult", "Generator", "variant_key"]

#: Bumped whenever a prompt, a post-processing step, a guardrail or the fallback changes the
#: text a request yields. Caches put it in their keys, so texts an older feedcraft wrote are
#: written again rather than served. 2: the extractive fallback fills every headline slot it
#: can (before, a budget shorter than every clause gave no headline at all). 3: a sentence
#: whose first letter is lower-case (a lead cut mid-sentence upstream) is marked "…" in a
#: summary and never offered as a headline. 4: a repeated headline prompt is sampled on the
#: first attempt; instructions in ad copy's product name and audience are removed; fallback
#: sentences with a banned term are dropped; tighter number, entity, link and injection checks.
#: 5: a number with a unit must carry a unit the source gives it ("28-inch" for 28 litres);
#: the fallback takes list markers off their items and serves a repeated sentence once.
#: 6: nor is a clause of such a sentence a headline (3 missed it), and a body of fragments
#: with no title gives its best fragment, marked "…", instead of no headline.
#: 7: quotes are unwrapped only in pairs; Chinese numbering and labels are stripped; an
#: answer cut after a clause ends on its last whole sentence; sentences after "”" or "…" keep
#: their space; a retry asks only for the missing outputs; variants differing only in
#: punctuation or spacing are one; attribute text reads as prose ("Dishwasher safe: no");
#: the few-shot layout's labels inside the data lose their colon ("Article — ...").
#: 8: a name invented at a sentence start fails the entities check ("Obama said ...");
#: the fallback offers no headline that only introduces what follows ("主办方表示",
#: "Police said"); Chinese descriptions label category and tags in Chinese (类别, 标签);
#: a Traditional Chinese source gets the model's text in Traditional characters.
#: 9: an audit's fixes: reader interests and ad attributes are data in the prompt; cleanup
#: takes off lead-ins, headers, wrappers and chatter; the fallback keeps a title's "?" and
#: quotes and marks fragments as cut; stricter numbers, names and banned terms; a variant
#: inside another is a duplicate; Japanese budgets count characters; `unfilled` is cached.
#: 10: names that are also words are checked at a sentence start ("Brown said ..."); unit
#: exponents, dates and currency codes are read as such by the numbers check; fallback
#: headlines reach their main clause and mark a source's "..." as a cut; a headline's
#: dangling word is dropped in its language.
#: 11: months and powers of ten are read as such ("三月", "2019-03", "10⁶"), and a month the
#: source lacks fails; sentence-start names by a cased vocabulary ("Trump", not "Email");
#: fallback headlines skip subordinate clauses around asides and Chinese cuts on 因/但/以;
#: French, German, Spanish, Italian and Portuguese headlines lose a dangling word; after an
#: audit, months in any form and acronyms without dots are licensed ("Nov. 18", "U.S."), "US"
#: is no pronoun, a month with a day licenses no bare number, year and day ranges and times.
#: 12: ordinal words and fractions are checked ("fourth", "a third of"), footnote marks do not
#: join numbers ("2010¹"); a capitalised mid-sentence word needs a capitalised source word
#: ("Labour"), a month a month and a surname a name ("in May" / "Theresa May"); slash dates
#: read both ways; 五月天 is no month; Chinese fallback cuts drop a dangling adverb (已, 正在).
#: 13: a share in another form than the source's is the source's share ("one in four" for
#: "25%", "百分之二十五" for "1/4"); Chinese month counts are durations, not dates (连续十月).
#: 14: Chinese tenths are shares (三成 is 30%); reference marks ("2010.[1]") are no numbers;
#: Chinese fallback cuts drop a dangling modal or determiner (将会, 该); a generic word after
#: the name the source writes before it is style ("Republican Party" from "Republican party").
#: 15: a source's pair "3/5" (no date) licenses the count "3 of 5", "three of the five";
#: Chinese fallback cuts drop a final modal 可能 and more adverbs (不会, 几乎, 试图), and keep
#: a closing bracket they back off to.
#: 16: such a pair on a star scale (out of 4, 5 or 10) licenses its stars ("3 stars"); the
#: slash names of the news ("9/11", "50/50") are no pairs.
GENERATION_REVISION = 16

#: Checks whose failure a reader must never see, even from the fallback: the fallback quotes
#: the source, so its other failures (length, similarity) are the source's own and are served
#: (and reported), but a banned term or an echoed instruction is not (`_servable_sentences`
#: runs these two).
UNSERVABLE = frozenset({"banned_terms", "injection"})

_SEED_STRIDE = 1000  # attempt a of output i uses seed + a * 1000 + i


def variant_key(text: str) -> str:
    """What two outputs must differ in to count as two: `text` under NFKC, casefolded, without
    punctuation or whitespace. Headline variants that differ only by "!", "…", a double space
    or a hyphen ("storm-hit"/"storm hit") are one headline to a reader; letters of every script
    (Han included) are kept, so distinct Chinese variants stay distinct."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(
        ch for ch in folded if not ch.isspace() and not unicodedata.category(ch).startswith("P")
    )


def repeats(key: str, keys: set[str]) -> bool:
    """Whether an output of `variant_key` `key` adds nothing to those kept: the same, or
    contained in one of them or containing one ("强台风登陆" beside "强台风登陆，带来暴雨"
    is one headline cut short, not a second variant)."""
    return key in keys or any(key in k or k in key for k in keys if k)


@dataclass(frozen=True)
class GenerationResult:
    """The outputs of one task, who produced each, and what the guardrails rejected.

    `failed_checks` names the checks that rejected a model candidate (first failure first);
    `failures` has the details ("attempt 1: numbers: not in the source: 2005").
    `fallback_failed_checks` names the checks the served fallback text fails (its sentences
    that failed an `UNSERVABLE` one were dropped; the others are the source's own; a busy
    model's fallback is not checked for similarity).
    `unfilled` counts the outputs the task asked for that neither the model nor the fallback
    could give (every fallback sentence had a banned term, say): `outputs` is that much
    shorter, empty when nothing could be served, and a caller must not present that as text.
    `attempts` counts rounds of model calls, `calls` the calls themselves.
    `backend_error` is why the backend gave no answer (server down, model failed to load),
    None when it answered: such a result is the fallback's, and is not cached.
    """

    task: str
    language: str
    outputs: tuple[str, ...]
    produced_by: tuple[str, ...]
    attempts: int
    calls: int
    failed_checks: tuple[str, ...]
    failures: tuple[str, ...]
    fallback_failed_checks: tuple[str, ...]
    removed_injections: int
    seconds: float
    model_seconds: float
    completion_tokens: int
    extractive_name: str
    unfilled: int = 0
    backend_error: str | None = None

    @property
    def text(self) -> str:
        return "\n".join(self.outputs)

    @property
    def fallback(self) -> bool:
        """True when the model did not give every output: at least one came from the extractive
        fallback, or the fallback was asked for some and could not give them (`unfilled`), so
        an empty result never reads as the model's success."""
        return self.extractive_name in self.produced_by or self.unfilled > 0

    @property
    def backend(self) -> str:
        """The model that wrote the outputs, or the extractive fallback if it wrote them all."""
        for name in self.produced_by:
            if name != self.extractive_name:
                return name
        return self.extractive_name


class Generator:
    """Tasks on one backend (or none: extractive only), checked by one set of guardrails.

    `admission` bounds the model runs pending at once across the threads using this
    generator (`llm/admission`); a run beyond it is served the fallback at once. `breaker`
    refuses model calls for a while after one failed (`llm/breaker`): a run then is served the
    fallback at once, not after the dead server's timeouts.
    """

    def __init__(
        self,
        backend: Backend | None,
        encoder: Encoder,
        *,
        guardrails: Guardrails | None = None,
        extractive: ExtractiveSummarizer | None = None,
        max_attempts: int = 2,
        seed: int = 0,
        admission: Admission | None = None,
        breaker: Breaker | None = None,
    ) -> None:
        if max_attempts < 1:
            raise InvalidInput(f"must be at least 1, got {max_attempts}", field="max_attempts")
        if not 0 <= seed < 2**30:
            raise InvalidInput(f"must be in [0, 2**30), got {seed}", field="seed")
        self.backend = backend
        self.encoder = encoder
        self.guardrails = guardrails if guardrails is not None else Guardrails(encoder)
        self.extractive = extractive if extractive is not None else ExtractiveSummarizer(encoder)
        self.max_attempts = max_attempts
        self.seed = seed
        self.admission = admission if admission is not None else Admission()
        self.breaker = breaker if breaker is not None else Breaker()

    def warm(self) -> dict[str, float]:
        """Load the model's weights and the guardrails' encoders now rather than in the first
        task; returns the seconds each part took (a server logs them)."""
        seconds: dict[str, float] = {}
        start = time.perf_counter()
        if isinstance(self.backend, Loadable):
            with self.breaker.call():  # a server down at start is found once, here
                self.backend.load()
            # and its name, every cache key's part: an embedded model's is a hash of its file
            _ = self.backend.name
            seconds["model"] = time.perf_counter() - start
            start = time.perf_counter()
        self.guardrails.warm()
        self.extractive.encoder.encode(["warm"])  # the guardrails' encoder unless replaced
        seconds["guardrails"] = time.perf_counter() - start
        return seconds

    def summary(self, request: SummaryRequest) -> GenerationResult:
        return self.run(prepare_summary(request))

    def headlines(self, request: HeadlineRequest) -> GenerationResult:
        return self.run(prepare_headlines(request))

    def ad_copy(self, request: AdCopyRequest) -> GenerationResult:
        return self.run(prepare_ad_copy(request))

    def product_description(self, request: ProductDescriptionRequest) -> GenerationResult:
        return self.run(prepare_product_description(request))

    def check(
        self, task: PreparedTask, output: str, *, similarity: bool = True
    ) -> tuple[CheckResult, ...]:
        return self.guardrails.check(
            output,
            source=task.source,
            language=task.language,
            max_length=task.max_length,
            min_length=task.min_length,
            kind=task.kind,
            removed=task.removed,
            instructions=task.instructions,
            similarity=similarity,
        )

    @staticmethod
    def _call(
        backend: Backend, task: PreparedTask, attempt: int, slot: int, seed: int
    ) -> Completion:
        """One model call for output `slot`, in the backend's prompt style."""
        if task.prompts and prompt_style(backend) == "completion":
            assert isinstance(backend, CompletionBackend)
            params = replace(task.completion_params(attempt, slot), seed=seed)
            return backend.complete(task.prompts[slot % len(task.prompts)], params)
        return backend.chat(task.messages, replace(task.params, seed=seed))

    def _servable_sentences(self, task: PreparedTask, text: str) -> str:
        """`text` without its sentences that fail an unservable check ("" if none is left).
        Only those checks run per sentence (the others would encode every sentence)."""

        def servable(sentence: str) -> bool:
            banned = check_banned_terms(sentence, self.guardrails.banned_terms)
            echo = check_injection(
                sentence, source=task.source, removed=task.removed, instructions=task.instructions
            )
            return banned.passed and echo.passed

        kept = [sentence for sentence in split_sentences(text) if servable(sentence)]
        return join_sentences(kept) if kept else ""

    def _fallback(
        self, task: PreparedTask, wanted: int, keys: set[str], *, busy: bool = False
    ) -> tuple[list[str], list[str]]:
        """Up to `wanted` fallback outputs, none a variant of one in `keys` (which it extends),
        and the checks they fail, with the `UNSERVABLE` ones that cost a candidate sentences:
        those are reported even when nothing was left to serve. A `busy` model's fallback
        (never cached) skips the similarity check: its two encodes were most of the cost of
        a busy answer, and the text quotes the source."""
        outputs: list[str] = []
        failed: list[str] = []
        for candidate in task.fallback(self.extractive):
            if len(outputs) >= wanted:
                break
            results = self.check(task, candidate, similarity=not busy)
            if any(not r.passed and r.name in UNSERVABLE for r in results):
                failed.extend(
                    r.name
                    for r in results
                    if not r.passed and r.name in UNSERVABLE and r.name not in failed
                )
                candidate = self._servable_sentences(task, candidate)
                results = self.check(task, candidate, similarity=not busy) if candidate else ()
            key = variant_key(candidate)
            if not candidate or repeats(key, keys):
                continue
            for r in results:
                if not r.passed and r.name not in failed:
                    failed.append(r.name)
            outputs.append(candidate)
            keys.add(key)
        return outputs, failed

    def run(self, task: PreparedTask) -> GenerationResult:
        start = time.perf_counter()
        ask = _Asking()
        backend = self.backend
        busy = False
        if backend is not None:
            with self.admission.enter() as admitted:
                if admitted:
                    self._ask(backend, task, ask)
                else:  # the fallback below answers at once, outside the bound
                    busy = True
                    ask.backend_error = self.admission.busy_message()
                    ask.reject(1, "backend", ask.backend_error)
        answers, keys, failures, failed = ask.answers, ask.keys, ask.failures, ask.failed

        outputs = [answers[slot] for slot in sorted(answers)]
        produced_by = [backend.name] * len(outputs) if backend is not None else []
        fallback_failed: list[str] = []
        if len(outputs) < task.n_outputs:
            with self.admission.fallback():
                wanted = task.n_outputs - len(outputs)
                extra, fallback_failed = self._fallback(task, wanted, keys, busy=busy)
            outputs += extra
            produced_by += [self.extractive.name] * len(extra)
        unfilled = task.n_outputs - len(outputs)
        if unfilled:
            why = ", ".join(fallback_failed) or "no candidate"
            failures.append(f"fallback: {unfilled} of {task.n_outputs} outputs unfilled: {why}")

        return GenerationResult(
            task=task.task,
            language=task.language,
            outputs=tuple(outputs),
            produced_by=tuple(produced_by),
            attempts=ask.attempts,
            calls=ask.calls,
            failed_checks=tuple(failed),
            failures=tuple(failures),
            fallback_failed_checks=tuple(fallback_failed),
            removed_injections=len(task.removed),
            seconds=time.perf_counter() - start,
            model_seconds=ask.model_seconds,
            completion_tokens=ask.tokens,
            extractive_name=self.extractive.name,
            unfilled=unfilled,
            backend_error=ask.backend_error,
        )

    def _ask(self, backend: Backend, task: PreparedTask, ask: _Asking) -> None:
        """The model's attempts at every output slot, each answer checked; what it kept and
        why it rejected the rest go into `ask`."""
        for attempt in range(self.max_attempts):
            ask.attempts += 1
            # Only the slots still missing are asked again, each with its own prompt: asking a
            # slot that succeeded could only give a duplicate, and the missing one no retry.
            for slot in [s for s in range(task.n_outputs) if s not in ask.answers]:
                seed = self.seed + attempt * _SEED_STRIDE + slot
                try:
                    with self.breaker.call():
                        completion = self._call(backend, task, attempt, slot, seed)
                except FeedcraftError as exc:
                    ask.backend_error = str(exc)
                    ask.reject(attempt + 1, "backend", ask.backend_error)
                    return
                ask.calls += 1
                ask.tokens += completion.completion_tokens or 0
                ask.model_seconds += completion.seconds
                candidates = task.postprocess(completion.text)
                if not candidates:
                    ask.reject(attempt + 1, "format", "empty after post-processing")
                    continue
                candidate = candidates[0]
                key = variant_key(candidate)
                if repeats(key, ask.keys):
                    ask.reject(attempt + 1, "format", "duplicate of an earlier output")
                    continue
                bad = [r for r in self.check(task, candidate) if not r.passed]
                for r in bad:
                    ask.reject(attempt + 1, r.name, r.detail)
                if not bad:
                    ask.answers[slot] = candidate
                    ask.keys.add(key)
            if len(ask.answers) >= task.n_outputs:
                return


@dataclass
class _Asking:
    """What one run's model calls gave: accepted answers by output slot, the variant keys of
    every output kept so far, and the rejections (each check's name once in `failed`)."""

    answers: dict[int, str] = field(default_factory=dict)
    keys: set[str] = field(default_factory=set)
    failures: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    attempts: int = 0
    calls: int = 0
    tokens: int = 0
    model_seconds: float = 0.0
    backend_error: str | None = None

    def reject(self, attempt: int, name: str, detail: str) -> None:
        self.failures.append(f"attempt {attempt}: {name}: {detail}")
        if name not in self.failed:
            self.failed.append(name)
