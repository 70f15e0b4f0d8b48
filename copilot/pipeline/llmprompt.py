"""The LLM drafter's prompt: prompt files (their name and hash are the prompt version), the
rules chosen by option, and the messages assembled under the token budget, personal data masked
and outside text defanged."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from copilot.pipeline.drafter import DraftRequest, first_name, order_fact_lines
from copilot.pipeline.llmchat import Message
from copilot.pipeline.pii import Masker
from copilot.pipeline.tokens import count_messages
from copilot.types import Role

PROMPTS = Path(__file__).parent / "prompts"


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


def defang(text: str) -> str:
    """Text from outside (a customer's, a judged reply) cannot close the tags that delimit it."""
    return text.replace("<", "‹").replace(">", "›")


def system_message(
    system: Prompt, rules: PromptRules, req: DraftRequest, company: str, format_rule: str
) -> str:
    """The system prompt for this request: language, register, length, emoji, the policy's
    hand-over rule and the reply format."""
    r = req.reading
    policy = req.policy
    emoji = req.options.emoji if req.options.emoji is not None else (r.uses_emoji and not r.formal)
    return system.render(
        company=company,
        language="French" if r.lang == "fr" else "English",
        register_rule=rules[f"register.{r.register}"],
        length_rule=rules["length.limit"].format(
            sentences=rules[f"length.{req.options.length}"], chars=req.char_limit
        ),
        emoji_rule=rules["emoji.yes" if emoji else "emoji.no"],
        handoff_rule=policy.handoff_rule(),
        format_rule=format_rule,
    )


def assemble(
    req: DraftRequest,
    masker: Masker | None,
    system: str,
    user: Prompt,
    *,
    reminder: str,
    today: date | None,
    budget: int,
    model: str,
) -> tuple[list[Message], dict[str, int]]:
    """The system message and the user message (passages, order facts, the conversation) under
    ``budget`` tokens, with what had to be dropped."""
    turns, passages, facts, name, first = _masked_parts(req, masker)

    def render() -> list[Message]:
        convo = "\n".join(
            f"<customer_message>{defang(text)}</customer_message>"
            if role == "customer"
            else f"<agent_message>{defang(text)}</agent_message>"
            for role, text in turns
        )
        content = user.render(
            today=(today or date.today()).isoformat(),
            channel=req.channel,
            passages="\n\n".join(passages) or "(none found)",
            order_facts="\n".join(facts) or "(no order for this question)",
            conversation=(f"Customer name: {name} (first name: {first})\n" if name else "") + convo,
            format_reminder=reminder,
        )
        return [{"role": "system", "content": system}, {"role": "user", "content": content}]

    return _within_budget(render, passages, turns, budget, model)


def _masked_parts(
    req: DraftRequest, masker: Masker | None
) -> tuple[list[tuple[Role, str]], list[str], list[str], str, str]:
    """The turns, passages, order-fact lines, name and first name as the prompt shows them:
    personal data masked, order data (data like the customer's words) defanged too."""
    if masker and req.customer_name:
        masker.add_names([req.customer_name])
    mask: Callable[[str], str] = masker.mask if masker else (lambda s: s)
    turns = [(t.role, mask(t.text)) for t in req.conversation.turns]
    passages = [
        mask(
            f"[{p.ref}] {p.hit.title}{' > ' + ' > '.join(p.hit.chunk.heading_path) if p.hit.chunk.heading_path else ''}\n{p.hit.chunk.text}"
        )
        for p in req.passages
    ]
    facts = order_fact_lines(req, lambda text: defang(mask(text)))
    name = defang(mask(req.customer_name or ""))
    first = defang(mask(first_name(req.customer_name or "")))
    return turns, passages, facts, name, first


def _within_budget(
    render: Callable[[], list[Message]],
    passages: list[str],
    turns: list[tuple[Role, str]],
    budget: int,
    model: str,
) -> tuple[list[Message], dict[str, int]]:
    """Render, dropping the least relevant passages and the oldest turns first (``passages``
    and ``turns`` are what ``render`` reads), until the messages fit ``budget``; the last
    customer message is always kept."""
    dropped = {"passages": 0, "turns": 0}
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
