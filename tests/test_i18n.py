"""Vietnamese is the default language: every UI string must have a Vietnamese translation."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "service" / "translations" / "vi" / "LC_MESSAGES" / "messages.po"


def _extracted_msgids() -> set[str]:
    with open(ROOT / "babel.cfg") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    ids: set[str] = set()
    for folder in ("service", "frontend_templates"):
        mapped = [(pattern.removeprefix(f"{folder}/"), method) for pattern, method in method_map
                  if pattern.startswith(f"{folder}/")]
        for _file, _line, message, _comments, _ctx in extract_from_dir(ROOT / folder, mapped, options_map):
            ids.add(message if isinstance(message, str) else message[0])
    return ids


def test_every_ui_string_has_a_vietnamese_translation():
    with open(CATALOG, "rb") as handle:
        catalog = read_po(handle, locale="vi")
    translated = {m.id for m in catalog if m.id and m.string and not m.fuzzy}
    missing = sorted(_extracted_msgids() - translated)
    assert not missing, f"untranslated msgids: {missing[:20]}"


def test_extraction_finds_the_templates():
    assert "Page not found" in _extracted_msgids()
