"""One article in, one validated scan out: a single structured call (instructor + pydantic) per article."""

from __future__ import annotations

import hashlib
import re
import threading
from dataclasses import dataclass, field
from typing import Any, cast

import httpx2
import instructor
import openai
from instructor.core import InstructorRetryException
from instructor.core.exceptions import IncompleteOutputException
from instructor.core.hooks import Hooks
from pydantic import ValidationError
from tenacity import Retrying, retry_if_exception, stop_after_attempt

from extractor.errors import (
    BudgetExceededError,
    InvalidOutputError,
    InvalidUsageError,
    ModelDeadlineError,
    ModelError,
)
from extractor.extract._answer import CompactScanAnswer, ScanAnswer, SignalRow, problems, schema_names
from extractor.extract._backends import Backend, resolve
from extractor.extract._budget import RunBudget, usage_counts
from extractor.extract._deadline import deadline_client, deadline_passed
from extractor.extract._grounding import Grounder, normalize
from extractor.extract._injection import strip_injections
from extractor.extract._language import detect, name
from extractor.extract._local import LocalServer
from extractor.extract._prompt import PromptTemplate
from extractor.extract._quotes import candidate_quotes
from extractor.extract._retry import api_error, is_quota, is_transient, waiter
from extractor.extract._settings import LLMSettings
from extractor.extract._tokens import Tokenizer, cut, default_tokenizer
from extractor.models import ENTRY_TABLES, Entry, Evidence, Provenance, Scan, Signal, Usage, fold_cell
from extractor.rules import check_scan, copied_names, name_key, schema_identifiers


@dataclass(frozen=True)
class ExtractionResult:
    scan: Scan
    provenance: Provenance


