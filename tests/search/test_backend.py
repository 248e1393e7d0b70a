"""The SQL backend on the test world: index follows products, isolation, filters, facets, sorts."""

from __future__ import annotations

from sqlalchemy import select

from service.catalog import services as catalog
from service.catalog.models import Product
from service.db import PLATFORM, Scope, database
from service.search.backend import SearchQuery
from service.search.indexing import reindex
from service.search.models import SearchEntry
from service.search.sql import SqlBackend
from service.tenants.services import SYSTEM

backend = SqlBackend()


def _search(app, scope, **query):
    with database(app).session(scope) as session:
        return backend.search(session, SearchQuery(**query))


def _titles(result):
    return [hit.title for hit in result.hits]


def test_only_published_products_are_indexed_in_the_same_transaction(app, world):
    with database(app).session(PLATFORM) as session:
        entries = {(e.commune_slug, e.title) for e in session.scalars(select(SearchEntry))}
    assert entries == {("cam-thanh", "Nước mắm cá cơm"), ("cam-thanh", "Giỏ tre"),
                       ("nam-phuoc", "Nước mắm cá cơm"), ("nam-phuoc", "Giỏ tre")}


def test_commune_search_never_returns_another_communes_documents(app, world):
    result = _search(app, Scope(world.a.id), q="nuoc mam")
    assert _titles(result) == ["Nước mắm cá cơm"]
    assert {hit.commune_slug for hit in result.hits} == {"cam-thanh"}
    assert result.hits[0].object_id == world.a.products["published"]
    assert _search(app, Scope(world.b.id), q="gio").hits[0].object_id == world.b.products["cheap"]
    # typo tolerance and browsing without words stay inside the commune as well
    assert {h.commune_slug for h in _search(app, Scope(world.b.id), q="nuoc mamm").hits} == {"nam-phuoc"}
    assert {h.commune_slug for h in _search(app, Scope(world.b.id)).hits} == {"nam-phuoc"}


def test_platform_scope_searches_every_commune_with_labels(app, world):
    result = _search(app, PLATFORM, q="Nước mắm")
    assert result.total == 2
    assert sorted((hit.commune_slug, hit.commune_name) for hit in result.hits) == [
        ("cam-thanh", "Cẩm Thanh"), ("nam-phuoc", "Nam Phước")]
    communes = {facet.value: facet.count for facet in result.facets["commune"]}
    assert communes == {"cam-thanh": 1, "nam-phuoc": 1}


def test_marks_partial_marks_typos_and_squashed_words(app, world):
    scope = Scope(world.a.id)
    for q in ["nuoc mam", "NƯỚC MẮM", "nươc mam", "nuoc mamm", "nuocmam", "mam ca", "nuo", "ca com"]:
        assert _titles(_search(app, scope, q=q)) == ["Nước mắm cá cơm"], q
    assert _search(app, scope, q="xe may").total == 0


def test_filters_combine_and_facets_count_the_filtered_set(app, world):
    scope = Scope(world.a.id)
    everything = _search(app, scope)
    assert everything.total == 2
    assert {f.value: f.count for f in everything.facets["category"]} == {"nuoc-mam": 1, "thu-cong": 1}
    assert {f.value: f.count for f in everything.facets["ocop_stars"]} == {"3": 1, "4": 1}
    assert {f.value: f.count for f in everything.facets["price_range"]} == {"0-100000": 1, "100000-300000": 1}
    assert sum(f.count for f in everything.facets["seller"]) == 2

    assert _titles(_search(app, scope, ocop_stars=[4])) == ["Nước mắm cá cơm"]
    assert _titles(_search(app, scope, price_max=100_000)) == ["Giỏ tre"]
    assert _search(app, scope, category="nuoc-mam", price_max=100_000).total == 0
    assert _titles(_search(app, scope, category="thu-cong", ocop_stars=[3, 5], price_min=10_000)) == ["Giỏ tre"]
    assert _search(app, scope, kind="homestay").total == 0


