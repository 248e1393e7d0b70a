"""CSV that staff open in Excel: UTF-8 with a BOM (or Excel reads Vietnamese as mojibake), CRLF rows,
and no cell that Excel would run as a formula (spreadsheet formula injection)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> str:
    """The text of a cell; a leading = + - @ gets an apostrophe so Excel shows it instead of running it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)  # a number is never a formula, even a negative one
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def csv_document(rows: Iterable[Sequence[Any]]) -> bytes:
    """A small whole CSV file (header row first) as UTF-8 bytes with a BOM, CRLF, every cell made safe."""
    buffer = io.StringIO()
    buffer.write(BOM)
    writer = csv.writer(buffer)  # excel dialect: CRLF, quotes where needed
    for row in rows:
        writer.writerow([safe_cell(value) for value in row])
    return buffer.getvalue().encode("utf-8")
