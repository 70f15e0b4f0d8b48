"""The HTTP API (``souffleur serve``): help desks, channels and back offices talk to Souffleur.

Routes are versioned under ``/v1`` and documented at ``/docs`` (OpenAPI). They hold no logic:
each one checks the caller's token, calls the same service as the app's desk (``Gateway``,
``Desk``, the knowledge base, the order book) and shapes its answer. Errors are JSON
``{"error", "problem", "fix"}`` with the status that names the kind: 400 bad input, 401 no or
unknown token, 403 a token without that scope, 404 unknown conversation or document, 409 a
stale version, 413 too large, 422 a field that does not validate (each field named).
"""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import Depends, FastAPI, File, Header, Request, Response, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, StreamingResponse
from pydantic import BaseModel, Field

from copilot.channels.chatwoot import ChatwootAuthError
from copilot.channels.gateway import (
    Attachment,
    DuplicateInFlightError,
    InboundMessage,
    SuggestionOut,
    suggestion_out,
)
from copilot.channels.integrations import connect
from copilot.channels.webchat import ChatError, ChatIdentity, ChatLinkError, WebChat
from copilot.desk.apikeys import ApiToken, Scope, TokenStore
from copilot.desk.desk import Desk
from copilot.desk.store import ConflictError, Sent, UnknownConversationError
from copilot.types import DraftOptions
from copilot.workspace import Workspace
from knowledge.conflicts import check_upload
from knowledge.errors import SouffleurError

API_VERSION = "v1"
CHAT_PAGE = Path(__file__).parent / "static" / "chat.html"
MAX_JSON_BYTES = 1_000_000  # a JSON body (a message, an order batch); files go by upload


class ApiError(Exception):
    def __init__(self, status: int, error: str, problem: str, fix: str = "") -> None:
        self.status, self.error, self.problem, self.fix = status, error, problem, fix


def _error(status: int, error: str, problem: str, fix: str = "", **headers: str) -> JSONResponse:
    return JSONResponse(
        {"error": error, "problem": problem, "fix": fix}, status_code=status, headers=headers
    )


# -- response shapes -------------------------------------------------------------------------
class ReceivedOut(BaseModel):
    conversation_id: str
    message_id: int
    created: bool
    duplicate: bool
    suggestion: SuggestionOut | None


class MessageOut(BaseModel):
    id: int
    role: str
    text: str
    author: str | None
    created_at: str
    attachments: list[Attachment]


class ConversationOut(BaseModel):
    id: str
    channel: str
    external_id: str | None
    customer_id: str | None
    status: str
    queue: str | None
    version: int
    messages: list[MessageOut]
    suggestion: SuggestionOut | None


class ReplyIn(BaseModel):
    text: str = Field(min_length=1, max_length=20_000)
    agent: str | None = Field(None, max_length=128)
    expected_version: int | None = Field(
        None, description="The conversation version the agent saw: a newer one gives 409."
    )


class SentOut(BaseModel):
    message_id: int
    outcome: str = Field(description="accepted | edited | rejected (written without a draft)")
    edit_ratio: float | None


class EscalateIn(BaseModel):
    agent: str | None = Field(None, max_length=128)
    expected_version: int | None = None


class DocumentOut(BaseModel):
    doc_id: str
    title: str
    source: str
    lang: str
    chunks: int


class ConflictOut(BaseModel):
    """A statement of this file that another document contradicts (decide on the Knowledge
    page or with `souffleur conflicts resolve ID`)."""

    id: int
    document: str
    says: str
    sentence: str
    other_document: str
    other_says: str
    other_sentence: str
    status: str


class UploadOut(BaseModel):
    source: str
    ok: bool
    documents: list[str]
    chunks: int
    error: str | None
    notes: list[str]
    conflicts: list[ConflictOut] = Field(default_factory=list)


