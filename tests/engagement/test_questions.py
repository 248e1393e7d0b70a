"""Public Q&A: asking (checks, honeypot, rate limit), the tracking page before and after the answer, staff
answering or refusing, the asker's notification in their language, and the asker's privacy."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import func, select

from service.audit.models import AuditEntry
from service.db import PLATFORM, Scope, database
from service.engagement import announcements as notices
from service.engagement.models import PrivateContact, Question, QuestionStatus
from service.jobs.models import OutboxMessage
from tests.admin.helpers import sign_in

ASK = "/c/cam-thanh/questions/new"
PUBLIC = "/c/cam-thanh/questions"
ADMIN = "/c/cam-thanh/admin/questions"
NAME, PHONE, EMAIL = "Phạm Thị Riêng Tư", "0905 765 432", "rieng.tu@example.test"
GOOD = {"title": "Xin hỏi thủ tục đăng ký kết hôn", "body": "Tôi cần mang giấy tờ gì khi đăng ký kết hôn ở xã?"}


def signed_in(app: Flask, email: str) -> Any:
    client = app.test_client()
    with database(app).session(PLATFORM) as session:
        sign_in(client, session, email)
    return client


def ask(client: Any, lang: str = "vi", **fields: str) -> Any:
    return client.post(f"{ASK}?lang={lang}", data={**GOOD, **fields})


def question(app: Flask, code: str) -> Question:
    with database(app).session(PLATFORM) as session:
        found = session.scalars(select(Question).where(Question.code == code)).one()
        session.expunge(found)
        return found


def count(app: Flask, model: Any) -> int:
    with database(app).session(PLATFORM) as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def outbox(app: Flask) -> list[OutboxMessage]:
    with database(app).session(PLATFORM) as session:
        return list(session.scalars(select(OutboxMessage).where(
            OutboxMessage.topic.in_(("email.send", "sms.send"))).order_by(OutboxMessage.id)))


def asked_code(response: Any) -> str:
    assert response.status_code == 303, response.status_code
    return str(response.headers["Location"].rsplit("/", 1)[1])


def test_a_citizen_asks_and_follows_the_question_with_its_code(app, client, world):
    with app.app_context(), database(app).session(Scope(world.a.id)) as session:
        notices.create_category(session, code="ho-tich", name_vi="Hộ tịch", name_en="Civil status")
        session.commit()
    form = client.get(f"{ASK}?lang=vi").get_data(as_text=True)
    assert 'name="website"' in form and "Hộ tịch" in form
    code = asked_code(ask(client, topic="ho-tich", name=NAME, phone=PHONE, email=EMAIL))
    assert code.startswith("CT-Q")
    found = question(app, code)
    assert (found.status, found.topic, found.language) == (QuestionStatus.PENDING, "ho-tich", "vi")
    with database(app).session(PLATFORM) as session:
        sealed = session.scalars(select(PrivateContact).where(PrivateContact.owner_type == "question")).one()
        assert sealed.owner_id == found.id and "rieng.tu" not in sealed.sealed  # encrypted at rest
    waiting = client.get(f"{PUBLIC}/{code}?lang=en")
    assert waiting.status_code == 200 and "Waiting for an answer" in waiting.get_data(as_text=True)
    assert "no-store" in waiting.headers["Cache-Control"]
    assert client.get(f"{PUBLIC}/{code.lower()}").status_code == 200  # typed in lower case
    assert GOOD["title"] not in client.get(PUBLIC).get_data(as_text=True)  # pending: not listed
    assert client.get(f"{PUBLIC}/CT-Q000000-AAAAA").status_code == 404
    assert client.get(f"/c/nam-phuoc/questions/{code}").status_code == 404  # codes are per commune


def test_wrong_fields_are_named_and_nothing_is_kept(app, client, world):
    for fields, field in (({"title": "Hỏi"}, "title"), ({"body": "Ngắn"}, "body"),
                          ({"phone": "12345"}, "phone"), ({"email": "not-an-email"}, "email"),
                          ({"topic": "khong-co"}, "topic")):
        response = ask(client, lang="en", **fields)
        html = response.get_data(as_text=True)
        assert response.status_code == 422 and f'id="{field}-error"' in html, field
        assert "Please correct the highlighted fields" in html
    assert 'value="12345"' in ask(client, phone="12345").get_data(as_text=True)  # what was typed stays
    assert count(app, Question) == 0 and count(app, PrivateContact) == 0


def test_a_bot_filling_the_hidden_field_sees_success_but_nothing_is_kept(app, client, world):
    response = ask(client, website="http://spam.example", email=EMAIL)
    assert response.status_code == 303 and response.headers["Location"].endswith("/c/cam-thanh/questions")
    assert count(app, Question) == 0 and count(app, PrivateContact) == 0


def test_too_many_questions_from_one_address_get_a_friendly_429(app, client, world):
    app.config["ENGAGEMENT_RATE_LIMIT"] = "3 per hour"
    for _ in range(3):
        assert ask(client).status_code == 303
    refused = ask(client, lang="en")
    assert refused.status_code == 429 and refused.mimetype == "text/html"
    html = refused.get_data(as_text=True)
    assert "Too many attempts" in html and "many questions in a short time" in html
    assert count(app, Question) == 3
    assert client.get(ASK).status_code == 200  # the form itself still shows


def test_staff_answer_the_asker_is_told_by_email_in_their_language(app, world):
    citizen = app.test_client()
    code = asked_code(ask(citizen, lang="en", title="Where do I register a birth?",
                          body="My daughter was born last week, where and how do I register her birth?",
                          name=NAME, email=EMAIL))
    found = question(app, code)
    assert found.language == "en"
    editor = signed_in(app, world.a.users["editor"])
    listing = editor.get(f"{ADMIN}?lang=en").get_data(as_text=True)
    assert "Where do I register a birth?" in listing and "Waiting for an answer" in listing
    detail = editor.get(f"{ADMIN}/{found.id}?lang=en").get_data(as_text=True)
    assert EMAIL in detail and NAME in detail and "private" in detail  # staff see the contact, marked private
    empty = editor.post(f"{ADMIN}/{found.id}", data={"action": "answer", "answer": "  "})
    assert empty.status_code == 422 and 'id="answer-error"' in empty.get_data(as_text=True)
    assert editor.post(f"{ADMIN}/{found.id}", data={
        "action": "answer", "answer": "At the commune's one-stop desk, with the birth certificate."}).status_code == 303
    answered = question(app, code)
    assert answered.status == QuestionStatus.PUBLISHED and answered.answered_at is not None
    assert answered.answered_by_user_id is not None
    messages = outbox(app)
    assert [message.topic for message in messages] == ["email.send"]
    payload = messages[0].payload
    assert payload["to"] == EMAIL and code in payload["subject"] and "answered" in payload["subject"]
    assert "one-stop desk" in payload["body"] and f"/c/cam-thanh/questions/{code}" in payload["body"]
    public = app.test_client()
    page = public.get(f"{PUBLIC}/{code}?lang=en").get_data(as_text=True)
    assert "one-stop desk" in page and "Waiting for an answer" not in page
    assert "Where do I register a birth?" in public.get(PUBLIC).get_data(as_text=True)
    # correcting the answer keeps its date and does not write to the asker again
    assert editor.post(f"{ADMIN}/{found.id}", data={
        "action": "answer", "answer": "At the one-stop desk of the commune office."}).status_code == 303
    corrected = question(app, code)
    assert corrected.answered_at == answered.answered_at and "office" in corrected.answer
    assert len(outbox(app)) == 1
    with database(app).session(PLATFORM) as session:
        actions = set(session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("question.%"))))
    assert {"question.answered", "question.answer_edited"} <= actions


def test_an_asker_with_only_a_phone_gets_an_sms_in_vietnamese(app, world):
    code = asked_code(ask(app.test_client(), phone=PHONE))
    editor = signed_in(app, world.a.users["admin"])
    assert editor.post(f"{ADMIN}/{question(app, code).id}",
                       data={"action": "answer", "answer": "Mang căn cước của hai người."}).status_code == 303
    messages = outbox(app)
    assert [message.topic for message in messages] == ["sms.send"]
    assert messages[0].payload["to"] == "+84905765432"
    assert code in messages[0].payload["text"] and "đã được trả lời" in messages[0].payload["text"]


def test_a_refused_question_shows_a_neutral_note_and_the_reason_goes_to_the_asker_only(app, world):
    code = asked_code(ask(app.test_client(), email=EMAIL))
    admin = signed_in(app, world.a.users["admin"])
    question_id = question(app, code).id
    assert admin.post(f"{ADMIN}/{question_id}", data={"action": "reject", "reason": ""}).status_code == 422
    assert admin.post(f"{ADMIN}/{question_id}", data={
        "action": "reject", "reason": "Có thông tin cá nhân của người khác"}).status_code == 303
    assert question(app, code).status == QuestionStatus.REJECTED
    public = app.test_client()
    page = public.get(f"{PUBLIC}/{code}?lang=en").get_data(as_text=True)
    assert "will not publish an answer" in page and "thông tin cá nhân" not in page
    assert GOOD["title"] not in public.get(PUBLIC).get_data(as_text=True)
    messages = outbox(app)
    assert len(messages) == 1 and "thông tin cá nhân" in messages[0].payload["body"]


def test_the_askers_contact_appears_on_no_public_page(app, world):
    citizen = app.test_client()
    codes = [asked_code(ask(citizen, name=NAME, phone=PHONE, email=EMAIL)) for _ in range(2)]
    admin = signed_in(app, world.a.users["admin"])
    admin.post(f"{ADMIN}/{question(app, codes[0]).id}", data={"action": "answer", "answer": "Trả lời công khai."})
    public = app.test_client()
    pages = [f"{PUBLIC}/{code}?lang={lang}" for code in codes for lang in ("vi", "en")]
    pages += [PUBLIC, f"{PUBLIC}?q=ket+hon", f"{PUBLIC}?q=Ph%E1%BA%A1m", "/c/cam-thanh/announcements", ASK,
              "/c/cam-thanh/announcements.atom"]
    for url in pages:
        response = public.get(url)
        assert response.status_code == 200, url
        html = response.get_data(as_text=True)
        for secret in (NAME, "Riêng Tư", "0905 765 432", "905765432", EMAIL, "rieng.tu"):
            assert secret not in html, (url, secret)
    assert "Trả lời công khai." in public.get(PUBLIC).get_data(as_text=True)


def test_the_answers_are_searchable_without_vietnamese_marks_and_newest_first(app, world):
    citizen = app.test_client()
    admin = signed_in(app, world.a.users["admin"])
    for title, answer in (("Làm căn cước cho trẻ em ở đâu?", "Tại Công an xã."),
                          ("Giờ làm việc của bộ phận một cửa?", "Từ 7 giờ đến 17 giờ.")):
        code = asked_code(ask(citizen, title=title))
        admin.post(f"{ADMIN}/{question(app, code).id}", data={"action": "answer", "answer": answer})
    public = app.test_client()
    listing = public.get(PUBLIC).get_data(as_text=True)
    assert listing.index("Giờ làm việc") < listing.index("Làm căn cước")  # newest answer first
    found = public.get(f"{PUBLIC}?q=can+cuoc").get_data(as_text=True)
    assert "Làm căn cước" in found and "Giờ làm việc" not in found
    by_answer = public.get(f"{PUBLIC}?q=C%C3%94NG%20AN").get_data(as_text=True)  # "CÔNG AN", in the answer
    assert "Làm căn cước" in by_answer and "Giờ làm việc" not in by_answer
    nothing = public.get(f"{PUBLIC}?q=xyzzy&lang=en").get_data(as_text=True)
    assert "No answer matches your search." in nothing


def test_staff_see_pending_questions_first(app, world):
    citizen = app.test_client()
    admin = signed_in(app, world.a.users["admin"])
    first = asked_code(ask(citizen, title="Câu hỏi đã trả lời"))
    asked_code(ask(citizen, title="Câu hỏi đang chờ"))
    admin.post(f"{ADMIN}/{question(app, first).id}", data={"action": "answer", "answer": "Đã trả lời."})
    listing = admin.get(ADMIN).get_data(as_text=True)
    assert listing.index("Câu hỏi đang chờ") < listing.index("Câu hỏi đã trả lời")
    pending_only = admin.get(f"{ADMIN}?status=pending").get_data(as_text=True)
    assert "Câu hỏi đang chờ" in pending_only and "Câu hỏi đã trả lời" not in pending_only


def test_only_this_communes_staff_answer_questions(app, world):
    code = asked_code(ask(app.test_client()))
    question_id = question(app, code).id
    urls = [ADMIN, f"{ADMIN}/{question_id}"]
    anonymous = app.test_client()
    for url in urls:
        response = anonymous.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    for role in ("volunteer", "seller"):
        client = signed_in(app, world.a.users[role])
        for url in urls:
            assert client.get(url).status_code == 403, (role, url)
        assert client.post(f"{ADMIN}/{question_id}", data={"answer": "Không được"}).status_code == 403
    outsider = signed_in(app, world.b.users["admin"])
    assert all(outsider.get(url).status_code == 404 for url in urls)
    other_admin_here = signed_in(app, world.b.users["editor"])
    assert other_admin_here.get(f"/c/nam-phuoc/admin/questions/{question_id}").status_code == 404
    assert question(app, code).status == QuestionStatus.PENDING
