"""Announcements: scheduled publication, expiry, pinning, categories, the public pages and feed, the staff
pages and who may use them, and the demo."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from xml.etree import ElementTree

from flask import Flask
from sqlalchemy import func, select

from service.audit.models import AuditEntry
from service.db import PLATFORM, Scope, database, utcnow
from service.engagement import announcements as notices
from service.engagement.models import Announcement, AnnouncementCategory, PublishState, Question, QuestionStatus
from tests.admin.helpers import sign_in

PUBLIC = "/c/cam-thanh/announcements"
ADMIN = "/c/cam-thanh/admin/announcements"


def signed_in(app: Flask, email: str) -> Any:
    client = app.test_client()
    with database(app).session(PLATFORM) as session:
        sign_in(client, session, email)
    return client


def add_category(app: Flask, commune: Any, code: str, name_vi: str, name_en: str = "") -> int:
    with app.app_context(), database(app).session(Scope(commune.id)) as session:
        category = notices.create_category(session, code=code, name_vi=name_vi, name_en=name_en)
        session.commit()
        return category.id


def add_announcement(app: Flask, commune: Any, title: str, *, publish_at: datetime | None = None,
                     published: bool = True, **data: Any) -> tuple[int, str]:
    """An announcement built through the services; published ``publish_at`` (default now) unless a draft."""
    with app.app_context(), database(app).session(Scope(commune.id)) as session:
        announcement = notices.create_announcement(session, {"title_vi": title, **data})
        if published:
            notices.publish(session, announcement, publish_at)
        session.commit()
        return announcement.id, announcement.slug


def change(app: Flask, announcement_id: int, **values: Any) -> None:
    with database(app).session(PLATFORM) as session:
        announcement = session.get(Announcement, announcement_id)
        for name, value in values.items():
            setattr(announcement, name, value)
        session.commit()


def page(client: Any, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return str(response.get_data(as_text=True))


def test_a_scheduled_announcement_appears_only_once_its_time_has_come(app, client, world):
    announcement_id, slug = add_announcement(app, world.a, "Lịch tiêm phòng dại cho chó mèo",
                                             publish_at=utcnow() + timedelta(days=2))
    assert "Lịch tiêm phòng dại" not in page(client, PUBLIC)
    assert client.get(f"{PUBLIC}/{slug}").status_code == 404
    assert "Lịch tiêm phòng dại" not in page(client, f"{PUBLIC}.atom")
    change(app, announcement_id, publish_at=utcnow() - timedelta(minutes=1))
    assert "Lịch tiêm phòng dại" in page(client, PUBLIC)
    assert "Lịch tiêm phòng dại" in page(client, f"{PUBLIC}/{slug}")


def test_an_expired_announcement_leaves_the_list_but_its_link_still_works(app, client, world):
    announcement_id, slug = add_announcement(app, world.a, "Cúp điện thôn 2 sáng thứ Bảy",
                                             publish_at=utcnow() - timedelta(days=3),
                                             expires_at=utcnow() + timedelta(hours=1))
    assert "Cúp điện thôn 2" in page(client, PUBLIC)
    change(app, announcement_id, expires_at=utcnow() - timedelta(minutes=1))
    assert "Cúp điện thôn 2" not in page(client, PUBLIC)
    detail = page(client, f"{PUBLIC}/{slug}?lang=en")
    assert "Cúp điện thôn 2" in detail and "This announcement has ended" in detail


def test_pinned_first_then_newest_and_filtered_by_category(app, client, world):
    farming = add_category(app, world.a, "nong-nghiep", "Nông nghiệp", "Farming")
    add_category(app, world.a, "du-lich", "Du lịch")
    now = utcnow()
    add_announcement(app, world.a, "Thông báo cũ đã ghim", publish_at=now - timedelta(days=30), is_pinned=True)
    add_announcement(app, world.a, "Thông báo mới nhất", publish_at=now - timedelta(hours=1),
                     category_id=farming)
    add_announcement(app, world.a, "Thông báo tuần trước", publish_at=now - timedelta(days=7))
    html = page(client, f"{PUBLIC}?lang=en")
    order = [html.index(title) for title in ("Thông báo cũ đã ghim", "Thông báo mới nhất", "Thông báo tuần trước")]
    assert order == sorted(order)
    assert "Pinned" in html and "Farming" in html
    farming_only = page(client, f"{PUBLIC}?category=nong-nghiep")
    assert "Thông báo mới nhất" in farming_only and "Thông báo tuần trước" not in farming_only
    assert "Thông báo cũ đã ghim" not in page(client, f"{PUBLIC}?category=du-lich")
    # an unknown category shows everything rather than an empty page
    assert "Thông báo tuần trước" in page(client, f"{PUBLIC}?category=khong-co")
    # another commune sees none of it
    assert "Thông báo mới nhất" not in page(client, "/c/nam-phuoc/announcements")


def test_the_public_list_is_paginated(app, client, world):
    now = utcnow()
    for number in range(23):
        add_announcement(app, world.a, f"Tin số {number:02d}", publish_at=now - timedelta(hours=number + 1))
    first = page(client, PUBLIC)
    assert "Tin số 00" in first and "Tin số 19" in first and "Tin số 20" not in first
    second = page(client, f"{PUBLIC}?page=2")
    assert "Tin số 22" in second and "Tin số 00" not in second


def test_drafts_archived_and_other_communes_answer_404(app, client, world):
    _draft_id, draft = add_announcement(app, world.a, "Bản nháp chưa đăng", published=False)
    archived_id, archived = add_announcement(app, world.a, "Tin đã lưu trữ")
    assert client.get(f"{PUBLIC}/{archived}").status_code == 200
    with app.app_context(), database(app).session(Scope(world.a.id)) as session:
        notices.archive(session, session.get(Announcement, archived_id))
        session.commit()
    for slug in (draft, archived):
        assert client.get(f"{PUBLIC}/{slug}").status_code == 404
    assert "Tin đã lưu trữ" not in page(client, PUBLIC)
    _id, other = add_announcement(app, world.b, "Tin của Nam Phước")
    assert client.get(f"{PUBLIC}/{other}").status_code == 404
    assert client.get(f"/c/nam-phuoc/announcements/{other}").status_code == 200


def test_slugs_are_unique_in_a_commune_and_kept_when_the_title_changes(app, world):
    _a, first = add_announcement(app, world.a, "Họp dân thôn Thanh Tam")
    second_id, second = add_announcement(app, world.a, "Họp dân thôn Thanh Tam")
    _b, elsewhere = add_announcement(app, world.b, "Họp dân thôn Thanh Tam")
    assert (first, second, elsewhere) == ("hop-dan-thon-thanh-tam", "hop-dan-thon-thanh-tam-2",
                                          "hop-dan-thon-thanh-tam")
    with app.app_context(), database(app).session(Scope(world.a.id)) as session:
        announcement = session.get(Announcement, second_id)
        changes = notices.update_announcement(session, announcement, {"title_vi": "Họp dân thôn Thanh Tam (đổi giờ)"})
        assert changes["title_vi"][1] == "Họp dân thôn Thanh Tam (đổi giờ)" and announcement.slug == second


def test_english_falls_back_to_vietnamese_and_the_body_is_plain_escaped_text(app, client, world):
    _id, slug = add_announcement(app, world.a, "Thông báo nghỉ lễ", title_en="Holiday closure",
                                 summary_vi="Tóm tắt", body_vi="Đoạn một <script>alert(1)</script>\n\nĐoạn hai",
                                 body_en="")
    english = page(client, f"{PUBLIC}/{slug}?lang=en")
    assert "<h1>Holiday closure</h1>" in english and "Announcements" in english
    assert "<p>Đoạn một &lt;script&gt;alert(1)&lt;/script&gt;</p>" in english and "<p>Đoạn hai</p>" in english
    assert "<script>alert" not in english
    vietnamese = page(client, f"{PUBLIC}/{slug}?lang=vi")
    assert "<h1>Thông báo nghỉ lễ</h1>" in vietnamese and "Thông báo" in vietnamese


def test_the_atom_feed_lists_public_announcements(app, client, world):
    add_announcement(app, world.a, "Tin công khai", title_en="Public news", body_vi="Nội dung")
    add_announcement(app, world.a, "Tin nháp", published=False)
    response = client.get(f"{PUBLIC}.atom?lang=en")
    assert response.status_code == 200 and response.mimetype == "application/atom+xml"
    feed = ElementTree.fromstring(response.get_data())
    ns = {"atom": "http://www.w3.org/2005/Atom"}
    titles = [entry.findtext("atom:title", namespaces=ns) for entry in feed.findall("atom:entry", ns)]
    assert titles == ["Public news"]
    link = feed.find("atom:entry/atom:link", ns)
    assert link is not None and link.get("href", "").endswith("/c/cam-thanh/announcements/tin-cong-khai")


# -- the staff pages -----------------------------------------------------------------------------

def audit_actions(app: Flask) -> set[str]:
    with database(app).session(PLATFORM) as session:
        return set(session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("announcement%"))))


def test_staff_write_schedule_publish_pin_and_archive(app, world):
    editor = signed_in(app, world.a.users["editor"])
    assert editor.post("/c/cam-thanh/admin/announcement-categories",
                       data={"name_vi": "Nông nghiệp", "name_en": "Farming"}).status_code == 303
    assert editor.post("/c/cam-thanh/admin/announcement-categories",
                       data={"name_vi": "Nông nghiệp"}).status_code == 422  # same code
    with database(app).session(PLATFORM) as session:
        category_id = session.scalar(select(AnnouncementCategory.id).where(AnnouncementCategory.code == "nong-nghiep"))
    assert "Nông nghiệp" in page(editor, "/c/cam-thanh/admin/announcement-categories")
    assert editor.get(f"{ADMIN}/new").status_code == 200
    bad = editor.post(f"{ADMIN}/new", data={"title_vi": "", "publish_mode": "draft"})
    assert bad.status_code == 422 and 'id="title_vi-error"' in bad.get_data(as_text=True)
    # scheduled at a local time, stored in UTC (Vietnam is UTC+7)
    response = editor.post(f"{ADMIN}/new", data={
        "title_vi": "Lịch cắt điện tháng sau", "title_en": "Power cuts next month", "body_vi": "Chi tiết",
        "category_id": str(category_id), "publish_mode": "schedule", "publish_at": "2031-03-02T08:00",
        "expires_at": "2031-03-10T17:30"})
    assert response.status_code == 303
    announcement_id = int(re.search(r"/announcements/(\d+)/edit$", response.headers["Location"]).group(1))
    with database(app).session(PLATFORM) as session:
        announcement = session.get(Announcement, announcement_id)
        assert announcement.status == PublishState.PUBLISHED
        assert announcement.publish_at == datetime(2031, 3, 2, 1, 0, tzinfo=UTC)
        assert announcement.expires_at == datetime(2031, 3, 10, 10, 30, tzinfo=UTC)
        assert announcement.category_id == category_id and announcement.author_user_id is not None
    form = page(editor, f"{ADMIN}/{announcement_id}/edit")
    assert 'value="2031-03-02T08:00"' in form and 'value="schedule" checked' in form
    listing = page(editor, f"{ADMIN}?lang=en")
    assert "Lịch cắt điện tháng sau" in listing and "Scheduled" in listing
    assert "Lịch cắt điện" not in page(app.test_client(), PUBLIC)
    # a schedule in the past, or an end before the start, is refused
    past = editor.post(f"{ADMIN}/{announcement_id}/edit", data={
        "title_vi": "Lịch cắt điện tháng sau", "publish_mode": "schedule", "publish_at": "2020-01-01T08:00"})
    assert past.status_code == 422 and 'id="publish_at-error"' in past.get_data(as_text=True)
    ends_first = editor.post(f"{ADMIN}/{announcement_id}/edit", data={
        "title_vi": "Lịch cắt điện tháng sau", "publish_mode": "schedule", "publish_at": "2031-03-02T08:00",
        "expires_at": "2031-03-01T08:00"})
    assert ends_first.status_code == 422 and 'id="expires_at-error"' in ends_first.get_data(as_text=True)
    # published now, pinned
    assert editor.post(f"{ADMIN}/{announcement_id}/edit", data={
        "title_vi": "Lịch cắt điện tháng sau", "body_vi": "Chi tiết mới", "category_id": str(category_id),
        "publish_mode": "now", "is_pinned": "1"}).status_code == 303
    public = page(app.test_client(), f"{PUBLIC}/lich-cat-dien-thang-sau")
    assert "Chi tiết mới" in public
    assert editor.post(f"{ADMIN}/{announcement_id}/pin", data={"pinned": "0"}).status_code == 303
    with database(app).session(PLATFORM) as session:
        assert session.get(Announcement, announcement_id).is_pinned is False
    assert editor.post(f"{ADMIN}/{announcement_id}/archive").status_code == 303
    assert app.test_client().get(f"{PUBLIC}/lich-cat-dien-thang-sau").status_code == 404
    with database(app).session(PLATFORM) as session:
        assert session.get(Announcement, announcement_id).status == PublishState.ARCHIVED
    assert {"announcement_category.created", "announcement.created", "announcement.updated", "announcement.unpinned",
            "announcement.archived"} <= audit_actions(app)
    # back to draft takes it off the site
    assert editor.post(f"{ADMIN}/{announcement_id}/edit", data={
        "title_vi": "Lịch cắt điện tháng sau", "publish_mode": "draft"}).status_code == 303
    with database(app).session(PLATFORM) as session:
        announcement = session.get(Announcement, announcement_id)
        assert (announcement.status, announcement.publish_at) == (PublishState.DRAFT, None)


def test_only_this_communes_staff_manage_announcements(app, world):
    announcement_id, _slug = add_announcement(app, world.a, "Tin nội bộ")
    urls = [ADMIN, f"{ADMIN}/new", f"{ADMIN}/{announcement_id}/edit", "/c/cam-thanh/admin/announcement-categories"]
    anonymous = app.test_client()
    for url in urls:
        response = anonymous.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    for role in ("volunteer", "seller"):
        client = signed_in(app, world.a.users[role])
        for url in urls:
            assert client.get(url).status_code == 403, (role, url)
        assert client.post(f"{ADMIN}/{announcement_id}/archive").status_code == 403
    outsider = signed_in(app, world.b.users["admin"])
    for url in urls:
        assert outsider.get(url).status_code == 404
    # another commune's announcement is not found from this commune's admin
    other_id, _other = add_announcement(app, world.b, "Tin Nam Phước")
    admin = signed_in(app, world.a.users["admin"])
    assert admin.get(f"{ADMIN}/{other_id}/edit").status_code == 404
    assert admin.post(f"{ADMIN}/{other_id}/archive").status_code == 404
    for url in urls:
        assert admin.get(url).status_code == 200


def test_demo_civic_data_loads_for_a_commune(app, client, world):
    from service.engagement.demo_civic import load_civic
    from service.tenants.models import Tenant

    with app.app_context(), database(app).session(Scope(world.a.id)) as session:
        load_civic(session, session.get(Tenant, world.a.id))
        session.commit()
    with database(app).session(PLATFORM) as session:
        assert session.scalar(select(func.count()).select_from(AnnouncementCategory)) == 3
        assert session.scalar(select(func.count()).select_from(Announcement)) == 5
        statuses = sorted(session.scalars(select(Question.status)))
        assert statuses.count(QuestionStatus.PUBLISHED) == 3 and QuestionStatus.PENDING in statuses \
            and QuestionStatus.REJECTED in statuses
    listing = page(client, PUBLIC)
    assert listing.count('class="card"') == 3  # pinned + two past ones; not the scheduled nor the ended one
    assert "Lịch tiếp công dân" in listing and "Lễ hội rằm" not in listing and "Tạm ngưng cấp nước" not in listing
    answers = page(client, "/c/cam-thanh/questions")
    assert answers.count('class="card"') == 3 and "lan.nguyen@example.test" not in answers