def test_sorts_and_paging(app, world):
    scope = Scope(world.a.id)
    assert _titles(_search(app, scope, sort="price_asc")) == ["Giỏ tre", "Nước mắm cá cơm"]
    assert _titles(_search(app, scope, sort="price_desc")) == ["Nước mắm cá cơm", "Giỏ tre"]
    page2 = _search(app, scope, sort="price_asc", page=2, per_page=1)
    assert (_titles(page2), page2.total) == (["Nước mắm cá cơm"], 2)


def test_unpublishing_removes_and_editing_reindexes(app, world):
    with database(app).session(Scope(world.a.id)) as session:
        product = session.get(Product, world.a.products["published"])
        catalog.change_status(session, SYSTEM, product, "archive")
        cheap = session.get(Product, world.a.products["cheap"])
        cheap.title_vi = "Giỏ tre đan tay"
        session.commit()
    scope = Scope(world.a.id)
    assert _search(app, scope, q="nuoc mam").total == 0
    assert _titles(_search(app, scope, q="dan tay")) == ["Giỏ tre đan tay"]
    assert _search(app, Scope(world.b.id), q="nuoc mam").total == 1


def test_reindex_rebuilds_the_index(app, world):
    with database(app).session(PLATFORM) as session:
        session.execute(SearchEntry.__table__.delete())
        session.commit()
    assert _search(app, PLATFORM, q="gio tre").total == 0
    with database(app).session(PLATFORM) as session:
        assert reindex(session) == 4
        session.commit()
    assert _search(app, PLATFORM, q="gio tre").total == 2


def test_suggest(app, world):
    with database(app).session(Scope(world.a.id)) as session:
        assert backend.suggest(session, "nuoc m") == ["Nước mắm cá cơm"]
        assert backend.suggest(session, "") == ["Nước mắm cá cơm", "Giỏ tre"] or len(backend.suggest(session, "")) == 2


def test_cli_reindex_one_commune_or_all(app, world, tmp_path, database_url):
    from click.testing import CliRunner

    from service.cli import main

    with database(app).session(PLATFORM) as session:
        session.execute(SearchEntry.__table__.delete())
        session.commit()
    env = {"DATABASE_URL": database_url, "XASO_INSTANCE_PATH": str(tmp_path / "instance"),
           "MEDIA_ROOT": str(tmp_path / "media"), "SECRET_KEY": "cli-test"}
    result = CliRunner().invoke(main, ["search", "reindex", "--tenant", "cam-thanh"], env=env,
                                catch_exceptions=False)
    assert result.exit_code == 0 and "indexed 2 documents" in result.output, result.output
    assert {h.commune_slug for h in _search(app, PLATFORM, q="gio tre").hits} == {"cam-thanh"}
    result = CliRunner().invoke(main, ["search", "reindex"], env=env, catch_exceptions=False)
    assert "indexed 4 documents" in result.output
    assert _search(app, PLATFORM, q="gio tre").total == 2
    result = CliRunner().invoke(main, ["search", "reindex", "--tenant", "nowhere"], env=env)
    assert result.exit_code != 0


def test_renaming_a_seller_or_the_commune_reindexes_their_products(app, world):
    from service.tenants.models import Tenant

    with database(app).session(Scope(world.a.id)) as session:
        seller = catalog.get_seller(session, world.a.sellers["own"])
        catalog.update_seller(session, SYSTEM, seller, {"name": "Cơ sở Nước mắm Hai Hùng"})
        session.commit()
        assert _titles(backend.search(session, SearchQuery(q="hai hung"))) == ["Nước mắm cá cơm"]
        session.get(Tenant, world.a.id).name = "Xã Cẩm Thanh"
        session.commit()
        names = set(session.scalars(select(SearchEntry.commune_name)))
    assert names == {"Xã Cẩm Thanh"}
    result = _search(app, PLATFORM, q="gio tre")
    assert {f.label for f in result.facets["commune"]} == {"Xã Cẩm Thanh", "Nam Phước"}
