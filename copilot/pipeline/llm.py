"""The LLM drafter: a draft written by a chat model, with the SDK's retries, one repair round
for invalid JSON, a smaller prompt when the context is exceeded, and a turn to plain replies for
good when the server cannot answer in JSON.

The chat-model seam and its LangChain adapter are in ``llmchat``, the prompt and its assembly
under the token budget in ``llmprompt``, the reply's reading (JSON or plain, streamed, cited) in
``llmreply``; what other modules import from those is imported from here as before.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from copilot.pipeline.callcontext import calling
from copilot.pipeline.drafter import DraftRequest, DraftResult, OnDelta, source_version
from copilot.pipeline.llmchat import (
    ChatModel,
    Completion,
    LangChainChatModel,
    LLMUnavailable,
    Message,
)
from copilot.pipeline.llmprompt import (
    FormatRules,
    Prompt,
    PromptRules,
    assemble,
    defang,
    load_prompt,
    system_message,
)
from copilot.pipeline.llmreply import (
    PlainStream,
    ReplyStream,
    cite,
    parse_json,
    parse_plain,
    parse_reply,
)
from copilot.pipeline.pii import Masker
from copilot.pipeline.tokens import Budget, cost_usd, count_messages, count_text
from copilot.pipeline.versions import ORDER_FACTS_MODULES, kept
from copilot.types import Usage

# what other modules import from here (the chat-model seam, the prompt and the reply's reading
# were here)
__all__ = [
    "ChatModel",
    "Completion",
    "LLMDrafter",
    "LLMUnavailable",
    "LangChainChatModel",
    "Message",
    "Prompt",
    "ReplyFormat",
    "defang",
    "load_prompt",
    "parse_json",
    "parse_plain",
]

ReplyFormat = Literal["json", "plain", "auto"]
# failures that say the server cannot give a JSON answer (not that it is down or slow)
JSON_FAILURES = ("bad_output", "json_unsupported")
# the ORDER FACTS lines of the prompt are sentences written in code: their version is part of
# the prompt's
ORDER_FACTS_VERSION = kept(source_version("facts", *ORDER_FACTS_MODULES))


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
        """The prompt files' versions, and the order facts': their sentences are written in
        code (``orderfacts``) and sent in the prompt's ORDER FACTS section."""
        prompts = (self.system, self.rules.prompt, self.user, self.formats[self.format].prompt)
        extra = (self.repair,) if self.format == "json" else ()
        return "+".join([*(p.version for p in (*prompts, *extra)), ORDER_FACTS_VERSION])

    def assemble(
        self, req: DraftRequest, masker: Masker | None, budget_tokens: int | None = None
    ) -> tuple[list[Message], dict[str, int]]:
        """System + user messages under the token budget: drop the least relevant passages and
        the oldest turns first; the last customer message is always kept."""
        form = self.formats[self.format]
        return assemble(
            req,
            masker,
            system_message(self.system, self.rules, req, self.company, form.rule),
            self.user,
            reminder=form.reminder,
            today=self.today,
            budget=budget_tokens or self.budget.prompt_tokens_for(self.chat.name),
            model=self.chat.name,
        )

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
