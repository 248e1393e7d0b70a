"""The embedded search backend: SQLite FTS5 or PostgreSQL full-text search + pg_trgm.

Text is folded once in Python (``documents.normalise``), so the database only ever sees
plain ASCII words. Matching runs in two steps: every query word as a prefix (full-text,
title weighted above body); when that finds nothing, trigram similarity forgives typos
(``nuoc mamm``) and the squashed text finds run-together words (``nuocmam``).

Tenant isolation comes from the data layer: every statement selects ``SearchEntry``, so the
session's scope filters it. FTS5 tables are only ever joined to ``SearchEntry``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Float, Integer, Select, case, delete, func, insert, inspect, literal, literal_column, or_, select
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from service.db import TenantScopeError, scope_of
from service.search.backend import PRICE_RANGES, FacetValue, SearchHit, SearchQuery, SearchResult
from service.search.documents import SearchDocument, squash, terms
from service.search.models import SEARCH_TABLE, SearchEntry

FUZZY_THRESHOLD = 0.45  # mean best trigram similarity of the query words (Python side, SQLite)
PG_WORD_SIMILARITY = 0.5
FUZZY_CANDIDATES = 500
SQUASHED_SCORE = 0.9


def trigrams(word: str) -> set[str]:
    padded = f"  {word} "
    return {padded[i:i + 3] for i in range(len(padded) - 2)}


def word_similarity(query_words: Sequence[str], text_words: Sequence[str]) -> float:
    """Mean over the query words of their best trigram (Jaccard) similarity to a word of the text."""
    if not query_words or not text_words:
        return 0.0
    text_grams = [trigrams(word) for word in text_words]
    total = 0.0
    for word in query_words:
        grams = trigrams(word)
        total += max(len(grams & other) / len(grams | other) for other in text_grams)
    return total / len(query_words)


def _has_table(session: Session, name: str) -> bool:
    connection = session.connection()
    cache: dict[str, bool] = connection.info.setdefault("xaso_search_tables", {})
    if name not in cache:
        cache[name] = inspect(connection).has_table(name)
    return cache[name]


class SqlBackend:
    name = "sql"

    # -- writing ---------------------------------------------------------------------------

    def index(self, session: Session, docs: Sequence[SearchDocument]) -> None:
        """Upsert documents in the session's transaction (delete + insert: FTS triggers follow)."""
        if not docs:
            return
        scope = scope_of(session)
        if scope is None:
            raise TenantScopeError("indexing outside any tenant scope")
        table = SEARCH_TABLE
        connection = session.connection()
        for doc in docs:
            if not scope.is_platform and doc.tenant_id != scope.tenant_id:
                raise TenantScopeError("search document of another commune")
            connection.execute(delete(table).where(
                table.c.tenant_id == doc.tenant_id, table.c.kind == doc.kind, table.c.object_id == doc.object_id))
        connection.execute(insert(table), [_row(doc) for doc in docs])

    def refresh_statistics(self, session: Session) -> None:
        """After a bulk (re)index: PostgreSQL's planner needs fresh statistics to combine the tenant index
        with the full-text and trigram indexes (without them it filters every row of the commune)."""
        if session.get_bind().dialect.name == "postgresql":
            session.execute(sql_text("ANALYZE search_entries"))

    def remove(self, session: Session, kind: str, ids: Sequence[int]) -> None:
        if ids:
            session.execute(delete(SearchEntry).where(SearchEntry.kind == kind, SearchEntry.object_id.in_(ids)))

    # -- reading ---------------------------------------------------------------------------

    def search(self, session: Session, query: SearchQuery) -> SearchResult:
        filters = _filters(query)
        words = terms(query.q)
        match = _Match([], [], literal(0.0, Float))
        if words:
            match = self._full_text(session, words)
        total, facets = _count_and_facets(session, match, filters)
        if words and not total:
            match = self._fuzzy(session, words)
            total, facets = _count_and_facets(session, match, filters)

        hits = _page(session, match, filters, query, bool(words)) if total else []
        return SearchResult(hits=hits, total=total, page=max(query.page, 1), per_page=_per_page(query),
                            facets=facets)

    def suggest(self, session: Session, prefix: str, limit: int = 8) -> list[str]:
        """The first titles a search would show, without its count and facets (one statement when it hits)."""
        query = SearchQuery(q=prefix, per_page=limit * 2)
        words = terms(prefix)
        match = self._full_text(session, words) if words else _Match([], [], literal(0.0, Float))
        hits = _page(session, match, [], query, bool(words))
        if words and not hits:
            hits = _page(session, self._fuzzy(session, words), [], query, True)
        titles: list[str] = []
        for hit in hits:
            if hit.title not in titles:
                titles.append(hit.title)
        return titles[:limit]

    # -- matching --------------------------------------------------------------------------

    def _full_text(self, session: Session, words: list[str]) -> _Match:
        dialect = session.get_bind().dialect.name
        if dialect == "postgresql":
            tsquery = func.to_tsquery(sql_text("'simple'::regconfig"), " & ".join(f"{word}:*" for word in words))
            vector: ColumnElement[Any] = literal_column("search_entries.search_vector")
            return _Match([], [vector.op("@@")(tsquery)], func.ts_rank(vector, tsquery) + _phrase_bonus(words))
        # SQLite FTS5: every word as a prefix, title ten times the weight of the body. The FTS rows
        # are joined to SearchEntry (the session's scope filters it), never read on their own.
        fts = (sql_text("SELECT rowid AS entry_id, -bm25(search_fts, 10.0, 1.0) AS rank FROM search_fts "
                        "WHERE search_fts MATCH :match")
               .bindparams(match=" ".join(f'"{word}"*' for word in words))
               .columns(entry_id=Integer, rank=Float)
               .subquery("fts"))
        return _Match([(fts, fts.c.entry_id == SearchEntry.id)], [], fts.c.rank + _phrase_bonus(words))

    def _fuzzy(self, session: Session, words: list[str]) -> _Match:
        squashed = squash(" ".join(words))
        dialect = session.get_bind().dialect.name
        if dialect == "postgresql":
            phrase = " ".join(words)
            # ``phrase <% title`` is word_similarity(phrase, title) >= the threshold, and unlike the
            # function it is answered by the trigram index (set for this transaction only).
            session.execute(sql_text("SELECT set_config('pg_trgm.word_similarity_threshold', :threshold, true)"),
                            {"threshold": str(PG_WORD_SIMILARITY)})
            similar = literal(phrase).op("<%")(SearchEntry.title_folded)
            similarity = func.word_similarity(phrase, SearchEntry.title_folded)
            squashed_hit = SearchEntry.squashed.contains(squashed) if len(squashed) >= 4 else literal(False)
            score = func.greatest(similarity, case((squashed_hit, SQUASHED_SCORE), else_=0.0))
            return _Match([], [or_(similar, squashed_hit)], score)
        scores = self._fuzzy_scores_sqlite(session, words, squashed)
        if not scores:
            return _Match([], [literal(False)], literal(0.0, Float))
        # The scored candidates as one JSON parameter, joined to SearchEntry like the FTS rows.
        scored = (sql_text("SELECT CAST(key AS INTEGER) AS entry_id, value AS score FROM json_each(:scores)")
                  .bindparams(scores=json.dumps({str(entry_id): score for entry_id, score in scores.items()}))
                  .columns(entry_id=Integer, score=Float)
                  .subquery("fuzzy"))
        return _Match([(scored, scored.c.entry_id == SearchEntry.id)], [], scored.c.score)

    def _fuzzy_scores_sqlite(self, session: Session, words: list[str], squashed: str) -> dict[int, float]:
        candidates: Select[Any] = select(  # type: ignore[assignment]
            SearchEntry.id, SearchEntry.title_folded, SearchEntry.squashed)
        grams = sorted({gram for word in [*words, squashed] for gram in _inner_trigrams(word)})
        if grams and _has_table(session, "search_trgm"):
            trgm = (sql_text("SELECT rowid AS entry_id, bm25(search_trgm) AS rank FROM search_trgm "
                             "WHERE search_trgm MATCH :match")
                    .bindparams(match=" OR ".join(f'"{gram}"' for gram in grams))
                    .columns(entry_id=Integer, rank=Float)
                    .subquery("trgm"))
            candidates = candidates.join(trgm, trgm.c.entry_id == SearchEntry.id).order_by(trgm.c.rank)
        scores: dict[int, float] = {}
        for entry_id, title_folded, entry_squashed in session.execute(candidates.limit(FUZZY_CANDIDATES)):
            score = word_similarity(words, title_folded.split())
            if len(squashed) >= 4 and squashed in entry_squashed:
                score = max(score, SQUASHED_SCORE)
            if score >= FUZZY_THRESHOLD:
                scores[entry_id] = score
        return scores


