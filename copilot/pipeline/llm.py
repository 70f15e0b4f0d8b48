"""The chat-model seam and the LLM drafter.

:class:`ChatModel` is one verb, ``complete``. :class:`LangChainChatModel` implements it with
LangChain's ``ChatOpenAI`` against any OpenAI-compatible endpoint, with the SDK's own retries
and timeout (configured, not re-implemented); ``copilot.testing.ScriptedChatModel`` implements
it for tests. LangChain types never leave this module.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal, Protocol, TypeVar

from pydantic import BaseModel, Field, ValidationError

from copilot.pipeline.callcontext import calling
from copilot.pipeline.drafter import (
    DraftRequest,
    DraftResult,
    OnDelta,
    first_name,
    order_fact_lines,
)
from copilot.pipeline.offline import source_quote
from copilot.pipeline.pii import Masker
from copilot.pipeline.tokens import Budget, cost_usd, count_messages, count_text
from copilot.types import Citation, Usage
from knowledge.errors import SouffleurError
from knowledge.text import content_terms, sentences

PROMPTS = Path(__file__).parent / "prompts"
Message = dict[str, str]


class LLMUnavailable(SouffleurError):
    """The LLM could not give a usable answer; ``kind`` says why (timeout, rate_limited, ...)."""

    def __init__(self, kind: str, detail: str = "") -> None:
        self.kind = kind
        # what the failed draft's calls cost (counted, or estimated for the prompt of a call
        # the server received but did not answer usably); None when nothing was spent
        self.usage: Usage | None = None
        super().__init__(
            f"LLM unavailable ({kind}){': ' + detail if detail else ''}.",
            "The offline draft is shown instead.",
        )


@dataclass
class Completion:
    text: str
    model: str
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    ttft_ms: float | None = None


class ChatModel(Protocol):
    name: str

    def complete(
        self, messages: list[Message], *, on_text: OnDelta | None = None, json_mode: bool = True
    ) -> Completion:
        """The model's answer; ``json_mode=False`` asks for plain text (no response_format)."""
        ...


@dataclass(frozen=True)
class Prompt:
    name: str
    template: str

    @property
    def version(self) -> str:
        return f"{self.name}@{hashlib.sha256(self.template.encode()).hexdigest()[:8]}"

    def render(self, **values: object) -> str:
        return self.template.format(**values)


def load_prompt(name: str, folder: Path = PROMPTS) -> Prompt:
    return Prompt(name, (folder / f"{name}.md").read_text(encoding="utf-8"))


@dataclass(frozen=True)
class PromptRules:
    """Short rules a prompt receives by option ("length.shorter = 1 to 2 sentences"), kept in
    a prompt file so that they are in the prompt version like the prompt itself."""

    prompt: Prompt

    def __getitem__(self, key: str) -> str:
        for line in self.prompt.template.splitlines():
            name, sep, text = line.partition(" = ")
            if sep and not line.startswith("#") and name.strip() == key:
                return text.strip()
        raise KeyError(f"{self.prompt.name}.md has no rule {key!r}")


ReplyFormat = Literal["json", "plain", "auto"]
# failures that say the server cannot give a JSON answer (not that it is down or slow)
JSON_FAILURES = ("bad_output", "json_unsupported")


@dataclass(frozen=True)
class FormatRules:
    """How the model is asked to answer: the rule at the end of the system prompt and the
    reminder in the user message (one prompt file per format, so both are in its version)."""

    prompt: Prompt

    @property
    def rule(self) -> str:
        return self.prompt.template.split("\n---\n", 1)[0].strip()

    @property
    def reminder(self) -> str:
        return self.prompt.template.split("\n---\n", 1)[1].strip()


# ------------------------------------------------------------------------- LangChain adapter


