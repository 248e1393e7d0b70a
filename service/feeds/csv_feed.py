"""The bulk-upload CSV of a commune's products, laid out per marketplace.

Staff open it in Excel before uploading it to a postal marketplace, so: UTF-8 with a BOM (or Excel
reads Vietnamese as mojibake), CRLF rows, money as whole đồng without separators, and no cell that
Excel would run as a formula. Columns map a header to a ``FeedItem`` field or a computed one; a
commune picks a preset or writes its own mapping (``FeedSettings.csv_columns``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import fields as dataclass_fields
from typing import Any

from service.core.spreadsheet import BOM, safe_cell
from service.feeds.formats import FeedContext, feed_format
from service.feeds.items import MAX_IMAGES, FeedItem

MAX_COLUMNS = 60
MAX_HEADER = 100
CHUNK = 32 * 1024  # characters per yielded piece: few, small writes; memory stays flat


def _image(index: int) -> Callable[[FeedItem], Any]:
    return lambda item: item.image_links[index] if len(item.image_links) > index else ""


def _origin(item: FeedItem) -> str:
    return ", ".join(part for part in (item.commune, item.province) if part)


def _ocop_label(item: FeedItem) -> str:
    return f"OCOP {item.ocop_stars}★" if item.ocop_stars else ""


# Fields worked out from an item; every plain FeedItem field is available too.
COMPUTED: dict[str, Callable[[FeedItem], Any]] = {
    "price_vnd": lambda item: item.price,
    "image_link": lambda item: item.image_link,
    "additional_image_links": lambda item: ",".join(item.additional_image_links),
    "origin": _origin,
    "ocop_label": _ocop_label,
    **{f"image_{n}": _image(n - 1) for n in range(1, MAX_IMAGES)},
}
PLAIN_FIELDS = tuple(f.name for f in dataclass_fields(FeedItem) if f.name not in ("extra", "image_links"))
AVAILABLE_FIELDS: tuple[str, ...] = PLAIN_FIELDS + tuple(COMPUTED)

PRESETS: dict[str, list[dict[str, str]]] = {
    # A postal marketplace's bulk-upload template (Postmart and similar): Vietnamese headers.
    "postmart": [
        {"header": "Mã sản phẩm (SKU)", "field": "id"},
        {"header": "Tên sản phẩm", "field": "title"},
        {"header": "Mô tả", "field": "description"},
        {"header": "Giá bán (VNĐ)", "field": "price_vnd"},
        {"header": "Số lượng tồn kho", "field": "stock"},
        {"header": "Khối lượng (gram)", "field": "weight_grams"},
        {"header": "Danh mục", "field": "category"},
        {"header": "Thương hiệu", "field": "brand"},
        {"header": "Mã vạch (GTIN)", "field": "gtin"},
        *({"header": f"Ảnh {n}", "field": f"image_{n}"} for n in range(1, 6)),
        {"header": "Xuất xứ", "field": "origin"},
        {"header": "Đơn vị tính", "field": "unit"},
        {"header": "OCOP (sao)", "field": "ocop_stars"},
        {"header": "Đường dẫn", "field": "link"},
    ],
    "generic": [{"header": name, "field": name} for name in PLAIN_FIELDS]
    + [{"header": "additional_image_links", "field": "additional_image_links"}],
}
DEFAULT_PRESET = "postmart"


class ColumnError(ValueError):
    """A custom mapping that cannot be used. ``code``: count | header | field | format;
    ``line`` is 1-based (0 = the whole mapping); ``value`` the unknown field, for messages."""

    def __init__(self, message: str, code: str, line: int = 0, value: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.line = line
        self.value = value


def check_columns(columns: list[dict[str, str]]) -> list[dict[str, str]]:
    """The mapping cleaned, or ColumnError: known fields, 1..60 columns, headers of 1..100 characters."""
    if not 1 <= len(columns) <= MAX_COLUMNS:
        raise ColumnError(f"Give between 1 and {MAX_COLUMNS} columns.", "count")
    cleaned = []
    for line, column in enumerate(columns, start=1):
        header = str(column.get("header", "")).strip()
        field = str(column.get("field", "")).strip()
        if not header or len(header) > MAX_HEADER:
            raise ColumnError(f"A header needs 1 to {MAX_HEADER} characters.", "header", line)
        if field not in AVAILABLE_FIELDS:
            raise ColumnError(f"Unknown field {field!r}.", "field", line, field)
        cleaned.append({"header": header, "field": field})
    return cleaned


def parse_mapping(text: str) -> list[dict[str, str]]:
    """``Header | field`` per line (blank lines skipped) -> a checked mapping; ColumnError otherwise."""
    columns = []
    for line, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        header, bar, field = raw.rpartition("|")
        if not bar:
            raise ColumnError("Write each column as: Header | field", "format", line)
        columns.append({"header": header.strip(), "field": field.strip()})
    return check_columns(columns)


def mapping_text(columns: list[dict[str, str]]) -> str:
    return "\n".join(f"{c['header']} | {c['field']}" for c in columns)


def columns_for(preset: str, custom: list[dict[str, Any]] | None) -> list[dict[str, str]]:
    """The custom mapping when valid, else the preset's columns."""
    if custom:
        try:
            return check_columns(custom)
        except ColumnError:
            pass  # a stored mapping gone stale (e.g. a renamed field) falls back to the preset
    return PRESETS.get(preset, PRESETS[DEFAULT_PRESET])


def _getter(field: str) -> Callable[[FeedItem], Any]:
    if field in COMPUTED:
        return COMPUTED[field]
    return lambda item: getattr(item, field)


def rows(items: Iterable[FeedItem], columns: list[dict[str, str]]) -> Iterator[list[str]]:
    getters = [_getter(c["field"]) for c in columns]
    yield [safe_cell(c["header"]) for c in columns]
    for item in items:
        yield [safe_cell(get(item)) for get in getters]


@feed_format("csv", "products.csv", "text/csv; charset=utf-8")
def render(items: Iterable[FeedItem], context: FeedContext) -> Iterator[bytes]:
    columns = columns_for(context.settings.csv_preset, context.settings.csv_columns)
    buffer = io.StringIO()
    writer = csv.writer(buffer)  # excel dialect: CRLF, quotes where needed
    buffer.write(BOM)
    for row in rows(items, columns):
        writer.writerow(row)
        if buffer.tell() >= CHUNK:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")
