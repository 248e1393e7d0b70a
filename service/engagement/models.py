"""Citizen engagement: field reports (Open311 service requests), announcements, polls and Q&A.

A person's contact details never sit on a public row: they live in ``engagement_contacts``,
encrypted (``service.core.crypto``), one row per report or question, read only by staff pages
and by the notifier. Public pages, the JSON API and Open311 read the public rows only.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.db import Base, TenantOwned, Timestamped, str_enum, utcnow


class Department(TenantOwned, Base):
    """Who handles a report in the commune (Địa chính - Xây dựng, Văn hóa - Xã hội, Công an xã, ...)."""

    __tablename__ = "departments"
    __table_args__ = (UniqueConstraint("tenant_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40))
    name_vi: Mapped[str] = mapped_column(String(150))
    name_en: Mapped[str] = mapped_column(String(150), default="")
    email: Mapped[str] = mapped_column(String(254), default="")  # told about reports assigned to it
    is_active: Mapped[bool] = mapped_column(default=True)


class ReportCategory(TenantOwned, Base):
    """A kind of report; an Open311 *service* (``code`` is its ``service_code``).

    ``attributes`` are Open311 attribute definitions, each
    ``{"code", "datatype", "required", "description_vi", "description_en", "order",
    "values": [{"key", "name_vi", "name_en"}]}`` with datatype one of string, number, datetime,
    text, singlevaluelist, multivaluelist.
    """

    __tablename__ = "report_categories"
    __table_args__ = (
        UniqueConstraint("tenant_id", "code"),
        CheckConstraint("deadline_days > 0", name="deadline_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60))
    name_vi: Mapped[str] = mapped_column(String(150))
    name_en: Mapped[str] = mapped_column(String(150), default="")
    description_vi: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    group_vi: Mapped[str] = mapped_column(String(100), default="")  # Open311 ``group``
    group_en: Mapped[str] = mapped_column(String(100), default="")
    keywords: Mapped[str] = mapped_column(String(300), default="")  # comma-separated, Open311 ``keywords``
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id", ondelete="SET NULL"))
    deadline_days: Mapped[int] = mapped_column(default=7)  # a report is overdue this long after it came in
    attributes: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    position: Mapped[int] = mapped_column(default=0)
    is_active: Mapped[bool] = mapped_column(default=True)

    department: Mapped[Department | None] = relationship(lazy="joined")


class ReportStatus(enum.StrEnum):
    SUBMITTED = "submitted"
    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    REJECTED = "rejected"
    DUPLICATE = "duplicate"


OPEN_STATUSES = frozenset({ReportStatus.SUBMITTED, ReportStatus.ACKNOWLEDGED, ReportStatus.IN_PROGRESS})
CLOSED_STATUSES = frozenset({ReportStatus.RESOLVED, ReportStatus.REJECTED, ReportStatus.DUPLICATE})


class ReportChannel(enum.StrEnum):
    WEB = "web"
    OPEN311 = "open311"
    STAFF = "staff"  # typed in by staff from a phone call (the 1022 hotline) or a visit


class FieldReport(TenantOwned, Timestamped, Base):
    """A citizen's field report (phản ánh hiện trường): the public record. No personal data here."""

    __tablename__ = "field_reports"
    __table_args__ = (
        UniqueConstraint("tenant_id", "code"),
        UniqueConstraint("open311_token"),
        Index("ix_field_reports_listing", "tenant_id", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(24))  # the tracking code, also Open311's service_request_id
    open311_token: Mapped[str] = mapped_column(String(40))  # Open311 ``token`` (GET tokens/<token>)
    category_id: Mapped[int] = mapped_column(ForeignKey("report_categories.id", ondelete="RESTRICT"), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id", ondelete="SET NULL"))
    status: Mapped[ReportStatus] = mapped_column(str_enum(ReportStatus), default=ReportStatus.SUBMITTED)
    description: Mapped[str] = mapped_column(Text, default="")
    address: Mapped[str] = mapped_column(String(250), default="")
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    attribute_values: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # Open311 attribute[code]
    media_url: Mapped[str] = mapped_column(String(500), default="")  # an Open311 client's own photo URL
    public_note: Mapped[str] = mapped_column(Text, default="")  # the answer to the current status (status_notes)
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("field_reports.id", ondelete="SET NULL"))
    channel: Mapped[ReportChannel] = mapped_column(str_enum(ReportChannel, 10), default=ReportChannel.WEB)
    language: Mapped[str] = mapped_column(String(5), default="vi")  # of the reporter's notifications
    is_hidden: Mapped[bool] = mapped_column(default=False)  # abuse or personal data in the text: not public
    due_at: Mapped[datetime] = mapped_column()  # created_at + the category's deadline
    closed_at: Mapped[datetime | None] = mapped_column()

    category: Mapped[ReportCategory] = relationship(lazy="joined")
    department: Mapped[Department | None] = relationship(lazy="joined")
    updates: Mapped[list[ReportUpdate]] = relationship(back_populates="report", lazy="selectin",
                                                       order_by="ReportUpdate.id", cascade="all, delete-orphan")

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class ReportUpdate(TenantOwned, Base):
    """One step of a report's history: a status change, an assignment or a note."""

    __tablename__ = "report_updates"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("field_reports.id", ondelete="CASCADE"), index=True)
    status_from: Mapped[ReportStatus | None] = mapped_column(str_enum(ReportStatus))
    status_to: Mapped[ReportStatus] = mapped_column(str_enum(ReportStatus))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id", ondelete="SET NULL"))
    public_note: Mapped[str] = mapped_column(Text, default="")
    internal_note: Mapped[str] = mapped_column(Text, default="")  # staff only
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    report: Mapped[FieldReport] = relationship(back_populates="updates")