class LangChainChatModel:
    """``ChatOpenAI`` pointed at ``base_url``; errors become :class:`LLMUnavailable`."""

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        model: str,
        timeout_s: float = 30.0,
        max_retries: int = 2,
        temperature: float = 0.2,
        max_tokens: int = 700,
        json_mode: bool = True,
        reply_limit_field: str = "max_completion_tokens",
        seed: int | None = None,
    ) -> None:
        from langchain_openai import ChatOpenAI

        self.name = model
        # json_mode: the server honours response_format=json_object (llama.cpp, vLLM, Ollama and
        # OpenAI do; set SOUFFLEUR_LLM_JSON_MODE=false for one that refuses it)
        self.json_mode = json_mode

        def client(json_object: bool) -> Any:
            # Extra fields go in the request body, outside LangChain's own handling: with
            # response_format among its model_kwargs LangChain streams through the SDK's
            # parse helper, which raises on finish_reason "length" (every llama.cpp call with
            # a length limit failed that way).
            body: dict[str, Any] = {}
            if json_object:
                body["response_format"] = {"type": "json_object"}
            if reply_limit_field == "max_tokens":
                # Servers that ignore max_completion_tokens (llama.cpp, older vLLM): the legacy field.
                body["max_tokens"] = max_tokens
            return ChatOpenAI(
                model=model,
                base_url=base_url,
                api_key=api_key,
                timeout=timeout_s,
                max_retries=max_retries,
                temperature=temperature,
                max_tokens=None if reply_limit_field == "max_tokens" else max_tokens,
                stream_usage=True,
                seed=seed,
                extra_body=body or None,
            )

        self._plain = client(False)
        self._json = client(True) if json_mode else self._plain

    def complete(
        self, messages: list[Message], *, on_text: OnDelta | None = None, json_mode: bool = True
    ) -> Completion:
        from langchain_core.messages import AIMessageChunk, HumanMessage, SystemMessage

        lc_messages = [
            SystemMessage(m["content"])
            if m["role"] == "system"
            else HumanMessage(m["content"])
            if m["role"] == "user"
            else _ai(m["content"])
            for m in messages
        ]
        llm = self._json if json_mode else self._plain
        t0 = time.perf_counter()

        def whole() -> Completion:
            msg = llm.invoke(lc_messages)
            usage: Any = msg.usage_metadata or {}
            return Completion(
                _text(msg.content),
                self.name,
                usage.get("input_tokens"),
                usage.get("output_tokens"),
                None,
            )

        try:
            if on_text is None:
                return whole()
            total: AIMessageChunk | None = None
            ttft = None
            text = ""
            try:
                for chunk in llm.stream(lc_messages):
                    total = chunk if total is None else total + chunk
                    piece = _text(chunk.content)
                    if piece:
                        if ttft is None:
                            ttft = (time.perf_counter() - t0) * 1000
                        text += piece
                        on_text(text)
            except ValueError as exc:
                if total is not None or "No generation chunks" not in str(exc):
                    raise
                # A stream that closed before its first chunk: some servers (llama.cpp) end
                # the stream without a word when they refuse a request. Asked again without
                # streaming, they say why (e.g. a prompt over their context), and the answer
                # is shown whole.
                done = whole()
                on_text(done.text)
                return done
            streamed: Any = (total.usage_metadata if total is not None else None) or {}
            return Completion(
                text, self.name, streamed.get("input_tokens"), streamed.get("output_tokens"), ttft
            )
        except Exception as exc:  # every SDK/transport failure is turned into one typed error
            raise _classify(exc) from exc


def _ai(content: str) -> Any:
    from langchain_core.messages import AIMessage

    return AIMessage(content)


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") if isinstance(p, dict) else str(p) for p in content)
    return str(content or "")


def _classify(exc: Exception) -> LLMUnavailable:
    import openai

    name = exc.__class__.__name__
    msg = str(exc)[:300]
    if isinstance(exc, openai.APITimeoutError):
        return LLMUnavailable("timeout", msg)
    if isinstance(exc, openai.RateLimitError):
        return LLMUnavailable("rate_limited", msg)
    if isinstance(exc, openai.APIConnectionError):
        return LLMUnavailable("connection", msg)
    if isinstance(exc, openai.BadRequestError) and (
        ("context" in msg.lower() and ("length" in msg.lower() or "window" in msg.lower()))
        or "maximum context" in msg.lower()
    ):
        return LLMUnavailable("context_length", msg)
    if isinstance(exc, openai.BadRequestError) and (
        "response_format" in msg or "json" in msg.lower()
    ):
        return LLMUnavailable("json_unsupported", msg)
    if isinstance(exc, openai.InternalServerError | openai.APIStatusError):
        return LLMUnavailable("server_error", msg)
    return LLMUnavailable("broken_response", f"{name}: {msg}")