@dataclass(frozen=True)
class _Match:
    """How a query finds its rows: tables joined to SearchEntry, conditions on it, and the score."""

    joins: list[tuple[Any, ColumnElement[Any]]]
    conditions: list[ColumnElement[Any]]
    score: ColumnElement[Any]

    def select(self, *columns: Any) -> Select[Any]:
        statement: Select[Any] = select(*columns).select_from(SearchEntry)
        for target, onclause in self.joins:
            statement = statement.join(target, onclause)
        return statement.where(*self.conditions)


def _per_page(query: SearchQuery) -> int:
    return max(1, min(query.per_page, 100))


def _page(session: Session, match: _Match, filters: list[ColumnElement[Any]], query: SearchQuery,
          relevance: bool) -> list[SearchHit]:
    per_page = _per_page(query)
    statement = match.select(SearchEntry, match.score.label("score")).where(*filters)
    statement = statement.order_by(*_order(query.sort if relevance else _no_relevance(query.sort), match.score))
    rows = session.execute(statement.limit(per_page).offset((max(query.page, 1) - 1) * per_page)).all()
    return [_hit(entry, float(row_score or 0.0)) for entry, row_score in rows]


def _inner_trigrams(word: str) -> set[str]:
    return {word[i:i + 3] for i in range(len(word) - 2)}


