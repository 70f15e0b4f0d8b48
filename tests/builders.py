"""Build real PDF, DOCX and XLSX files in memory for the loader tests."""

from __future__ import annotations

import io
import zipfile
from typing import Any

from evals.records import CaseResult


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