# ------------------------------------------------------------------------- output schema


_ESCALATE_LINE = re.compile(r"^\s*\**ESCALATE\**\s*:\s*(.*)$", re.M | re.I)


def parse_plain(text: str) -> LLMReply:
    """The plain format: the reply's text, then maybe a last ``ESCALATE: code, code`` line (a
    model that answers in JSON all the same is read as JSON)."""
    body = (text or "").strip()
    if body.startswith(("{", "```")) and '"reply"' in body:
        try:
            return parse_reply(body)
        except ValueError:
            pass
    reasons: list[str] = []
    m = _ESCALATE_LINE.search(body)
    if m:
        reasons = [r for r in re.split(r"[,;\s]+", m.group(1).strip().lower()) if r]
        body = body[: m.start()].strip()
    if not body:
        raise ValueError("the answer was empty")
    return LLMReply(
        reply=body,
        cited=re.findall(r"P\d+", " ".join(re.findall(r"\[([^\]]+)\]", body))),
        escalate=bool(reasons),
        reasons=reasons,
        answerable="no_knowledge" not in reasons,
    )


class LLMReply(BaseModel):
    reply: str = Field(min_length=1)
    cited: list[str] = Field(default_factory=list)
    escalate: bool = False
    reasons: list[str] = Field(default_factory=list)
    confidence: float = Field(0.5, ge=0.0, le=1.0)
    answerable: bool = True


M = TypeVar("M", bound=BaseModel)


def parse_json(text: str, schema: type[M]) -> M:
    """The one JSON object in ``text`` (code fences tolerated), validated; ValueError says why.
    The drafter's replies and the eval judge's verdicts are both read with it."""
    if not text or not text.strip():
        raise ValueError("the answer was empty")
    body = text.strip()
    fence = re.search(r"```(?:json)?\s*(\{.*\})\s*```", body, re.S)
    if fence:
        body = fence.group(1)
    start, end = body.find("{"), body.rfind("}")
    if start < 0 or end <= start:
        raise ValueError("the answer contains no JSON object")
    try:
        data = json.loads(body[start : end + 1])
    except json.JSONDecodeError as exc:
        raise ValueError(f"the JSON is invalid ({exc.msg} at character {exc.pos})") from exc
    try:
        return schema.model_validate(data)
    except ValidationError as exc:
        raise ValueError(
            "; ".join(f"{'.'.join(str(x) for x in e['loc'])}: {e['msg']}" for e in exc.errors())
        ) from exc


def parse_reply(text: str) -> LLMReply:
    """Validate the model's JSON reply; raises ValueError with what is wrong."""
    return parse_json(text, LLMReply)


class PlainStream:
    """The streamed plain answer as the agent should see it: no markers, no ESCALATE line."""

    def __init__(self, sink: OnDelta) -> None:
        self.sink = sink
        self.shown = ""

    def __call__(self, raw: str) -> None:
        m = _ESCALATE_LINE.search(raw)
        text = strip_markers(raw[: m.start()] if m else raw.rsplit("\nESC", 1)[0])
        if text != self.shown:
            self.shown = text
            self.sink(text)


class ReplyStream:
    """Turns the streamed JSON text into the streamed value of its "reply" field."""

    _START = re.compile(r'"reply"\s*:\s*"')

    def __init__(self, sink: OnDelta) -> None:
        self.sink = sink
        self.shown = ""

    def __call__(self, raw: str) -> None:
        m = self._START.search(raw)
        if not m:
            return
        out = []
        i = m.end()
        while i < len(raw):
            c = raw[i]
            if c == '"':
                break
            if c == "\\":
                if i + 1 >= len(raw):
                    break
                nxt = raw[i + 1]
                if nxt == "u":
                    if i + 6 > len(raw):
                        break
                    code = raw[i + 2 : i + 6]
                    if re.fullmatch(r"[0-9a-fA-F]{4}", code):
                        out.append(chr(int(code, 16)))
                    i += 6
                    continue
                out.append(
                    {"n": "\n", "t": "\t", '"': '"', "\\": "\\", "/": "/", "r": ""}.get(nxt, nxt)
                )
                i += 2
                continue
            out.append(c)
            i += 1
        text = strip_markers("".join(out))
        if text != self.shown:
            self.shown = text
            self.sink(text)


