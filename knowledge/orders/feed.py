"""Reading an order feed (CSV, JSON or JSONL) into (row number, record) pairs; a feed that
cannot be read at all is refused whole, a line that cannot be read is a record marked
``__invalid__`` (reported with its row)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from knowledge.errors import OrderFeedError
from knowledge.orders.model import FIELDS, REQUIRED

Rows = list[tuple[int, dict[str, Any]]]


def read_feed(name: str, data: bytes) -> Rows:
    """(row number, record) pairs of a CSV, JSON or JSONL order feed."""
    ext = Path(name).suffix.lower()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise OrderFeedError(
            f"{name}: is not UTF-8 (byte {exc.start}).", "Re-save it as UTF-8."
        ) from exc
    if not text.strip():
        raise OrderFeedError(f"{name}: is empty.", "Upload an order feed with at least one order.")
    reader = _READERS.get(ext)
    if reader is None:
        raise OrderFeedError(
            f"{name}: has extension {ext or '(none)'}.",
            "Order feeds are .csv, .json or .jsonl files.",
        )
    return reader(name, text)


def _read_csv(name: str, text: str) -> Rows:
    try:
        dialect: Any = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [f for f in REQUIRED if f not in header]
    if missing:
        raise OrderFeedError(
            f"{name}: the header has no column {', '.join(missing)} (found: {', '.join(header) or 'none'}).",
            f"Use the column names {', '.join(FIELDS)}.",
        )
    return [(i + 2, {k.strip(): v for k, v in row.items() if k}) for i, row in enumerate(reader)]


def _read_json(name: str, text: str) -> Rows:
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError as exc:
        raise OrderFeedError(
            f"{name}: is not valid JSON (line {exc.lineno}: {exc.msg}).",
            "Fix it, or use JSONL.",
        ) from exc
    except (ValueError, RecursionError) as exc:
        raise OrderFeedError(
            f"{name}: cannot be read ({str(exc)[:80]}).", "Fix it, or use JSONL."
        ) from exc
    if isinstance(parsed, dict) and isinstance(parsed.get("orders"), list):
        parsed = parsed["orders"]
    if not isinstance(parsed, list):
        raise OrderFeedError(
            f"{name}: expected a list of orders.", 'Use [{"order_number": ...}, ...] or JSONL.'
        )
    return [(i + 1, r if isinstance(r, dict) else {"__invalid__": r}) for i, r in enumerate(parsed)]


def _read_jsonl(name: str, text: str) -> Rows:
    out: Rows = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as exc:
            out.append(
                (lineno, {"__invalid__": f"not valid JSON ({exc.msg} at column {exc.colno})"})
            )
            continue
        except (ValueError, RecursionError) as exc:  # an integer of 4300+ digits, deep nesting
            out.append((lineno, {"__invalid__": f"cannot be read ({str(exc)[:80]})"}))
            continue
        out.append(
            (lineno, rec if isinstance(rec, dict) else {"__invalid__": "expected a JSON object"})
        )
    return out


_READERS: dict[str, Callable[[str, str], Rows]] = {
    ".csv": _read_csv,
    ".json": _read_json,
    ".jsonl": _read_jsonl,
}
