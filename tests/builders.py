"""What several tests build or do the same way: real PDF, DOCX and XLSX files in memory for the
loader tests, JSONL feeds, the lines and folders of small eval sets, and the steps of the desk
scenarios run both on SQLite (tests/test_desk.py) and on PostgreSQL (tests/test_postgres.py)."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evals.records import CaseResult

if TYPE_CHECKING:
    from copilot.desk.desk import Desk
    from copilot.desk.store import DraftRecord


def pdf_bytes(lines: list[str], *, title: str = "", password: str | None = None) -> bytes:
    from pypdf import PdfReader, PdfWriter
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    if title:
        c.setTitle(title)
    y = 800
    for line in lines:
        c.drawString(50, y, line)
        y -= 16
    c.showPage()
    c.save()
    data = buf.getvalue()
    if password is None:
        return data
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    writer.encrypt(user_password=password, owner_password=password + "-owner", algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def docx_bytes(
    title: str, sections: list[tuple[str, str]], table: list[list[str]] | None = None
) -> bytes:
    import docx

    d = docx.Document()
    d.add_heading(title, level=0)
    for heading, body in sections:
        d.add_heading(heading, level=1)
        d.add_paragraph(body)
    if table:
        t = d.add_table(rows=len(table), cols=len(table[0]))
        for i, row in enumerate(table):
            for j, cell in enumerate(row):
                t.cell(i, j).text = cell
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def xlsx_bytes(rows: list[list[object]]) -> bytes:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def zip_bomb_docx(size: int = 300 * 1024 * 1024) -> bytes:
    """A .docx-named zip whose one member inflates to ``size`` bytes of zeros."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        with zf.open("word/document.xml", "w", force_zip64=True) as member:
            block = b"\0" * (1024 * 1024)
            for _ in range(size // len(block)):
                member.write(block)
    return buf.getvalue()


def case_result(**fields: Any) -> CaseResult:
    """A result line of an eval run (evals/records.py) with neutral values for what a test
    does not set: a scored answer case, nothing retrieved, nothing judged."""
    base: dict[str, Any] = {
        "id": "c1",
        "group": "g1",
        "lang": "en",
        "expected_action": "answer",
        "should_escalate": False,
        "status": "scored",
        "retrieved_doc_ids": [],
        "retrieved_chunk_ids": [],
        "reference_doc_ids": [],
        "draft": "",
        "citations": [],
        "escalate": False,
        "reasons": [],
        "confidence": 0.9,
        "verdicts": None,
        "ok": None,
        "timings": {},
        "usage": {},
    }
    return CaseResult(**(base | fields))


def case_row(i: int, text: str, **fields: object) -> dict[str, object]:
    """One line of an eval set's cases.jsonl: case t<i>, one customer turn, an answerable
    question in English unless ``fields`` say otherwise."""
    base: dict[str, object] = {
        "id": f"t{i}",
        "lang": "en",
        "conversation": [{"role": "customer", "text": text}],
        "customer_context": None,
        "reference_answer": None,
        "reference_doc_ids": [],
        "should_escalate": False,
        "expected_action": "answer",
        "group_id": f"g{i}",
    }
    return base | fields


def order_case(i: int, **fields: object) -> dict[str, object]:
    """Case t<i>: Ann Lee asks where her order is (:func:`order_row`); the reply must give its
    tracking number."""
    return case_row(
        i,
        "Where is my order ZZ-100001?",
        customer_context={"customer_id": "K1", "name": "Ann Lee"},
        reference_doc_ids=["delivery"],
        required_facts=["6A11112222333"],
        order_facts={"tracking_number": "6A11112222333"},
        **fields,
    )


def human_request_case(i: int) -> dict[str, object]:
    """Case t<i>: the customer asks for a human, which the copilot escalates."""
    return case_row(
        i,
        "I want to speak to a human, now.",
        should_escalate=True,
        expected_action="escalate",
        reason="human_request",
    )


def order_row(**fields: object) -> dict[str, object]:
    """One line of an eval set's orders.jsonl: Ann Lee's order ZZ-100001, in transit with
    Colissimo, unless ``fields`` say otherwise."""
    base: dict[str, object] = {
        "order_number": "ZZ-100001",
        "customer_id": "K1",
        "customer_name": "Ann Lee",
        "email": "ann@example.com",
        "created_at": "2026-11-10T10:00:00+01:00",
        "status": "in_transit",
        "items": [],
        "total": 40.0,
        "currency": "EUR",
        "carrier": "Colissimo",
        "tracking_number": "6A11112222333",
        "estimated_delivery": "2026-11-25",
        "delivered_at": None,
    }
    return base | fields


def jsonl(records: list[dict[str, Any]]) -> bytes:
    """The records as a JSONL file, one a line."""
    return "\n".join(json.dumps(r) for r in records).encode()


def write_dataset(
    folder: Path,
    kb: list[dict[str, Any]],
    orders: list[dict[str, Any]],
    cases: list[dict[str, Any]],
) -> Path:
    """An eval set in ``folder`` (its knowledge, orders and cases, dated 2026-11-20)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "kb.jsonl").write_bytes(jsonl(kb))
    (folder / "orders.jsonl").write_bytes(jsonl(orders))
    (folder / "cases.jsonl").write_bytes(jsonl(cases))
    (folder / "dataset.json").write_text(
        json.dumps({"name": "tiny", "today": "2026-11-20"}), encoding="utf-8"
    )
    return folder


def send_an_edited_follow_up(desk: Desk, first: DraftRecord) -> None:
    """The customer of conv-001 asked again after ``first`` was sent: the new draft, edited by
    the agent (autosaved), is sent and recorded as edited."""
    d2 = desk.ensure_draft("conv-001")
    assert d2 is not None and d2.id != first.id
    desk.store.autosave(d2.id, d2.draft_text + " Bonne soirée.")
    assert desk.store.current_draft("conv-001").edited_text.endswith("Bonne soirée.")  # type: ignore[union-attr]
    desk.send(
        "conv-001",
        d2.draft_text + " Bonne soirée.",
        agent="alice",
        expected_version=desk.view("conv-001").conversation.version,
    )
    last = desk.store.feedback_rows()[-1]
    assert last["outcome"] == "edited" and 0 < last["edit_ratio"] < 0.2


def escalate_as_drafted(desk: Desk, conversation_id: str) -> str:
    """Escalate a conversation whose draft says to escalate: it goes to the draft's queue."""
    draft = desk.ensure_draft(conversation_id)
    assert draft is not None and draft.suggestion.escalation.escalate
    queue = desk.escalate(
        conversation_id,
        agent="alice",
        expected_version=desk.view(conversation_id).conversation.version,
    )
    assert queue == draft.suggestion.escalation.queue
    return queue
