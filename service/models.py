"""Imports every model so that metadata (Alembic, tests) sees the whole schema."""

from service.accounts.models import ApiToken, User
from service.audit.models import AuditEntry
from service.catalog.models import Category, Product, Seller
from service.engagement.models import (
    Announcement,
    AnnouncementCategory,
    Department,
    FieldReport,
    Open311Key,
    PhoneVerification,
    Poll,
    PollOption,
    PollVote,
    PrivateContact,
    Question,
    ReportCategory,
    ReportUpdate,
    ResponseTemplate,
)
from service.feeds.models import FeedSettings
from service.jobs.models import OutboxMessage
from service.media.models import MediaAsset, MediaAttachment
from service.orders.models import Order, OrderLine, SellerOrder
from service.payments.models import (
    IdempotencyRecord,
    PaymentEvent,
    PaymentIntent,
    PaymentSettings,
    Refund,
    WebhookEndpoint,
)
from service.tenants.models import Membership, Tenant
from service.tourism.models import (
    Article,
    Booking,
    Event,
    Homestay,
    ICalFeed,
    Place,
    PriceRule,
    RoomType,
    Unit,
    UnitNight,
)

__all__ = ["ApiToken", "AuditEntry", "Category", "IdempotencyRecord", "MediaAsset", "MediaAttachment", "Membership",
           "Order", "OrderLine", "OutboxMessage", "PaymentEvent", "PaymentIntent", "PaymentSettings", "Product",
           "Refund", "Seller", "SellerOrder", "Tenant", "User", "WebhookEndpoint",
           "Article", "Booking", "Event", "Homestay", "ICalFeed", "Place", "PriceRule", "RoomType", "Unit", "UnitNight",
           "Announcement", "AnnouncementCategory", "Department", "FieldReport", "Open311Key", "PhoneVerification",
           "Poll", "PollOption", "PollVote", "PrivateContact", "Question", "ReportCategory", "ReportUpdate",
           "ResponseTemplate", "FeedSettings"]
import service.jobs.delivery  # noqa: E402,F401  (outbox messages noted for delivery after commit)
import service.notifications.email  # noqa: E402,F401  (its outbox handler sends e-mails)
import service.notifications.sms  # noqa: E402,F401  (its outbox handler sends SMS)
import service.payments.vietqr  # noqa: E402,F401  (VietQR's next action, for workers that never load the views)
import service.payments.vnpay  # noqa: E402,F401  (VNPay's next action and refunds)
import service.search.indexing  # noqa: E402,F401  (index rows follow products in the same transaction)
import service.search.meili  # noqa: E402,F401  (its outbox handler pushes documents to Meilisearch)
import service.tourism.services  # noqa: E402,F401  (bookings follow their payments)
from service.search.models import SearchEntry  # noqa: E402

__all__ += ["SearchEntry"]
