"""Demo field reports of a commune: departments, categories with attributes, answer templates and about
ten reports in every status, filed and moved on through the real services so their history is real."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.core.clock import to_local
from service.core.contact import reference_number
from service.db import utcnow
from service.engagement import services
from service.engagement.models import (
    Department,
    FieldReport,
    ReportCategory,
    ReportStatus,
    ResponseTemplate,
)
from service.media import services as media
from service.media.services import UploadPolicy
from service.media.storage import Storage
from service.placeholder_images import product_cover
from service.tenants.models import Tenant

DEMO_PHOTOS = UploadPolicy(max_bytes=15 * 1024 * 1024, max_pixels=64_000_000, max_per_owner=4,
                           process_inline=True)

# Where each demo commune's reports are (the centre; reports lie a few hundred metres around it).
CENTRES = {
    "cam-thanh": (15.8735, 108.3520),
    "nam-phuoc": (15.8330, 108.2620),
    "binh-loi": (10.9850, 106.8400),
}
DEFAULT_CENTRE = (15.8800, 108.3300)

DEPARTMENTS = (
    ("dia-chinh", "Địa chính - Xây dựng", "Land and construction"),
    ("van-hoa", "Văn hóa - Xã hội", "Culture and social affairs"),
    ("cong-an", "Công an xã", "Commune police"),
)

CATEGORIES: tuple[dict[str, Any], ...] = (
    {"code": "den-duong", "department": "dia-chinh", "deadline_days": 5,
     "name_vi": "Đèn đường hỏng", "name_en": "Street light out",
     "description_vi": "Đèn đường không sáng, chập chờn hoặc trụ đèn bị đổ.",
     "description_en": "A street light that is off, flickering, or whose pole has fallen.",
     "group_vi": "Hạ tầng", "group_en": "Infrastructure", "keywords": "đèn,điện,chiếu sáng,street light",
     "attributes": [{"code": "loai-su-co", "datatype": "singlevaluelist", "required": True, "order": 1,
                     "description_vi": "Loại sự cố", "description_en": "What is wrong",
                     "values": [{"key": "khong-sang", "name_vi": "Không sáng", "name_en": "Not lit"},
                                {"key": "chap-chon", "name_vi": "Chập chờn", "name_en": "Flickering"},
                                {"key": "do-tru", "name_vi": "Đổ trụ", "name_en": "Pole down"}]}]},
    {"code": "rac-thai", "department": "van-hoa", "deadline_days": 3,
     "name_vi": "Rác thải, vệ sinh môi trường", "name_en": "Litter and waste",
     "description_vi": "Rác đổ trộm, thùng rác đầy, xác động vật, nước thải.",
     "description_en": "Fly-tipping, full bins, dead animals, waste water.",
     "group_vi": "Môi trường", "group_en": "Environment", "keywords": "rác,môi trường,vệ sinh,litter",
     "attributes": [{"code": "loai-rac", "datatype": "multivaluelist", "required": False, "order": 1,
                     "description_vi": "Loại rác", "description_en": "Kind of waste",
                     "values": [{"key": "sinh-hoat", "name_vi": "Rác sinh hoạt", "name_en": "Household"},
                                {"key": "xay-dung", "name_vi": "Xà bần", "name_en": "Rubble"},
                                {"key": "nhua", "name_vi": "Nhựa, túi ni lông", "name_en": "Plastic"}]}]},
    {"code": "ngap-ung", "department": "dia-chinh", "deadline_days": 2,
     "name_vi": "Ngập úng", "name_en": "Flooding",
     "description_vi": "Đường, ngõ xóm ngập nước sau mưa, cống bị tắc.",
     "description_en": "Roads or lanes under water after rain, blocked drains.",
     "group_vi": "Hạ tầng", "group_en": "Infrastructure", "keywords": "ngập,lụt,cống,flood",
     "attributes": [{"code": "do-sau-cm", "datatype": "number", "required": False, "order": 1,
                     "description_vi": "Độ sâu ước tính (cm)", "description_en": "Estimated depth (cm)"}]},
    {"code": "duong-hu-hong", "department": "dia-chinh", "deadline_days": 10,
     "name_vi": "Đường hư hỏng", "name_en": "Damaged road",
     "description_vi": "Ổ gà, sụt lún, lề đường sạt lở, cầu cống hư hỏng.",
     "description_en": "Potholes, subsidence, collapsed verges, broken bridges or culverts.",
     "group_vi": "Hạ tầng", "group_en": "Infrastructure", "keywords": "đường,ổ gà,cầu,pothole", "attributes": []},
    {"code": "an-ninh-trat-tu", "department": "cong-an", "deadline_days": 3,
     "name_vi": "An ninh, trật tự", "name_en": "Public order",
     "description_vi": "Tụ tập gây ồn, lấn chiếm lòng đường, vi phạm trật tự công cộng.",
     "description_en": "Noisy gatherings, pavements or roads taken over, public-order offences.",
     "group_vi": "An ninh", "group_en": "Safety", "keywords": "ồn,trật tự,lấn chiếm,noise", "attributes": []},
    {"code": "thu-tuc-hanh-chinh", "department": "van-hoa", "deadline_days": 7,
     "name_vi": "Thủ tục hành chính", "name_en": "Administrative procedure",
     "description_vi": "Phản ánh về việc giải quyết thủ tục hành chính, thái độ cán bộ.",
     "description_en": "A complaint about how a procedure was handled or about an official's conduct.",
     "group_vi": "Hành chính", "group_en": "Administration", "keywords": "thủ tục,hồ sơ,cán bộ,procedure",
     "attributes": [{"code": "ten-thu-tuc", "datatype": "string", "required": False, "order": 1,
                     "description_vi": "Tên thủ tục", "description_en": "Name of the procedure"}]},
)

TEMPLATES = (
    ("Đã tiếp nhận", ReportStatus.ACKNOWLEDGED,
     "Ủy ban nhân dân xã đã tiếp nhận phản ánh và chuyển bộ phận chuyên môn xử lý trong thời hạn quy định.",
     "The commune has received your report and passed it to the department in charge."),
    ("Đã xử lý xong", ReportStatus.RESOLVED,
     "Bộ phận chuyên môn đã xử lý xong sự việc. Cảm ơn bà con đã phản ánh.",
     "The department has dealt with it. Thank you for reporting."),
    ("Không thuộc thẩm quyền", ReportStatus.REJECTED,
     "Nội dung phản ánh không thuộc thẩm quyền giải quyết của xã; đề nghị bà con liên hệ cơ quan có thẩm quyền.",
     "This is not for the commune to decide; please contact the competent authority."),
)


@dataclass(frozen=True)
class DemoReport:
    key: str
    category: str
    days_ago: float
    description: str
    address: str
    offset: tuple[float, float] | None  # metres north, east of the centre; None = an address only
    steps: tuple[tuple[ReportStatus, str], ...] = ()  # status, public note, one day apart
    contact: services.Contact = field(default_factory=services.Contact)
    attributes: dict[str, Any] = field(default_factory=dict)
    photo: str = ""  # a caption: the report gets a generated photo
    duplicate_of: str = ""


def _reports(place: str) -> tuple[DemoReport, ...]:
    S = ReportStatus
    return (
        DemoReport("light", "den-duong", 2.2, f"Đèn đường trước nhà văn hóa thôn {place} không sáng ba đêm nay, "
                   "đường tối, học sinh đi học thêm về rất nguy hiểm.", f"Trước nhà văn hóa thôn {place}",
                   (120, -80), attributes={"loai-su-co": "khong-sang"}, photo="Đèn đường không sáng",
                   contact=services.Contact(name="Nguyễn Văn Minh", phone="+84905000111")),
        DemoReport("light-again", "den-duong", 1.5, "Đèn trước nhà văn hóa vẫn tắt, tôi phản ánh thêm lần nữa.",
                   f"Nhà văn hóa thôn {place}", (125, -70), attributes={"loai-su-co": "khong-sang"},
                   steps=((S.DUPLICATE, "Phản ánh này trùng với phản ánh trước về cùng cột đèn; xã đang xử lý "
                                        "theo phản ánh đó."),), duplicate_of="light"),
        DemoReport("litter", "rac-thai", 9, "Có người đổ trộm xà bần và rác sinh hoạt bên bờ sông, gần bến đò. "
                   "Mùi hôi, ruồi nhặng nhiều.", "Bờ sông gần bến đò", (-300, 250),
                   attributes={"loai-rac": ["xay-dung", "sinh-hoat"]}, photo="Rác đổ trộm bên sông",
                   steps=((S.ACKNOWLEDGED, "Xã đã tiếp nhận, giao tổ vệ sinh môi trường kiểm tra."),
                          (S.IN_PROGRESS, "Tổ vệ sinh đã thu gom một phần; chiều mai xe chở xà bần đến."),
                          (S.RESOLVED, "Đã thu gom hết rác và xà bần, cắm biển cấm đổ rác tại bến đò.")),
                   contact=services.Contact(email="ban-doc@example.test")),
        DemoReport("flood", "ngap-ung", 6, "Sau trận mưa chiều qua đoạn đường liên thôn ngập sâu, xe máy chết "
                   "máy hàng loạt. Cống thoát nước bị rác làm tắc.", "Đường liên thôn, đoạn qua cánh đồng",
                   (400, 500), attributes={"do-sau-cm": 40},
                   steps=((S.ACKNOWLEDGED, "Đã tiếp nhận, bộ phận địa chính sẽ kiểm tra hiện trường."),)),
        DemoReport("pothole", "duong-hu-hong", 20, "Ổ gà lớn giữa đường bê tông, trời tối xe máy dễ té ngã. "
                   "Đề nghị xã sớm vá lại.", "Đường bê tông xóm Bàu", (-150, -400),
                   steps=((S.ACKNOWLEDGED, "Đã tiếp nhận, xã sẽ bố trí kinh phí sửa chữa."),
                          (S.IN_PROGRESS, "Đã tạm lấp đá, cắm biển cảnh báo; chờ đổ bê tông.")),
                   contact=services.Contact(name="Trần Thị Hoa", phone="+84935000222")),
        DemoReport("noise", "an-ninh-trat-tu", 4, "Quán nhậu mở nhạc lớn đến quá nửa đêm nhiều ngày liền, "
                   "ảnh hưởng người già và trẻ nhỏ.", "Khu dân cư chợ cũ", (60, 320),
                   steps=((S.IN_PROGRESS, "Công an xã đã làm việc với chủ quán, tiếp tục theo dõi."),)),
        DemoReport("procedure", "thu-tuc-hanh-chinh", 12, "Tôi nộp hồ sơ đăng ký biến động đất đai đã quá hạn "
                   "hẹn trả mà chưa nhận được kết quả, không được giải thích lý do.", "Bộ phận một cửa UBND xã",
                   None, attributes={"ten-thu-tuc": "Đăng ký biến động đất đai"},
                   steps=((S.REJECTED, "Hồ sơ thuộc thẩm quyền Văn phòng đăng ký đất đai cấp huyện; xã đã "
                                       "hướng dẫn bà con liên hệ trực tiếp và cung cấp số điện thoại."),),
                   contact=services.Contact(name="Lê Văn Tâm", email="le.tam@example.test")),
        DemoReport("old-light", "den-duong", 16, "Trụ đèn bị xe tải va quẹt, nghiêng hẳn ra lòng đường.",
                   "Ngã ba đường vào trường tiểu học", (-50, 150), attributes={"loai-su-co": "do-tru"},
                   steps=((S.ACKNOWLEDGED, "Đã tiếp nhận, báo điện lực phối hợp xử lý."),
                          (S.RESOLVED, "Đã dựng lại trụ đèn và thay bóng mới."))),
        DemoReport("drain", "ngap-ung", 0.3, "Nắp cống bị vỡ, nước tràn lên mặt đường khi triều cường.",
                   "Đầu xóm, cạnh trạm y tế", (250, -250), attributes={"do-sau-cm": 15}),
        DemoReport("bins", "rac-thai", 1, "Thùng rác công cộng ở chợ đầy tràn hai ngày chưa được thu gom.",
                   "Chợ xã, cổng phía đông", (30, 30), attributes={"loai-rac": ["sinh-hoat", "nhua"]},
                   contact=services.Contact(phone="+84987000333")),
    )


def _place_name(tenant: Tenant) -> str:
    return {"cam-thanh": "Thanh Nhứt", "nam-phuoc": "Mã Châu", "binh-loi": "Ấp 4"}.get(tenant.slug, "1")


def _photo(caption: str, color: str) -> bytes:
    return product_cover(caption, "Ảnh minh họa", color or "#1f6f50")


def load_reports(session: Session, storage: Storage, tenant: Tenant) -> None:
    """The commune's report setup and demo reports; the session is scoped to the commune."""
    departments = {}
    for code, vi, en in DEPARTMENTS:
        department = Department(code=code, name_vi=vi, name_en=en, email=f"{code}@{tenant.slug}.xaso.test")
        session.add(department)
        departments[code] = department
    session.flush()
    categories = {}
    for position, definition in enumerate(CATEGORIES):
        values = {key: value for key, value in definition.items() if key != "department"}
        category = ReportCategory(**values, position=position,
                                  department_id=departments[definition["department"]].id)
        session.add(category)
        categories[definition["code"]] = category
    for title, status, body_vi, body_en in TEMPLATES:
        session.add(ResponseTemplate(title=title, status=status, body_vi=body_vi, body_en=body_en))
    session.flush()

    centre = CENTRES.get(tenant.slug, DEFAULT_CENTRE)
    filed: dict[str, FieldReport] = {}
    now = utcnow()
    for spec in _reports(_place_name(tenant)):
        filed[spec.key] = _file(session, storage, tenant, spec, categories[spec.category], centre, filed, now)
    # Staff handed one report to another department than its category's, as happens on a visit.
    services.assign(session, filed["noise"], departments["van-hoa"], internal_note="Phối hợp với văn hóa")
    filed["noise"].updates[-1].created_at = filed["noise"].updated_at = now - timedelta(days=1)
    session.flush()