_MARKER = re.compile(r"\s*\[(P\d+|ORDER)(?:\s*,\s*(?:P\d+|ORDER))*\]")


def strip_markers(text: str) -> str:
    return _MARKER.sub("", text).strip()


# ------------------------------------------------------------------------- the LLM drafter


class LLMDrafter:
    def __init__(
        self,
        chat: ChatModel,
        *,
        budget: Budget | None = None,
        mask_pii: bool = True,
        company: str = "our company",
        today: date | None = None,
        reply_format: ReplyFormat = "auto",
    ) -> None:
        self.chat = chat
        self.name = f"llm:{chat.name}"
        self.budget = budget or Budget()
        self.mask_pii = mask_pii
        self.company = company
        self.today = today
        self.system = load_prompt("draft_system")
        self.user = load_prompt("draft_user")
        self.repair = load_prompt("repair")
        self.rules = PromptRules(load_prompt("draft_rules"))
        self.formats = {
            "json": FormatRules(load_prompt("format_json")),
            "plain": FormatRules(load_prompt("format_plain")),
        }
        # "auto" starts with JSON and turns to plain for good once the server's JSON fails
        self.reply_format = reply_format
        self.format: Literal["json", "plain"] = "plain" if reply_format == "plain" else "json"

    @property
    def system_prompt(self) -> str:
        return self.system.template

    @property
    def prompt_version(self) -> str:
        prompts = (self.system, self.rules.prompt, self.user, self.formats[self.format].prompt)
        extra = (self.repair,) if self.format == "json" else ()
        return "+".join(p.version for p in (*prompts, *extra))

    def assemble(
        self, req: DraftRequest, masker: Masker | None, budget_tokens: int | None = None
    ) -> tuple[list[Message], dict[str, int]]:
        """System + user messages under the token budget: drop the least relevant passages and
        the oldest turns first; the last customer message is always kept."""
        r = req.reading
        policy = req.policy
        rules = self.rules
        emoji = (
            req.options.emoji if req.options.emoji is not None else (r.uses_emoji and not r.formal)
        )
        system = self.system.render(
            company=self.company,
            language="French" if r.lang == "fr" else "English",
            register_rule=rules[f"register.{r.register}"],
            length_rule=rules["length.limit"].format(
                sentences=rules[f"length.{req.options.length}"], chars=req.char_limit
            ),
            emoji_rule=rules["emoji.yes" if emoji else "emoji.no"],
            handoff_rule=policy.handoff_rule(),
            format_rule=self.formats[self.format].rule,
        )
        if masker and req.customer_name:
            masker.add_names([req.customer_name])
        mask = masker.mask if masker else (lambda s: s)
        turns = [(t.role, mask(t.text)) for t in req.conversation.turns]
        passages = [
            mask(
                f"[{p.ref}] {p.hit.title}{' > ' + ' > '.join(p.hit.chunk.heading_path) if p.hit.chunk.heading_path else ''}\n{p.hit.chunk.text}"
            )
            for p in req.passages
        ]
        # order data is data like the customer's words: masked and defanged
        facts = order_fact_lines(req, lambda text: defang(mask(text)))
        name = defang(mask(req.customer_name or ""))
        first = defang(mask(first_name(req.customer_name or "")))
        budget = budget_tokens or self.budget.prompt_tokens_for(self.chat.name)
        model = self.chat.name
        dropped = {"passages": 0, "turns": 0}

        def render() -> list[Message]:
            convo = "\n".join(
                f"<customer_message>{defang(text)}</customer_message>"
                if role == "customer"
                else f"<agent_message>{defang(text)}</agent_message>"
                for role, text in turns
            )
            user = self.user.render(
                today=(self.today or date.today()).isoformat(),
                channel=req.channel,
                passages="\n\n".join(passages) or "(none found)",
                order_facts="\n".join(facts) or "(no order for this question)",
                conversation=(f"Customer name: {name} (first name: {first})\n" if name else "")
                + convo,
                format_reminder=self.formats[self.format].reminder,
            )
            return [{"role": "system", "content": system}, {"role": "user", "content": user}]

        messages = render()
        while count_messages(messages, model) > budget:
            if len(passages) > 2:
                passages.pop()
                dropped["passages"] += 1
            elif len(turns) > 1 and any(role == "customer" for role, _ in turns[1:]):
                turns.pop(0)
                dropped["turns"] += 1
            elif passages and max(len(p) for p in passages) > 600:
                longest = max(range(len(passages)), key=lambda i: len(passages[i]))
                text = passages[longest]
                passages[longest] = text[: len(text) // 2].rsplit(" ", 1)[0] + " …"
                dropped["trimmed"] = dropped.get("trimmed", 0) + 1
            elif passages:
                passages.pop()
                dropped["passages"] += 1
            else:
                break
            messages = render()
        return messages, dropped

    def draft(self, req: DraftRequest, on_delta: OnDelta | None = None) -> DraftResult:
        try:
            return self._draft(req, on_delta)
        except LLMUnavailable as exc:
            if (
                self.reply_format != "auto"
                or self.format != "json"
                or exc.kind not in JSON_FAILURES
            ):
                raise
            # the server cannot give a JSON answer (a small model, a server without JSON
            # mode): plain text with markers from now on, and this draft again in it
            self.format = "plain"
            result = self._draft(req, on_delta)
            if exc.usage is not None:  # the JSON attempt's tokens were spent too
                result.usage = _add(exc.usage, result.usage)
            result.notes.insert(
                0, f"the model's JSON failed ({exc.kind}): plain replies from now on"
            )
            return result

    def _draft(self, req: DraftRequest, on_delta: OnDelta | None) -> DraftResult:
        spent = Usage(estimated=False)
        try:
            return self._attempt(req, on_delta, spent)
        except LLMUnavailable as exc:
            exc.usage = _add(exc.usage, spent) if exc.usage else spent
            raise

    def _call(
        self,
        messages: list[Message],
        stream: OnDelta | None,
        json_mode: bool,
        spent: Usage,
        purpose: str = "draft",
    ) -> Completion:
        """One model call; its tokens are added to ``spent``, a failed one's prompt too when
        the server received it (a timeout, a broken or refused answer)."""
        try:
            with calling(purpose=purpose, prompt_version=self.prompt_version):
                completion = self.chat.complete(messages, on_text=stream, json_mode=json_mode)
        except LLMUnavailable as exc:
            if exc.kind in ("timeout", "broken_response", "server_error"):
                p = count_messages(messages, self.chat.name)
                lost = Usage(
                    prompt_tokens=p, estimated=True, cost_usd=cost_usd(self.chat.name, p, 0)
                )
                exc.usage = lost
            raise
        used = _usage(completion, messages, self.chat.name)
        for field_ in ("prompt_tokens", "completion_tokens", "cost_usd"):
            setattr(spent, field_, getattr(spent, field_) + getattr(used, field_))
        spent.estimated = spent.estimated or used.estimated
        return completion

    def _attempt(self, req: DraftRequest, on_delta: OnDelta | None, spent: Usage) -> DraftResult:
        plain = self.format == "plain"
        masker = Masker() if self.mask_pii else None
        messages, dropped = self.assemble(req, masker)
        sink = _unmasking(on_delta, masker) if on_delta else None
        stream = (PlainStream(sink) if plain else ReplyStream(sink)) if sink else None
        try:
            completion = self._call(messages, stream, not plain, spent)
        except LLMUnavailable as exc:
            if exc.kind != "context_length":
                raise
            # half of what was actually sent: halving a budget the prompt did not reach resends it unchanged
            sent = min(
                self.budget.prompt_tokens_for(self.chat.name),
                count_messages(messages, self.chat.name),
            )
            messages, dropped = self.assemble(req, masker, budget_tokens=sent // 2)
            completion = self._call(messages, stream, not plain, spent, "draft:smaller-prompt")
        try:
            parsed = parse_plain(completion.text) if plain else parse_reply(completion.text)
        except ValueError as err:
            if plain:
                raise LLMUnavailable("bad_output", f"an empty answer ({err})") from err
            repair = [
                *messages,
                {"role": "assistant", "content": completion.text[:4000]},
                {"role": "user", "content": self.repair.render(error=str(err))},
            ]
            second = self._call(repair, stream, True, spent, "repair")
            try:
                parsed = parse_reply(second.text)
            except ValueError as err2:
                raise LLMUnavailable("bad_output", f"invalid JSON twice ({err2})") from err2
        reply = masker.unmask(parsed.reply) if masker else parsed.reply
        text, citations = cite(reply, req)
        notes = (
            [
                f"prompt over budget: dropped {dropped['passages']} passage(s), {dropped['turns']} old turn(s)"
            ]
            if any(dropped.values())
            else []
        )
        return DraftResult(
            text=text,
            citations=citations,
            escalate=parsed.escalate,
            reasons=parsed.reasons,
            confidence=parsed.confidence,
            answerable=parsed.answerable,
            usage=spent.model_copy(),
            model=completion.model,
            prompt_version=self.prompt_version,
            ttft_ms=completion.ttft_ms,
            notes=notes,
        )


def _unmasking(sink: OnDelta, masker: Masker | None) -> OnDelta:
    """While the reply streams, the agent sees the real values, never the placeholders."""
    if masker is None:
        return sink
    return lambda text: sink(masker.unmask(text))


def defang(text: str) -> str:
    """Text from outside (a customer's, a judged reply) cannot close the tags that delimit it."""
    return text.replace("<", "‹").replace(">", "›")


def _usage(c: Completion, messages: list[Message], model: str) -> Usage:
    if c.prompt_tokens is not None and c.completion_tokens is not None:
        return Usage(
            prompt_tokens=c.prompt_tokens,
            completion_tokens=c.completion_tokens,
            estimated=False,
            cost_usd=cost_usd(model, c.prompt_tokens, c.completion_tokens),
        )
    p, o = count_messages(messages, model), count_text(c.text, model)
    return Usage(
        prompt_tokens=p, completion_tokens=o, estimated=True, cost_usd=cost_usd(model, p, o)
    )


def _add(a: Usage, b: Usage) -> Usage:
    p, o = a.prompt_tokens + b.prompt_tokens, a.completion_tokens + b.completion_tokens
    return Usage(
        prompt_tokens=p,
        completion_tokens=o,
        estimated=a.estimated or b.estimated,
        cost_usd=a.cost_usd + b.cost_usd,
    )


def cite(reply: str, req: DraftRequest) -> tuple[str, list[Citation]]:
    """Per-sentence citations from the [P#]/[ORDER] markers; markers are removed from the text."""
    by_ref = {p.ref: p for p in req.passages}
    citations: list[Citation] = []
    lang = req.reading.lang
    for raw in sentences(reply):
        refs = re.findall(r"P\d+|ORDER", " ".join(re.findall(r"\[([^\]]+)\]", raw)))
        clean = strip_markers(raw)
        passages = [by_ref[r] for r in refs if r in by_ref]
        if not passages and "ORDER" not in refs:
            # no marker: attach the passage the sentence overlaps most, if clearly
            terms = set(content_terms(clean, lang))
            best = max(
                req.passages,
                key=lambda p: len(terms & set(content_terms(p.hit.chunk.text, lang))),
                default=None,
            )
            if (
                best is not None
                and terms
                and len(terms & set(content_terms(best.hit.chunk.text, lang))) / len(terms) >= 0.5
            ):
                passages = [best]
        cite_orders = [f for f in req.order_facts if "ORDER" in refs or f.order_number in clean]
        if not passages and not cite_orders:
            continue
        citations.append(
            Citation(
                sentence=clean,
                chunk_ids=[p.hit.chunk_id for p in passages]
                + [f"order:{f.order_number}" for f in cite_orders],
                doc_ids=[p.hit.doc_id for p in passages]
                + [f"order:{f.order_number}" for f in cite_orders],
                titles=[p.hit.title for p in passages]
                + [f"Order {f.order_number}" for f in cite_orders],
                snippets=[source_quote(clean, p.hit.chunk.text, lang) for p in passages],
                urls=[p.hit.chunk.url for p in passages if p.hit.chunk.url],
            )
        )
    return strip_markers(reply) if "[" in reply else reply.strip(), citations