class ChatIn(BaseModel):
    session: str = Field(min_length=1, max_length=64)
    text: str = Field(min_length=1, max_length=4000)
    client_id: str = Field(min_length=1, max_length=100)
    link: str | None = Field(None, max_length=2000)
    email: str | None = Field(None, max_length=320)


class OrdersOut(BaseModel):
    imported: int
    invalid_rows: list[int]
    problems: list[str]


# -- the application -------------------------------------------------------------------------
def create_app(ws: Workspace, desk: Desk | None = None) -> FastAPI:
    desk = desk or Desk(ws)
    links = connect(desk, ws.settings)
    gateway = links.gateway
    tokens = TokenStore(ws.engine)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        links.start()
        yield
        links.stop()

    app = FastAPI(
        title="Souffleur API",
        version=API_VERSION,
        description="Inbound customer messages, suggestions, replies, knowledge and orders.",
        lifespan=lifespan,
    )
    app.state.gateway = gateway
    app.state.tokens = tokens
    app.state.outbox = links.outbox
    app.state.integrations = links

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else {}
        return _error(exc.status, exc.error, exc.problem, exc.fix, **headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            where = next(e for e in errors if e.get("type") == "json_invalid")
            return _error(
                400,
                "malformed_json",
                f"The body is not valid JSON ({where.get('ctx', {}).get('error', 'parse error')}).",
                "Send a JSON object with Content-Type: application/json.",
            )
        fields = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'] if p != 'body') or 'body'}: {e['msg']}"
            for e in errors
        )
        too_long = any(e.get("type") in ("string_too_long", "too_long") for e in errors)
        return _error(
            413 if too_long else 422,
            "too_large" if too_long else "invalid_fields",
            f"Some fields are not valid: {fields}.",
            "Fix these fields and send again; see /docs for the schema.",
        )

    @app.exception_handler(UnknownConversationError)
    async def _unknown(_: Request, exc: UnknownConversationError) -> JSONResponse:
        return _error(404, "unknown_conversation", exc.problem, "Check the conversation id.")

    @app.exception_handler(ConflictError)
    async def _conflict(_: Request, exc: ConflictError) -> JSONResponse:
        return _error(
            409,
            "stale_version",
            "The conversation changed since that version.",
            "Read it again (GET /v1/conversations/{id}) and retry with its version.",
        )

    @app.exception_handler(DuplicateInFlightError)
    async def _in_flight(_: Request, exc: DuplicateInFlightError) -> JSONResponse:
        return _error(409, "event_in_flight", exc.problem, exc.fix, **{"Retry-After": "1"})

    @app.exception_handler(ChatError)
    async def _chat_error(_: Request, exc: ChatError) -> JSONResponse:
        if isinstance(exc, ChatLinkError):
            return _error(403, "bad_chat_link", exc.problem, exc.fix)
        return _error(400, "bad_request", exc.problem, exc.fix)

    @app.exception_handler(SouffleurError)
    async def _souffleur(_: Request, exc: SouffleurError) -> JSONResponse:
        return _error(400, "bad_request", exc.problem, exc.fix)

    @app.middleware("http")
    async def _size_limit(request: Request, call_next: Callable[[Request], Any]) -> Any:
        length = request.headers.get("content-length")
        limit = (
            int(ws.settings.max_upload_mb * 1024 * 1024)
            if request.url.path.endswith("/knowledge")
            else MAX_JSON_BYTES
        )
        if length and length.isdigit() and int(length) > limit:
            return _error(
                413,
                "too_large",
                f"The request body is {int(length):,} bytes; the limit here is {limit:,}.",
                "Send fewer records per request, or a smaller file.",
            )
        return await call_next(request)

    def caller(scope: Scope) -> Callable[..., ApiToken]:
        def check(authorization: Annotated[str | None, Header()] = None) -> ApiToken:
            if not authorization or not authorization.lower().startswith("bearer "):
                raise ApiError(
                    401,
                    "unauthenticated",
                    "This route needs a bearer token.",
                    "Send 'Authorization: Bearer <token>'; create one with "
                    "`souffleur tokens create NAME --role integration`.",
                )
            token = tokens.verify(authorization[7:].strip())
            if token is None:
                raise ApiError(
                    401,
                    "unauthenticated",
                    "The token is unknown or revoked.",
                    "Create a new one with `souffleur tokens create NAME --role ROLE`.",
                )
            if scope not in token.scopes:
                raise ApiError(
                    403,
                    "forbidden",
                    f"Token '{token.name}' ({token.role}) may not use {scope} routes.",
                    "Use a token whose role includes this scope (admin has every scope).",
                )
            return token

        return check

    # (defaults, not Annotated aliases: annotations are strings here, and FastAPI resolves them
    # in the module, where a local alias does not exist)
    conversations_scope = Depends(caller("conversations"))
    orders_scope = Depends(caller("orders"))
    knowledge_scope = Depends(caller("knowledge"))

    # -- health --------------------------------------------------------------------------
    @app.get("/v1/health", tags=["health"])
    def health() -> dict[str, str]:
        """The process answers."""
        return {"status": "ok"}

    @app.get("/v1/ready", tags=["health"])
    def ready() -> JSONResponse:
        """The database and the knowledge index can be used (503 with the reason otherwise)."""
        problems = []
        try:
            with ws.engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
        except Exception as exc:
            problems.append(f"database: {type(exc).__name__}")
        try:
            ws.kb.stats()
        except Exception as exc:
            problems.append(f"knowledge index: {type(exc).__name__}")
        if problems:
            return JSONResponse({"status": "unavailable", "problems": problems}, status_code=503)
        return JSONResponse({"status": "ready"})

    # -- conversations -------------------------------------------------------------------
    @app.post("/v1/messages", tags=["conversations"], status_code=201)
    def inbound(
        msg: InboundMessage, response: Response, _: ApiToken = conversations_scope
    ) -> ReceivedOut:
        """A customer's message from any channel: the conversation appears in the desk with
        its draft. The same event id delivered again returns the first result (200)."""
        got = gateway.receive(msg)
        out = ReceivedOut(
            conversation_id=got.conversation_id,
            message_id=got.message_id,
            created=got.created,
            duplicate=got.duplicate,
            suggestion=suggestion_out(got.draft) if got.draft else None,
        )
        if got.duplicate:
            response.status_code = 200
        return out

    @app.get("/v1/conversations/{conversation_id}", tags=["conversations"])
    def conversation(conversation_id: str, _: ApiToken = conversations_scope) -> ConversationOut:
        rec = desk.store.get(conversation_id)
        files = gateway.attachments_of(conversation_id)
        draft = desk.store.current_draft(conversation_id)
        outside = gateway.external_id(conversation_id)
        return ConversationOut(
            id=rec.id,
            channel=rec.channel,
            external_id=outside[1] if outside else None,
            customer_id=rec.customer_id,
            status=rec.status,
            queue=rec.queue,
            version=rec.version,
            messages=[
                MessageOut(
                    id=m.id,
                    role=m.role,
                    text=m.text,
                    author=m.author,
                    created_at=m.created_at.isoformat(),
                    attachments=files.get(m.id, []),
                )
                for m in rec.messages
            ],
            suggestion=suggestion_out(draft) if draft else None,
        )

    @app.get("/v1/conversations/{conversation_id}/suggestion", tags=["conversations"])
    def suggestion(conversation_id: str, _: ApiToken = conversations_scope) -> SuggestionOut:
        """The draft for the last customer message (made now if there is none yet)."""
        draft = desk.ensure_draft(conversation_id)
        if draft is None:
            raise ApiError(
                404,
                "no_suggestion",
                "This conversation has no customer message to answer.",
                "A suggestion exists once the customer has written.",
            )
        return suggestion_out(draft)

    @app.get("/v1/conversations/{conversation_id}/suggestion/stream", tags=["conversations"])
    def suggestion_stream(
        conversation_id: str, _: ApiToken = conversations_scope
    ) -> StreamingResponse:
        """A new draft as Server-Sent Events: ``delta`` events carry text as the model writes
        it, then one ``suggestion`` event carries the whole suggestion (``error`` on failure)."""
        desk.store.get(conversation_id)  # 404 before the stream starts
        events: queue.Queue[tuple[str, str] | None] = queue.Queue()

        def work() -> None:
            try:
                draft = desk.regenerate(
                    conversation_id,
                    DraftOptions(),
                    on_delta=lambda text: events.put(("delta", json.dumps({"text": text}))),
                )
                if draft is None:
                    events.put(("error", json.dumps({"problem": "no customer message"})))
                else:
                    events.put(("suggestion", suggestion_out(draft).model_dump_json()))
            except SouffleurError as exc:
                events.put(("error", json.dumps({"problem": exc.problem, "fix": exc.fix})))
            finally:
                events.put(None)

        threading.Thread(target=work, daemon=True).start()

        def stream() -> Iterator[str]:
            while (item := events.get()) is not None:
                yield f"event: {item[0]}\ndata: {item[1]}\n\n"

        return StreamingResponse(stream(), media_type="text/event-stream")

    @app.post("/v1/conversations/{conversation_id}/reply", tags=["conversations"], status_code=201)
    def reply(conversation_id: str, body: ReplyIn, _: ApiToken = conversations_scope) -> SentOut:
        """The agent's reply goes out through the conversation's channel and is recorded as
        the desk's Send records it (drafted vs sent, edit ratio, outcome)."""
        return _sent(
            gateway.reply(
                conversation_id, body.text, agent=body.agent, expected_version=body.expected_version
            )
        )

    @app.post(
        "/v1/conversations/{conversation_id}/feedback", tags=["conversations"], status_code=201
    )
    def feedback(conversation_id: str, body: ReplyIn, _: ApiToken = conversations_scope) -> SentOut:
        """The agent already sent this reply from the help desk: record it and how it compares
        with the draft, without sending it again."""
        return _sent(
            gateway.record_sent(
                conversation_id, body.text, agent=body.agent, expected_version=body.expected_version
            )
        )

    def _sent(sent: Sent) -> SentOut:
        return SentOut(message_id=sent.message_id, outcome=sent.outcome, edit_ratio=sent.edit_ratio)

    @app.post("/v1/conversations/{conversation_id}/escalate", tags=["conversations"])
    def escalate(
        conversation_id: str, body: EscalateIn, _: ApiToken = conversations_scope
    ) -> dict[str, str]:
        """Hand the conversation to the queue the suggestion names (or the default one)."""
        queue_name = gateway.escalate(
            conversation_id, agent=body.agent, expected_version=body.expected_version
        )
        return {"queue": queue_name}

    # -- the built-in web chat -----------------------------------------------------------
    chat = WebChat(
        gateway,
        ChatIdentity.for_settings(ws.settings),
        trust_email=ws.settings.chat_trust_email,
    )
    app.state.chat = chat

    @app.get("/chat", tags=["web chat"], response_class=HTMLResponse, include_in_schema=False)
    def chat_page() -> HTMLResponse:
        """The customer's chat page (``?c=<signed link>`` identifies the customer)."""
        return HTMLResponse(CHAT_PAGE.read_text(encoding="utf-8"))

    @app.post("/chat/api/messages", tags=["web chat"], status_code=201)
    def chat_post(body: ChatIn) -> dict[str, Any]:
        got = chat.post(
            body.session, body.text, client_id=body.client_id, link=body.link, email=body.email
        )
        return {"message_id": got.message_id, "duplicate": got.duplicate}

    @app.get("/chat/api/messages", tags=["web chat"])
    def chat_lines(session: str, after: int = 0) -> list[dict[str, Any]]:
        return [vars(line) for line in chat.lines(session, after)]

    # -- help desks ----------------------------------------------------------------------
    @app.post("/v1/chatwoot/webhook", tags=["help desks"])
    async def chatwoot_webhook(request: Request, token: str | None = None) -> dict[str, Any]:
        """Chatwoot's webhook (event message_created): verified by Chatwoot's signature or by
        ?token=; a contact's message gets its suggestion as a private note, an agent's reply
        is recorded as the reply to that draft."""
        adapter = links.chatwoot
        if adapter is None:
            raise ApiError(
                404,
                "chatwoot_not_configured",
                "The Chatwoot adapter is not configured on this server.",
                "Set SOUFFLEUR_CHATWOOT_URL, SOUFFLEUR_CHATWOOT_API_TOKEN and "
                "SOUFFLEUR_CHATWOOT_WEBHOOK_SECRET, then restart souffleur serve.",
            )
        body = await request.body()
        try:
            adapter.verify(request.headers, body, token)
        except ChatwootAuthError as exc:
            raise ApiError(401, "bad_signature", exc.problem, exc.fix) from exc
        try:
            event = json.loads(body)
        except ValueError as exc:
            raise ApiError(
                400,
                "malformed_json",
                f"The webhook body is not valid JSON ({exc}).",
                "Send Chatwoot's payload unchanged.",
            ) from exc
        if not isinstance(event, dict):
            raise ApiError(400, "bad_request", "The webhook body is not a JSON object.", "")
        return await run_in_threadpool(adapter.handle, event)

    # -- knowledge -----------------------------------------------------------------------
    @app.get("/v1/knowledge", tags=["knowledge"])
    def documents(_: ApiToken = knowledge_scope) -> list[DocumentOut]:
        return [
            DocumentOut(
                doc_id=d.doc_id,
                title=d.title,
                source=d.source_name,
                lang=d.lang,
                chunks=d.chunk_count,
            )
            for d in ws.kb.documents()
        ]

    @app.post("/v1/knowledge", tags=["knowledge"])
    def upload(
        files: Annotated[list[UploadFile], File()], _: ApiToken = knowledge_scope
    ) -> list[UploadOut]:
        """Index files (each replaces the previous version of the same name); a bad file is
        reported and the others are indexed."""
        sources = [(f.filename or "upload", f.file.read()) for f in files]
        results = ws.kb.ingest_sources(sources)
        found = check_upload(ws.kb, results).conflicts
        return [
            UploadOut(
                source=r.name,
                ok=r.ok,
                documents=[d.doc_id for d in r.docs],
                chunks=r.chunks,
                error=r.error,
                notes=r.notes,
                conflicts=[
                    ConflictOut(
                        id=c.id,
                        document=c.new_doc,
                        says=c.new_value,
                        sentence=c.new_sentence,
                        other_document=c.old_doc,
                        other_says=c.old_value,
                        other_sentence=c.old_sentence,
                        status=c.status,
                    )
                    for c in found
                    if {c.new_doc, c.old_doc} & {d.doc_id for d in r.docs}
                ],
            )
            for r in results
        ]

    @app.delete("/v1/knowledge/{doc_id}", tags=["knowledge"])
    def delete_document(doc_id: str, _: ApiToken = knowledge_scope) -> dict[str, str]:
        if not ws.kb.delete(doc_id):
            raise ApiError(
                404, "unknown_document", f"No document '{doc_id}'.", "GET /v1/knowledge lists them."
            )
        return {"deleted": doc_id}

    # -- orders --------------------------------------------------------------------------
    @app.put("/v1/orders", tags=["orders"])
    def upsert_orders(records: list[dict[str, Any]], _: ApiToken = orders_scope) -> OrdersOut:
        """Create or update orders (the order feed's fields, see the README); a bad record is
        reported by its position and the others are stored."""
        report = ws.orders.import_records(enumerate(records, start=1), source="api")
        return OrdersOut(
            imported=report.imported,
            invalid_rows=report.invalid_rows,
            problems=[str(p) for p in report.problems],
        )

    return app