def _phrase_bonus(words: list[str]) -> ColumnElement[Any]:
    """Titles holding the words in order, and titles starting with them, first."""
    phrase = " ".join(words)
    return (case((SearchEntry.title_folded.startswith(phrase), 2.0), else_=0.0)
            + case((SearchEntry.title_folded.contains(phrase), 1.0), else_=0.0))


def _filters(query: SearchQuery) -> list[ColumnElement[Any]]:
    filters: list[ColumnElement[Any]] = []
    if query.kind:
        filters.append(SearchEntry.kind == query.kind)
    if query.category:
        filters.append(SearchEntry.category_slug == query.category)
    if query.ocop_stars:
        filters.append(SearchEntry.ocop_stars.in_(list(query.ocop_stars)))
    if query.price_min is not None:
        filters.append(SearchEntry.price >= query.price_min)
    if query.price_max is not None:
        filters.append(SearchEntry.price <= query.price_max)
    return filters


def _no_relevance(sort: str) -> str:
    return "newest" if sort == "relevance" else sort


def _order(sort: str, score: ColumnElement[Any]) -> list[Any]:
    newest = [SearchEntry.published_at.desc(), SearchEntry.id.desc()]
    if sort == "price_asc":
        return [SearchEntry.price.asc(), *newest]
    if sort == "price_desc":
        return [SearchEntry.price.desc(), *newest]
    if sort == "newest":
        return newest
    return [score.desc(), SearchEntry.title_folded.asc(), SearchEntry.id.asc()]


def _price_range() -> ColumnElement[Any]:
    whens = [(SearchEntry.price < high, key) for key, _low, high in PRICE_RANGES if high is not None]
    return case((SearchEntry.price.is_(None), None), *whens, else_=PRICE_RANGES[-1][0])


_FACET_COLUMNS = ("category", "ocop_stars", "seller", "commune")


def _count_and_facets(session: Session, match: _Match,
                      filters: list[ColumnElement[Any]]) -> tuple[int, dict[str, list[FacetValue]]]:
    """The total and every facet from ONE grouped statement over the match set (summed up in Python)."""
    bucket = _price_range()
    statement = (match.select(SearchEntry.category_slug, func.max(SearchEntry.category_name), SearchEntry.ocop_stars,
                              SearchEntry.seller_slug, func.max(SearchEntry.seller_name), SearchEntry.commune_slug,
                              func.max(SearchEntry.commune_name), bucket, func.count(SearchEntry.id))
                 .where(*filters)
                 .group_by(SearchEntry.category_slug, SearchEntry.ocop_stars, SearchEntry.seller_slug,
                           SearchEntry.commune_slug, bucket))
    total = 0
    counts: dict[str, dict[Any, list[Any]]] = {name: {} for name in _FACET_COLUMNS}
    buckets: dict[str, int] = {}
    for category, category_name, stars, seller, seller_name, commune, commune_name, price_range, n in (
            session.execute(statement)):
        total += n
        for name, value, label in (("category", category, category_name), ("ocop_stars", stars, stars),
                                   ("seller", seller, seller_name), ("commune", commune, commune_name)):
            if value is None:
                continue
            entry = counts[name].setdefault(value, [None, 0])
            if label is not None and (entry[0] is None or label > entry[0]):
                entry[0] = label
            entry[1] += n
        if price_range is not None:
            buckets[price_range] = buckets.get(price_range, 0) + n
    if not total:
        return 0, {}
    facets: dict[str, list[FacetValue]] = {}
    for name in _FACET_COLUMNS:
        ordered = sorted(counts[name].items(), key=lambda item: (-item[1][1], item[0]))
        facets[name] = [FacetValue(str(value), str(label), int(n)) for value, (label, n) in ordered]
    facets["price_range"] = [FacetValue(key, key, buckets[key]) for key, _l, _h in PRICE_RANGES if key in buckets]
    return total, facets


def _row(doc: SearchDocument) -> dict[str, Any]:
    from service.db import utcnow

    return {
        "tenant_id": doc.tenant_id, "kind": doc.kind, "object_id": doc.object_id, "title": doc.title[:300],
        "title_folded": doc.title_folded[:300], "body_folded": doc.body_folded, "squashed": doc.squashed[:300],
        "category_slug": doc.category_slug, "category_name": doc.category_name, "ocop_stars": doc.ocop_stars,
        "price": doc.price, "seller_slug": doc.seller_slug, "seller_name": doc.seller_name,
        "commune_slug": doc.commune_slug, "commune_name": doc.commune_name, "published_at": doc.published_at,
        "url": doc.url, "image_key": doc.image_key, "indexed_at": utcnow(),
    }


def _hit(entry: SearchEntry, score: float) -> SearchHit:
    return SearchHit(
        kind=entry.kind, object_id=entry.object_id, title=entry.title, url=entry.url, price=entry.price,
        ocop_stars=entry.ocop_stars, category_slug=entry.category_slug, category_name=entry.category_name,
        seller_slug=entry.seller_slug, seller_name=entry.seller_name, commune_slug=entry.commune_slug,
        commune_name=entry.commune_name, published_at=entry.published_at, image_key=entry.image_key, score=score,
    )