def _code_taken(session: Session, code: str) -> bool:
    return session.scalar(select(FieldReport.id).where(FieldReport.code == code)) is not None


def _file(session: Session, storage: Storage, tenant: Tenant, spec: DemoReport, category: ReportCategory,
          centre: tuple[float, float], filed: dict[str, FieldReport], now: Any) -> FieldReport:
    latitude = longitude = None
    if spec.offset is not None:
        north, east = spec.offset  # about 111 km per degree of latitude, less per degree of longitude
        latitude, longitude = centre[0] + north / 111_000, centre[1] + east / 107_000
    location = services.check_location(spec.address, latitude, longitude)
    # Filed without the contact first: the code and dates are moved back in time before anyone is told.
    report = services.submit_report(session, category=category, description=spec.description, location=location,
                                    attributes=spec.attributes)
    created = now - timedelta(days=spec.days_ago)
    report.code = reference_number(tenant.slug, to_local(created).date(), lambda code: _code_taken(session, code),
                                   "R")
    report.created_at = report.updated_at = created
    report.due_at = created + timedelta(days=category.deadline_days)
    report.updates[0].created_at = created
    session.flush()
    if not spec.contact.is_empty:
        services.seal_contact(session, "report", report.id, spec.contact)
    if spec.photo:
        asset = media.upload(session, storage, DEMO_PHOTOS, _photo(spec.photo, tenant.primary_color or ""),
                             f"{spec.key}.jpg")
        asset.alt_vi, asset.alt_en = spec.photo, ""
        media.attach(session, DEMO_PHOTOS, services.PHOTO_OWNER, report.id, asset)
    step_gap = min(timedelta(days=1), (now - created) / (len(spec.steps) + 1))
    for number, (status, note) in enumerate(spec.steps, start=1):
        update = services.change_status(session, report, status=status, public_note=note,
                                        duplicate_of=filed.get(spec.duplicate_of))
        update.created_at = report.updated_at = created + step_gap * number
        if report.closed_at is not None:
            report.closed_at = update.created_at
    session.flush()
    return report
