"""``xaso feeds export``: the file, its rows, refusals, and no half-written file."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET

import pytest

from service.feeds.cli import feeds_group


@pytest.fixture
def out_dir(tmp_path):
    folder = tmp_path / "out"  # tmp_path also holds the test database
    folder.mkdir()
    return folder


def _export(app, *args: str):
    return app.test_cli_runner().invoke(feeds_group, ["export", *args])


def test_csv_export_writes_the_published_products(app, world, out_dir):
    out = out_dir / "cam-thanh.csv"
    result = _export(app, "--tenant", "cam-thanh", "--format", "csv", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "wrote 2 products" in result.stdout
    assert "cam-thanh csv" in result.stderr  # the progress bar's label (not a TTY: printed once)
    body = out.read_bytes()
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(body[3:].decode("utf-8"), newline="")))
    assert {row["Tên sản phẩm"]: row["Giá bán (VNĐ)"] for row in rows} == {"Nước mắm cá cơm": "150000",
                                                                           "Giỏ tre": "45000"}
    assert [p.name for p in out_dir.iterdir()] == ["cam-thanh.csv"]  # no temporary file left


def test_json_and_google_merchant_exports(app, world, out_dir):
    out = out_dir / "feed.json"
    result = _export(app, "--tenant", "nam-phuoc", "--format", "json", "--out", str(out), "--lang", "en")
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    json.loads(text)
    assert "nam-phuoc-" in text and "cam-thanh-" not in text  # only that commune's products
    xml_out = out_dir / "feed.xml"
    result = _export(app, "--tenant", "cam-thanh", "--format", "google-merchant", "--out", str(xml_out))
    assert result.exit_code == 0, result.output
    root = ET.fromstring(xml_out.read_bytes())
    assert root.tag == "rss" and root.find("channel") is not None
    # the test products have no photo, which Google refuses: they are left out (the feed report lists them)
    assert root.findall("./channel/item") == []


def test_existing_file_is_replaced_whole(app, world, out_dir):
    out = out_dir / "feed.csv"
    out.write_text("old")
    assert _export(app, "--tenant", "cam-thanh", "--format", "csv", "--out", str(out)).exit_code == 0
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")


@pytest.mark.parametrize(("args", "message"), [
    (["--tenant", "atlantis", "--format", "csv"], "No such commune"),
    (["--tenant", "cam-thanh", "--format", "xlsx"], "Invalid value for '--format'"),
    (["--tenant", "cam-thanh", "--format", "csv", "--lang", "fr"], "Invalid value for '--lang'"),
])
def test_refuses_unknown_commune_format_or_language(app, world, out_dir, args, message):
    out = out_dir / "feed.out"
    result = _export(app, *args, "--out", str(out))
    assert result.exit_code != 0
    assert message in result.output
    assert list(out_dir.iterdir()) == []


def test_a_failed_export_leaves_the_old_file_and_no_temporary(app, world, out_dir, monkeypatch):
    from service.feeds import formats

    def broken(items, context):
        yield b"half a feed"
        raise RuntimeError("disk on fire")

    fmt = formats.load_formats()["csv"]
    monkeypatch.setitem(formats.FORMATS, "csv", formats.FeedFormat(fmt.name, fmt.filename, fmt.content_type, broken))
    out = out_dir / "feed.csv"
    out.write_text("yesterday's feed")
    result = _export(app, "--tenant", "cam-thanh", "--format", "csv", "--out", str(out))
    assert result.exit_code != 0
    assert out.read_text() == "yesterday's feed"
    assert [p.name for p in out_dir.iterdir()] == ["feed.csv"]
