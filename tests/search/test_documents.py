from datetime import UTC, datetime
from types import SimpleNamespace

from service.search.documents import normalise, product_document, squash, terms
from service.search.sql import word_similarity


def test_normalise_folds_marks_case_and_d_once():
    assert normalise("Nước mắm Tư Tài") == "nuoc mam tu tai"
    assert normalise("ĐẶC SẢN Đà Nẵng") == "dac san da nang"
    assert normalise("  nươc   mam!! ") == "nuoc mam"
    assert normalise("Rượu Hồng Đào, 500 ml") == "ruou hong dao 500 ml"


def test_squash_and_terms():
    assert squash("Nước mắm cá cơm") == "nuocmamcacom"
    assert terms("Mắm ruốc & cá-cơm") == ["mam", "ruoc", "ca", "com"]
    assert terms("") == []


def test_word_similarity_forgives_a_typo_but_not_a_different_word():
    assert word_similarity(["nuoc", "mamm"], ["nuoc", "mam", "ca", "com"]) >= 0.7
    assert word_similarity(["nuoc", "mamm"], ["gio", "tre"]) < 0.2


def test_product_document_carries_folded_text_and_facets():
    category = SimpleNamespace(slug="sauce", name_vi="Nước mắm & mắm", name_en="Fish sauce")
    seller = SimpleNamespace(slug="tu-tai", name="Cơ sở nước mắm Tư Tài")
    published = datetime(2026, 1, 2, tzinfo=UTC)
    product = SimpleNamespace(
        id=7, tenant_id=3, slug="nuoc-mam-tu-tai", title_vi="Nước mắm Tư Tài", title_en="Tư Tài fish sauce",
        description_vi="Cá cơm Cửa Đại ủ chượp", description_en="", unit="chai 500 ml", category=category,
        seller=seller, ocop_stars=4, price=150_000, published_at=published, cover_key="demo/x.jpg")
    tenant = SimpleNamespace(slug="cam-thanh", name="Cẩm Thanh")
    doc = product_document(product, tenant)  # type: ignore[arg-type]
    assert (doc.kind, doc.tenant_id, doc.object_id) == ("product", 3, 7)
    assert doc.title_folded == "nuoc mam tu tai"
    assert doc.squashed == "nuocmamtutai"
    assert "ca com cua dai u chuop" in doc.body_folded and "cam thanh" in doc.body_folded
    assert (doc.category_slug, doc.category_name, doc.seller_slug) == ("sauce", "Nước mắm & mắm", "tu-tai")
    assert (doc.ocop_stars, doc.price, doc.published_at) == (4, 150_000, published)
    assert (doc.commune_slug, doc.commune_name) == ("cam-thanh", "Cẩm Thanh")
    assert doc.url == "/c/cam-thanh/products/nuoc-mam-tu-tai" and doc.image_key == "demo/x.jpg"