class ResponseTemplate(TenantOwned, Base):
    """A reusable answer ("Đã tiếp nhận, chuyển bộ phận ... xử lý trong 3 ngày")."""

    __tablename__ = "response_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(120))
    body_vi: Mapped[str] = mapped_column(Text)
    body_en: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[ReportStatus | None] = mapped_column(str_enum(ReportStatus))  # the status it usually goes with


class PrivateContact(TenantOwned, Base):
    """How to reach the person behind a report or a question; encrypted, never public."""

    __tablename__ = "engagement_contacts"
    __table_args__ = (UniqueConstraint("owner_type", "owner_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_type: Mapped[str] = mapped_column(String(20))  # "report" | "question"
    owner_id: Mapped[int] = mapped_column()
    sealed: Mapped[str] = mapped_column(Text)  # Fernet of JSON {name, phone, email, device_id, account_id}
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Open311Key(TenantOwned, Base):
    """An API key that lets one Open311 client app post requests; only its SHA-256 is kept."""

    __tablename__ = "open311_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    key_prefix: Mapped[str] = mapped_column(String(12))  # shown to staff to tell keys apart
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column()


# -- announcements -------------------------------------------------------------------------------

class PublishState(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"  # visible once ``publish_at`` has passed (scheduled publication)
    ARCHIVED = "archived"


class AnnouncementCategory(TenantOwned, Base):
    __tablename__ = "announcement_categories"
    __table_args__ = (UniqueConstraint("tenant_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60))
    name_vi: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120), default="")
    position: Mapped[int] = mapped_column(default=0)


class Announcement(TenantOwned, Timestamped, Base):
    __tablename__ = "announcements"
    __table_args__ = (
        UniqueConstraint("tenant_id", "slug"),
        Index("ix_announcements_listing", "tenant_id", "status", "publish_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120))
    category_id: Mapped[int | None] = mapped_column(ForeignKey("announcement_categories.id", ondelete="SET NULL"))
    title_vi: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200), default="")
    summary_vi: Mapped[str] = mapped_column(String(400), default="")
    summary_en: Mapped[str] = mapped_column(String(400), default="")
    body_vi: Mapped[str] = mapped_column(Text, default="")
    body_en: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[PublishState] = mapped_column(str_enum(PublishState), default=PublishState.DRAFT)
    publish_at: Mapped[datetime | None] = mapped_column()
    expires_at: Mapped[datetime | None] = mapped_column()  # off the public list after this (notices of a day)
    is_pinned: Mapped[bool] = mapped_column(default=False)
    cover_key: Mapped[str | None] = mapped_column(String(255))
    author_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    category: Mapped[AnnouncementCategory | None] = relationship(lazy="joined")


# -- polls ---------------------------------------------------------------------------------------

class ResultsVisibility(enum.StrEnum):
    AFTER_VOTE = "after_vote"  # a voter sees the results once they have voted (everyone after the close)
    AFTER_CLOSE = "after_close"


class Poll(TenantOwned, Timestamped, Base):
    __tablename__ = "polls"
    __table_args__ = (UniqueConstraint("tenant_id", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120))
    question_vi: Mapped[str] = mapped_column(String(300))
    question_en: Mapped[str] = mapped_column(String(300), default="")
    description_vi: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[PublishState] = mapped_column(str_enum(PublishState), default=PublishState.DRAFT)
    opens_at: Mapped[datetime | None] = mapped_column()
    closes_at: Mapped[datetime | None] = mapped_column()
    results_visibility: Mapped[ResultsVisibility] = mapped_column(str_enum(ResultsVisibility),
                                                                  default=ResultsVisibility.AFTER_VOTE)

    options: Mapped[list[PollOption]] = relationship(back_populates="poll", lazy="selectin",
                                                     order_by="PollOption.position", cascade="all, delete-orphan")


class PollOption(TenantOwned, Base):
    __tablename__ = "poll_options"

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"), index=True)
    label_vi: Mapped[str] = mapped_column(String(200))
    label_en: Mapped[str] = mapped_column(String(200), default="")
    position: Mapped[int] = mapped_column(default=0)

    poll: Mapped[Poll] = relationship(back_populates="options")


class PollVote(TenantOwned, Base):
    """One vote. ``voter_key`` is ``user:<id>`` or ``phone:<HMAC of the number>``: unique per poll, so the
    database refuses a second vote from the same account or phone, however the requests race."""

    __tablename__ = "poll_votes"
    __table_args__ = (UniqueConstraint("poll_id", "voter_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"), index=True)
    option_id: Mapped[int] = mapped_column(ForeignKey("poll_options.id", ondelete="CASCADE"), index=True)
    voter_key: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PhoneVerification(TenantOwned, Base):
    """A one-time code sent by SMS to prove a phone number (for voting); only hashes are kept."""

    __tablename__ = "phone_verifications"
    __table_args__ = (Index("ix_phone_verifications_phone", "tenant_id", "phone_hash", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    phone_hash: Mapped[str] = mapped_column(String(64))  # HMAC-SHA256 of the normalised number
    code_hash: Mapped[str] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(default=0)
    expires_at: Mapped[datetime] = mapped_column()
    verified_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# -- questions and answers -----------------------------------------------------------------------

class QuestionStatus(enum.StrEnum):
    PENDING = "pending"  # asked, not answered yet (not public)
    PUBLISHED = "published"  # answered and shown publicly
    REJECTED = "rejected"  # off-topic, abusive or personal: answered privately or not at all


class Question(TenantOwned, Timestamped, Base):
    __tablename__ = "questions"
    __table_args__ = (
        UniqueConstraint("tenant_id", "code"),
        Index("ix_questions_listing", "tenant_id", "status", "answered_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(24))  # tracking code given to the asker
    topic: Mapped[str] = mapped_column(String(60), default="")  # announcement category code, or free
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(5), default="vi")
    status: Mapped[QuestionStatus] = mapped_column(str_enum(QuestionStatus), default=QuestionStatus.PENDING)
    answer: Mapped[str] = mapped_column(Text, default="")
    answered_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    answered_at: Mapped[datetime | None] = mapped_column()