@dataclass
class _Call:
    """What one article's extraction spent and received, across every attempt (hooks fill it)."""

    budget: RunBudget
    max_tokens: int
    attempts: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    last_text: str | None = None
    #: Every attempt's answer text, in order: when the re-asks run out, the best keepable one is kept.
    texts: list[str] = field(default_factory=list)
    finish_reason: str | None = None
    model: str | None = None
    usage_error: InvalidUsageError | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def on_kwargs(self, *args: Any, **kwargs: Any) -> None:
        with self.lock:
            self.attempts += 1

    def on_response(self, response: Any) -> None:
        # Fires once per attempt with that attempt's own usage (before instructor sums it): we sum here, so
        # re-asks and later-failed attempts are all counted, and the run budget sees them at once.
        try:
            p, c = usage_counts(getattr(response, "usage", None))
        except InvalidUsageError as exc:  # hooks cannot raise (instructor only warns): kept for extract()
            p = c = 0
            self.usage_error = exc
        text, finish = _answer_text(response)
        if c >= self.max_tokens:
            # llama-cpp-python reports a forced tool call cut at max_tokens as "tool_calls", not "length".
            finish = "length"
        with self.lock:
            self.prompt_tokens += p
            self.completion_tokens += c
            self.last_text = text
            if text:
                self.texts.append(text)
            self.finish_reason = finish
            self.model = getattr(response, "model", None) or self.model
        self.budget.charge(p, c)

    def check_usage(self) -> None:
        """Refuses an answer whose usage could not be counted: a budget fed with it would not hold."""
        if self.usage_error is not None:
            raise InvalidUsageError(self.usage_error.message, errors=[self.usage_error.message], **self.failure())

    def usage(self) -> dict[str, int]:
        return {"prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens}

    def failure(self) -> dict[str, Any]:
        return {"attempts": self.attempts, "usage": self.usage(), "last_output": self.last_text}


def _answer_text(response: Any) -> tuple[str | None, str | None]:
    try:
        choice = response.choices[0]
    except (AttributeError, IndexError, TypeError):
        return None, None
    message = choice.message
    calls = getattr(message, "tool_calls", None) or []
    text = calls[0].function.arguments if calls else message.content
    return text, choice.finish_reason


class Extractor:
    """Thread-safe: one instance serves every thread of a run and shares its budget."""

    def __init__(
        self,
        settings: LLMSettings,
        backend: Backend,
        *,
        budget: RunBudget | None = None,
        tokenizer: Tokenizer | None = None,
        template: PromptTemplate | None = None,
    ) -> None:
        self.settings = settings
        self.backend = backend
        self.template = template or PromptTemplate(name=backend.prompt)
        self.tokenizer = tokenizer or default_tokenizer()
        self.max_input_tokens = settings.max_input_tokens or backend.max_input_tokens
        self.max_output_tokens = settings.max_output_tokens or backend.max_output_tokens
        sizes = {"full": ScanAnswer, "compact": CompactScanAnswer}
        self.answer_model = sizes[settings.answer_size] if settings.answer_size else backend.answer_model
        quotes = settings.quotes or ("article" if backend.quote_choices else "free")
        self.quote_choices = quotes == "article" and issubclass(self.answer_model, CompactScanAnswer)
        self.sampling = settings.sampling if settings.sampling is not None else backend.sampling
        self.budget = budget or RunBudget(
            max_tokens=settings.budget_tokens,
            max_usd=settings.budget_usd,
            price=backend.price(settings.prices),
        )
        # Every request gets a wall-clock deadline of `timeout` seconds (replay and recording transports aside).
        http_client = (
            httpx2.Client(transport=backend.transport) if backend.transport is not None
            else deadline_client(settings.timeout)
        )  # fmt: skip
        self._openai = openai.OpenAI(
            base_url=backend.base_url,
            api_key=backend.api_key,
            max_retries=0,  # transient failures are retried in one place: the tenacity layer in extract()
            timeout=settings.timeout,
            http_client=http_client,
        )
        self._client = instructor.from_openai(self._openai, mode=backend.mode)
        self._echo: frozenset[str] | None = None

    @property
    def model(self) -> str:
        """The model asked for (a server may report a more precise name: see `Provenance.model`)."""
        return self.backend.model

    @property
    def prompt_version(self) -> str:
        return self.template.version

    def close(self) -> None:
        self._openai.close()
        self.backend.close()

    def __enter__(self) -> Extractor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def extract(
        self, text: str, *, url: str, origin: str, origin_url: str, title: str | None = None
    ) -> ExtractionResult:
        # Sentences written for the model, not the reader, never reach it; the sidecar lists them.
        text, removed = strip_injections(text)
        article, truncated = cut(text, self.max_input_tokens, self.tokenizer)
        language = self.settings.language or detect(article)
        answer_model: type[ScanAnswer] = self.answer_model
        if self.quote_choices:
            answer_model = cast(type[CompactScanAnswer], self.answer_model).with_quotes(candidate_quotes(article))
        prompt = self.template.render(
            article, language=name(language) if language else "the article's language", title=title,
            model=answer_model,
        )
        grounder = Grounder(article)
        # A run of words shared with the instructions is an echo of the prompt, unless the article has it too;
        # so is a name from the schema (a small model named its rows after the tool).
        in_article = normalize(article)
        echo = frozenset(s for s in self.echo if s not in in_article)
        echo |= schema_identifiers(n for n in schema_names(answer_model) if n.casefold() not in in_article)
        context = {"grounder": grounder, "language": language, "grounding": True, "echo": echo}
        estimate = sum(self.tokenizer.count(m["content"]) for m in prompt.messages)
        call = _Call(self.budget, self.max_output_tokens)
        self.budget.check(estimate)

        hooks = Hooks()
        hooks.on("completion:kwargs", call.on_kwargs)
        hooks.on("completion:response", call.on_response)

        def before_retry(_: Any) -> None:
            call.check_usage()
            self.budget.check(estimate)

        retrying = Retrying(
            retry=retry_if_exception(is_transient),
            stop=stop_after_attempt(self.settings.transient_retries + 1),
            wait=waiter(self.settings.max_retry_wait),
            before_sleep=before_retry,
            reraise=True,
        )
        try:
            answer: ScanAnswer = retrying(
                self._client.chat.completions.create,
                model=self.backend.model,
                messages=prompt.messages,
                response_model=answer_model,
                max_retries=self.backend.reasks if self.settings.reasks is None else self.settings.reasks,
                context=context,
                hooks=hooks,
                max_tokens=self.max_output_tokens,
                temperature=self.settings.temperature,
                **({"extra_body": self.sampling} if self.sampling else {}),
            )
        except BudgetExceededError as exc:
            raise BudgetExceededError(exc.message, **call.failure()) from exc
        except IncompleteOutputException as exc:
            kept = self._best_answer(call, context, answer_model)
            if kept is None:
                raise InvalidOutputError(
                    f"the answer was cut at the output limit ({self.max_output_tokens} tokens)",
                    errors=[self._cut_error()],
                    **call.failure(),
                ) from exc
            answer = kept
        except InstructorRetryException as exc:
            cause = api_error(exc)
            if isinstance(cause, openai.APIError):
                raise self._model_error(cause, call) from exc
            answer = self._last_chance(exc, call, context, answer_model)
        except openai.APIError as exc:
            raise self._model_error(exc, call) from exc
        call.check_usage()

        notes = problems(answer, grounder, language=language, grounding=False, echo=echo).soft
        return self._result(answer, call, prompt_version=prompt.version, prompt_hash=prompt.hash,
                            grounder=grounder, truncated=truncated, article=article, url=url, origin=origin,
                            origin_url=origin_url, notes=notes, removed=removed)  # fmt: skip

    @property
    def echo(self) -> frozenset[str]:
        """The prompt's word runs (see `PromptTemplate.echo`), computed once."""
        if self._echo is None:
            self._echo = self.template.echo()
        return self._echo

    def _best_answer(
        self, call: _Call, context: dict[str, Any], answer_model: type[ScanAnswer]
    ) -> ScanAnswer | None:
        """Of every answer received, the best one that breaks no hard rule but grounding or a row copied into every
        secondary table (its unbacked rows and the copies are then left out of the scan and kept in the sidecar):
        the most rows backed by the article, the latest on a tie. None when no answer is keepable. So a re-ask
        never loses a keepable answer."""
        grounder: Grounder = context["grounder"]
        best: tuple[int, int, ScanAnswer] | None = None
        for i, text in enumerate(call.texts):
            try:
                answer = answer_model.model_validate_json(text, context={**context, "grounding": False, "repairs": True})
            except ValidationError:
                continue
            grounded = sum(grounder.check(row.evidence).verified for _, row in answer.rows())
            if best is None or (grounded, i) > best[:2]:
                best = (grounded, i, answer)
        return best[2] if best is not None else None

    def _cut_error(self) -> str:
        return (f"finish_reason=length: the answer was cut at the output limit ({self.max_output_tokens} tokens, "
                "EXTRACTOR_MAX_OUTPUT_TOKENS)")  # fmt: skip

    def _model_error(self, exc: openai.APIError, call: _Call) -> ModelError:
        if deadline_passed(exc):
            return ModelDeadlineError(
                f"the model server gave no complete answer within the {self.settings.timeout:g} s deadline "
                "(EXTRACTOR_TIMEOUT)", transient=True, **call.failure(),
            )  # fmt: skip
        transient = is_transient(exc)
        status = getattr(exc, "status_code", None)
        what = "quota exhausted (insufficient_quota)" if is_quota(exc) else str(exc)
        prefix = f"model server error {status}" if status else "model server unreachable"
        tail = f" after {call.attempts} attempts" if transient else ""
        return ModelError(f"{prefix}{tail}: {what}", transient=transient, errors=[what], **call.failure())

    def _last_chance(
        self, exc: InstructorRetryException, call: _Call, context: dict[str, Any], answer_model: type[ScanAnswer]
    ) -> ScanAnswer:
        """Re-asks are spent. Keep the best answer that breaks only the grounding rule (`_best_answer`): its
        unbacked rows are moved out of the scan and kept, flagged, in the sidecar. Otherwise, an invalid output."""
        errors = _errors(exc)
        if call.finish_reason == "length":
            errors.append(self._cut_error())
        kept = self._best_answer(call, context, answer_model)
        if kept is not None:
            return kept
        raise InvalidOutputError(
            f"the model's answer broke the rules after {call.attempts} attempts: {'; '.join(errors)[:300]}",
            errors=errors,
            **call.failure(),
        ) from exc

    def _result(
        self, answer: ScanAnswer, call: _Call, *, prompt_version: str, prompt_hash: str, grounder: Grounder,
        truncated: bool, article: str, url: str, origin: str, origin_url: str, notes: list[str], removed: list[str],
    ) -> ExtractionResult:  # fmt: skip
        evidence: list[Evidence] = []
        tables: dict[str, list[Any]] = {t: [] for t in ("signals", "concerns", "behaviors", "technologies", "issues")}
        # A row copied into every secondary table (kept only from a best answer, `_best_answer`) stays in the
        # first; its copies are left out of the scan and kept in the sidecar, like rows without evidence.
        copied = copied_names({t: [r.name for r in getattr(answer, t)] for t in tables})
        notes = list(notes)
        placed: set[str] = set()
        for table, row in answer.rows():
            match = grounder.check(row.evidence)
            key = name_key(row.name)
            copy = table in ENTRY_TABLES and key in copied and key in placed
            if table in ENTRY_TABLES and key in copied:
                placed.add(key)
            kept = None if match.verified and not copy else row.model_dump(exclude={"evidence"})
            evidence.append(Evidence(table=table, name=fold_cell(row.name), quote=row.evidence,
                                     verified=match.verified, score=match.score, row=kept))  # fmt: skip
            if copy:
                notes.append(f"{row.name!r} was copied into every secondary table: left out of {table}")
                continue
            if not match.verified:
                continue  # never presented as backed by the article: only in the sidecar, flagged
            if isinstance(row, SignalRow):
                tables[table].append(Signal(name=row.name, description=row.description, change=row.change,
                                            ten_year=row.ten_year, driving_force=row.driving_force,
                                            relevancy=row.relevancy))  # fmt: skip
            else:
                tables[table].append(Entry(name=row.name, description=row.description))
        if not tables["signals"]:
            raise InvalidOutputError(
                "no signal is backed by a quote from the article",
                errors=[f"signals[{i}] {e.name!r}: evidence not found" for i, e in enumerate(evidence, 1)
                        if e.table == "signals"],
                **call.failure(),
            )
        try:
            scan = Scan(
                title=fold_cell(answer.title), origin=origin, origin_url=origin_url, url=url,
                keywords=[k.strip() for k in answer.keywords if k.strip()],
                themes=[t.strip() for t in answer.themes if t.strip()],
                category=answer.category, type=answer.type, summary=fold_cell(answer.summary),
                signals=tables["signals"], concerns=tables["concerns"], behaviors=tables["behaviors"],
                technologies=tables["technologies"], issues=tables["issues"],
            )  # fmt: skip
        except ValidationError as exc:
            errors = [e["msg"] for e in exc.errors()]
            raise InvalidOutputError(f"the answer does not make a valid scan: {'; '.join(errors)}", errors=errors,
                                     **call.failure()) from exc  # fmt: skip
        if copied:  # the row counts noted were the answer's: say the scan's
            notes = [n for n in notes if not _ROW_COUNT.match(n)]
            notes += [n for n in check_scan(scan, format_problems=False).soft if _ROW_COUNT.match(n)]
        provenance = Provenance(
            content_hash="sha256:" + hashlib.sha256(article.encode("utf-8")).hexdigest(),
            truncated=truncated,
            backend=self.backend.name,
            model=call.model or self.backend.model,
            prompt_version=prompt_version,
            prompt_hash=prompt_hash,
            usage=Usage(**call.usage()),
            attempts=call.attempts,
            evidence=evidence,
            notes=notes,
            removed=removed,
        )
        return ExtractionResult(scan=scan, provenance=provenance)


_ROW_COUNT = re.compile(r"(?:signals|concerns|behaviors|technologies|issues) has \d+ rows?;")


def _errors(exc: InstructorRetryException) -> list[str]:
    cause = exc.__cause__
    if isinstance(cause, ValidationError):
        out: list[str] = []
        for e in cause.errors():
            loc = ".".join(str(p) for p in e.get("loc", ()))
            msg = str(e.get("msg", "")).removeprefix("Value error, ")
            out += [f"{loc}: {m}" if loc else m for m in msg.split("; ")]
        return out
    return [str(cause or exc)]


def make_extractor(
    settings: LLMSettings | None = None,
    *,
    local_server: LocalServer | None = None,
    budget: RunBudget | None = None,
) -> Extractor:
    """The extractor the settings (or `EXTRACTOR_*`) describe. Raises ConfigError when no backend fits."""
    settings = settings or LLMSettings()
    backend = resolve(settings, local_server=local_server)
    try:
        return Extractor(settings, backend, budget=budget)
    except BaseException:
        backend.close()
        raise


def describe(result: ExtractionResult) -> str:
    """One line for logs: what the call cost and how much of it is grounded."""
    p = result.provenance
    verified = sum(e.verified for e in p.evidence)
    usage = p.usage or Usage()
    return (f"{p.model} via {p.backend}: {p.attempts} attempts, {usage.prompt_tokens}+{usage.completion_tokens} "
            f"tokens, {verified}/{len(p.evidence)} rows grounded" + (" (truncated)" if p.truncated else ""))  # fmt: skip


__all__ = ["ExtractionResult", "Extractor", "describe", "make_extractor"]
