"""Homestays, their room types, units and nights; places, events and stories of a commune.

A night can be sold once: every booked or blocked night of a unit is a row of ``unit_nights`` with
a unique (unit, night). The database refuses a second claim on the same night — under concurrent
requests on PostgreSQL and by transaction on SQLite — so no overlap check can be raced.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import JSON, CheckConstraint, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.db import Base, TenantOwned, Timestamped, str_enum


class PublishStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    ARCHIVED = "archived"


class Homestay(TenantOwned, Timestamped, Base):
    __tablename__ = "homestays"
    __table_args__ = (UniqueConstraint("tenant_id", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120))
    host_seller_id: Mapped[int] = mapped_column(ForeignKey("sellers.id", ondelete="RESTRICT"), index=True)
    name_vi: Mapped[str] = mapped_column(String(150))
    name_en: Mapped[str] = mapped_column(String(150), default="")
    description_vi: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    house_rules_vi: Mapped[str] = mapped_column(Text, default="")
    house_rules_en: Mapped[str] = mapped_column(Text, default="")
    amenities: Mapped[list[str]] = mapped_column(JSON, default=list)  # keys of AMENITIES (wifi, breakfast, ...)
    address: Mapped[str] = mapped_column(String(250), default="")
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    check_in_time: Mapped[str] = mapped_column(String(5), default="14:00")  # local time of the commune
    check_out_time: Mapped[str] = mapped_column(String(5), default="12:00")
    status: Mapped[PublishStatus] = mapped_column(str_enum(PublishStatus), default=PublishStatus.DRAFT)
    cover_key: Mapped[str | None] = mapped_column(String(255))
    published_at: Mapped[datetime | None] = mapped_column()

    host = relationship("Seller", lazy="joined")
    room_types: Mapped[list[RoomType]] = relationship(back_populates="homestay", lazy="selectin",
                                                      order_by="RoomType.id", cascade="all, delete-orphan")


class RoomType(TenantOwned, Base):
    __tablename__ = "room_types"
    __table_args__ = (
        CheckConstraint("capacity > 0", name="capacity_positive"),
        CheckConstraint("base_price >= 0", name="price_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    homestay_id: Mapped[int] = mapped_column(ForeignKey("homestays.id", ondelete="CASCADE"), index=True)
    name_vi: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120), default="")
    capacity: Mapped[int] = mapped_column()  # guests per unit
    base_price: Mapped[int] = mapped_column()  # đồng per night
    weekend_price: Mapped[int | None] = mapped_column()  # Friday and Saturday nights, when set
    ical_token: Mapped[str] = mapped_column(String(64), unique=True)  # the export feed's secret URL part
    is_active: Mapped[bool] = mapped_column(default=True)

    homestay: Mapped[Homestay] = relationship(back_populates="room_types")
    units: Mapped[list[Unit]] = relationship(back_populates="room_type", lazy="selectin", order_by="Unit.id",
                                             cascade="all, delete-orphan")
    price_rules: Mapped[list[PriceRule]] = relationship(lazy="selectin", order_by="PriceRule.start_date",
                                                        cascade="all, delete-orphan")


class Unit(TenantOwned, Base):
    """One bookable room of a room type ("Phòng 1"); nights are sold per unit."""

    __tablename__ = "room_units"

    id: Mapped[int] = mapped_column(primary_key=True)
    room_type_id: Mapped[int] = mapped_column(ForeignKey("room_types.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(60))

    room_type: Mapped[RoomType] = relationship(back_populates="units")


class PriceRule(TenantOwned, Base):
    """A season (Tết, summer): this nightly price between two dates, inclusive, instead of the base/weekend one."""

    __tablename__ = "price_rules"
    __table_args__ = (
        CheckConstraint("end_date >= start_date", name="dates_in_order"),
        CheckConstraint("price >= 0", name="price_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    room_type_id: Mapped[int] = mapped_column(ForeignKey("room_types.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    start_date: Mapped[date] = mapped_column()
    end_date: Mapped[date] = mapped_column()
    price: Mapped[int] = mapped_column()


class BookingStatus(enum.StrEnum):
    HELD = "held"  # waiting for the deposit or payment: the nights are held until hold_expires_at
    CONFIRMED = "confirmed"
    CANCELED = "canceled"


class Booking(TenantOwned, Timestamped, Base):
    __tablename__ = "bookings"
    __table_args__ = (
        UniqueConstraint("tenant_id", "number"),
        CheckConstraint("check_out > check_in", name="check_out_after_check_in"),
        CheckConstraint("guests > 0", name="guests_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(24))
    secret: Mapped[str] = mapped_column(String(64), unique=True)
    room_type_id: Mapped[int] = mapped_column(ForeignKey("room_types.id", ondelete="RESTRICT"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("room_units.id", ondelete="RESTRICT"), index=True)
    check_in: Mapped[date] = mapped_column()  # dates in the commune's time zone
    check_out: Mapped[date] = mapped_column()
    guests: Mapped[int] = mapped_column()
    guest_name: Mapped[str] = mapped_column(String(120))
    guest_phone: Mapped[str] = mapped_column(String(20))
    guest_email: Mapped[str] = mapped_column(String(254), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(2), default="vi")
    total: Mapped[int] = mapped_column()  # đồng, all nights
    amount_due_now: Mapped[int] = mapped_column()  # the deposit, the total, or 0 (pay on arrival)
    payment_option: Mapped[str] = mapped_column(String(12))  # deposit | full | on_arrival
    payment_method: Mapped[str] = mapped_column(String(10), default="")  # vnpay | vietqr | "" (on arrival)
    status: Mapped[BookingStatus] = mapped_column(str_enum(BookingStatus), default=BookingStatus.HELD)
    hold_expires_at: Mapped[datetime | None] = mapped_column()
    canceled_at: Mapped[datetime | None] = mapped_column()
    cancel_reason: Mapped[str] = mapped_column(String(300), default="")

    room_type = relationship(RoomType, lazy="joined")
    unit = relationship(Unit, lazy="joined")


class NightSource(enum.StrEnum):
    BOOKING = "booking"
    HOST_BLOCK = "host_block"
    ICAL = "ical"  # a booking made on Airbnb, Booking.com, ... imported from its feed


class UnitNight(TenantOwned, Base):
    """One night of one unit taken: by our booking, by the host, or by another channel's booking."""

    __tablename__ = "unit_nights"
    __table_args__ = (
        UniqueConstraint("unit_id", "night"),  # THE rule: a night is sold once
        Index("ix_unit_nights_booking", "booking_id"),
        Index("ix_unit_nights_feed_uid", "feed_id", "external_uid"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("room_units.id", ondelete="CASCADE"))
    night: Mapped[date] = mapped_column()  # the date the guest goes to sleep
    source: Mapped[NightSource] = mapped_column(str_enum(NightSource))
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"))
    feed_id: Mapped[int | None] = mapped_column(ForeignKey("ical_feeds.id", ondelete="CASCADE"))
    external_uid: Mapped[str] = mapped_column(String(255), default="")
    note: Mapped[str] = mapped_column(String(200), default="")


class ICalFeed(TenantOwned, Base):
    """Another channel's calendar of a room type (Airbnb, Booking.com), refreshed by a job."""

    __tablename__ = "ical_feeds"

    id: Mapped[int] = mapped_column(primary_key=True)
    room_type_id: Mapped[int] = mapped_column(ForeignKey("room_types.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(60))  # "Airbnb"
    url: Mapped[str] = mapped_column(String(1000))
    last_synced_at: Mapped[datetime | None] = mapped_column()
    last_error: Mapped[str] = mapped_column(String(500), default="")
    etag: Mapped[str] = mapped_column(String(200), default="")


class PlaceKind(enum.StrEnum):
    ATTRACTION = "attraction"
    TOUR = "tour"  # basket-boat tours, cooking classes: with a price and duration
    CRAFT_VILLAGE = "craft_village"


class Place(TenantOwned, Timestamped, Base):
    __tablename__ = "places"
    __table_args__ = (UniqueConstraint("tenant_id", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120))
    kind: Mapped[PlaceKind] = mapped_column(str_enum(PlaceKind))
    name_vi: Mapped[str] = mapped_column(String(150))
    name_en: Mapped[str] = mapped_column(String(150), default="")
    description_vi: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    address: Mapped[str] = mapped_column(String(250), default="")
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    price: Mapped[int | None] = mapped_column()  # đồng per person, tours
    duration_minutes: Mapped[int | None] = mapped_column()
    opening_hours: Mapped[str] = mapped_column(String(120), default="")
    cover_key: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[PublishStatus] = mapped_column(str_enum(PublishStatus), default=PublishStatus.DRAFT)
    published_at: Mapped[datetime | None] = mapped_column()


class Event(TenantOwned, Timestamped, Base):
    __tablename__ = "events"
    __table_args__ = (UniqueConstraint("tenant_id", "slug"),
                      CheckConstraint("ends_at >= starts_at", name="ends_after_start"))

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120))
    name_vi: Mapped[str] = mapped_column(String(150))
    name_en: Mapped[str] = mapped_column(String(150), default="")
    description_vi: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    starts_at: Mapped[datetime] = mapped_column()  # UTC; shown in Asia/Ho_Chi_Minh
    ends_at: Mapped[datetime] = mapped_column()
    venue: Mapped[str] = mapped_column(String(200), default="")
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    cover_key: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[PublishStatus] = mapped_column(str_enum(PublishStatus), default=PublishStatus.DRAFT)
    published_at: Mapped[datetime | None] = mapped_column()


class Article(TenantOwned, Timestamped, Base):
    """A local-brand story: the fish-sauce family, the coconut forest, the village festival."""

    __tablename__ = "articles"
    __table_args__ = (UniqueConstraint("tenant_id", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120))
    title_vi: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200), default="")
    summary_vi: Mapped[str] = mapped_column(String(400), default="")
    summary_en: Mapped[str] = mapped_column(String(400), default="")
    body_vi: Mapped[str] = mapped_column(Text, default="")
    body_en: Mapped[str] = mapped_column(Text, default="")
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    cover_key: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[PublishStatus] = mapped_column(str_enum(PublishStatus), default=PublishStatus.DRAFT)
    published_at: Mapped[datetime | None] = mapped_column()


