"""The LLM drafter's reply read: the JSON reply (validated, for one repair round) or the plain
one with its ``ESCALATE:`` line, streamed as the agent should see it, and its [P#]/[ORDER]
markers turned into citations."""

from __future__ import annotations

import json
import re
from typing import TypeVar

from pydantic import BaseModel, Field, ValidationError

from copilot.pipeline.drafter import DraftRequest, OnDelta
from copilot.pipeline.quotes import source_quote
from copilot.types import Citation
from knowledge.text import content_terms, sentences

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
