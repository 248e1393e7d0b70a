"""Demo announcements and questions of a commune, through the real services (the session is scoped to it).

Times are relative to now, so a demo loaded any day shows one pinned notice, one scheduled for next week,
one that has ended and a few from the past weeks; questions answered, waiting and refused.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from service.db import utcnow
from service.engagement import announcements as notices
from service.engagement import questions as qa
from service.engagement.services import check_contact
from service.tenants.models import Tenant

CATEGORIES = (
    ("thong-bao-chung", "Thông báo chung", "General notices"),
    ("nong-nghiep", "Nông nghiệp", "Farming"),
    ("du-lich-su-kien", "Du lịch - Sự kiện", "Tourism and events"),
)


def _announcements(commune: str) -> list[dict[str, Any]]:
    """(category, pinned, days from now it was/will be published, days it lasts or None, texts)."""
    return [
        {"category": "thong-bao-chung", "pinned": True, "published": -2, "lasts": None,
         "title_vi": "Lịch tiếp công dân của lãnh đạo UBND xã tháng này",
         "title_en": "Office hours of the commune leaders this month",
         "summary_vi": f"Chủ tịch UBND {commune} tiếp công dân sáng thứ Năm hằng tuần tại trụ sở xã.",
         "summary_en": f"The chair of the {commune} People's Committee meets citizens every Thursday morning.",
         "body_vi": ("Thực hiện Luật Tiếp công dân, lãnh đạo UBND xã tiếp công dân định kỳ vào sáng thứ Năm "
                     "hằng tuần, từ 7 giờ 30 đến 11 giờ, tại phòng tiếp dân, trụ sở UBND xã.\n\n"
                     "Công dân có kiến nghị, phản ánh vui lòng mang theo căn cước công dân và giấy tờ liên "
                     "quan. Trường hợp khẩn cấp, liên hệ bộ phận Một cửa trong giờ hành chính."),
         "body_en": ("Under the Law on Citizen Reception, the commune leaders meet citizens every Thursday "
                     "from 7:30 to 11:00 in the reception room of the commune office.\n\n"
                     "Please bring your citizen ID card and any related papers. For urgent matters, contact "
                     "the one-stop desk during office hours.")},
        {"category": "nong-nghiep", "pinned": False, "published": -5, "lasts": None,
         "title_vi": "Khuyến cáo phòng trừ rầy nâu trên lúa vụ Đông Xuân",
         "title_en": "Advice on brown planthopper in the winter-spring rice crop",
         "summary_vi": "Mật độ rầy nâu tăng ở các cánh đồng ven sông; bà con thăm đồng thường xuyên.",
         "summary_en": "Brown planthoppers are increasing in the riverside fields; check your fields often.",
         "body_vi": ("Qua điều tra của cán bộ khuyến nông, mật độ rầy nâu tại các cánh đồng ven sông Hoài đang "
                     "tăng, có nơi trên 3.000 con/m².\n\n"
                     "Bà con cần thăm đồng 2 - 3 ngày một lần, không phun thuốc khi mật độ còn thấp để bảo vệ "
                     "thiên địch. Khi cần phun, dùng thuốc đặc hiệu theo nguyên tắc 4 đúng và rẽ lúa phun sát gốc.\n\n"
                     "Mọi thắc mắc liên hệ cán bộ khuyến nông xã tại trụ sở UBND xã."),
         "body_en": ("Field surveys found brown planthoppers increasing in the fields along the Hoài river, "
                     "above 3,000 per square metre in places.\n\n"
                     "Check your fields every 2 to 3 days and do not spray while numbers are low, to protect "
                     "natural enemies. When spraying is needed, use a specific product correctly and spray at "
                     "the base of the plants.\n\n"
                     "Ask the commune's agricultural extension officer at the commune office.")},
        {"category": "du-lich-su-kien", "pinned": False, "published": -12, "lasts": None,
         "title_vi": "Tuyển hộ gia đình tham gia mô hình du lịch cộng đồng",
         "title_en": "Households wanted for community-based tourism",
         "summary_vi": "Hộ có nhà vườn, nghề truyền thống đăng ký trước cuối tháng để được tập huấn miễn phí.",
         "summary_en": "Households with gardens or traditional crafts can sign up for free training.",
         "body_vi": ("UBND xã phối hợp với Trung tâm Văn hóa - Thể thao tổ chức tập huấn miễn phí về đón khách "
                     "du lịch cộng đồng: homestay, trải nghiệm làm nông, thuyền thúng, làm bánh truyền thống.\n\n"
                     "Hộ gia đình quan tâm đăng ký tại bộ phận Văn hóa - Xã hội hoặc qua trưởng thôn."),
         "body_en": ("The commune and the Culture and Sports Centre offer free training in community-based "
                     "tourism: homestays, farming experiences, basket boats and traditional cakes.\n\n"
                     "Interested households can sign up with the culture and social affairs office or their "
                     "village head.")},
        {"category": "thong-bao-chung", "pinned": False, "published": -20, "lasts": 3,
         "title_vi": "Tạm ngưng cấp nước để sửa chữa đường ống",
         "title_en": "Water supply interrupted for pipe repairs",
         "summary_vi": "Các thôn ven sông tạm ngưng cấp nước từ 8 giờ đến 16 giờ.",
         "summary_en": "Riverside villages are without tap water from 8:00 to 16:00.",
         "body_vi": ("Công ty cấp nước thông báo tạm ngưng cấp nước để sửa chữa đường ống chính.\n\n"
                     "Đề nghị bà con chủ động trữ nước. Xin lỗi vì sự bất tiện."),
         "body_en": ("The water company will interrupt the supply to repair the main pipe.\n\n"
                     "Please store water ahead. We apologise for the inconvenience.")},
        {"category": "du-lich-su-kien", "pinned": False, "published": 7, "lasts": None,
         "title_vi": "Lễ hội rằm tháng Giêng: chương trình chi tiết",
         "title_en": "Full Moon festival: the programme",
         "summary_vi": "Thả hoa đăng, hát bài chòi và đua thuyền trên sông.",
         "summary_en": "Flower lanterns, bài chòi singing and boat races on the river.",
         "body_vi": ("Chương trình lễ hội gồm thả hoa đăng trên sông, hội đánh bài chòi và giải đua thuyền "
                     "truyền thống giữa các thôn.\n\nKính mời bà con và du khách tham dự."),
         "body_en": ("The festival brings flower lanterns on the river, bài chòi folk singing and a traditional "
                     "boat race between the villages.\n\nEveryone is welcome.")},
    ]


QUESTIONS: tuple[dict[str, Any], ...] = (
    {"status": "published", "days": -18, "topic": "thong-bao-chung",
     "title": "Làm căn cước cho con dưới 14 tuổi cần giấy tờ gì?",
     "body": "Con tôi 10 tuổi, tôi muốn làm căn cước cho cháu thì cần mang theo giấy tờ gì và làm ở đâu ạ?",
     "answer": ("Cha, mẹ hoặc người giám hộ đưa trẻ đến Công an xã, mang theo giấy khai sinh của trẻ và căn cước "
                "của mình. Trẻ dưới 6 tuổi có thể làm trên ứng dụng VNeID mà không cần đến trụ sở.\n\n"
                "Lệ phí cấp lần đầu được miễn."),
     "contact": {"name": "Nguyễn Thị Lan", "email": "lan.nguyen@example.test"}, "language": "vi"},
    {"status": "published", "days": -9, "topic": "nong-nghiep",
     "title": "Xã có hỗ trợ giống lúa cho vụ tới không?",
     "body": "Năm ngoái ruộng nhà tôi bị ngập mất trắng. Vụ này xã có chương trình hỗ trợ giống lúa không?",
     "answer": ("Có. Hộ bị thiệt hại trên 70% do thiên tai vụ trước được hỗ trợ giống theo Nghị định "
                "9/2025/NĐ-CP. Bà con nộp đơn kèm xác nhận của trưởng thôn tại bộ phận Một cửa trước ngày 15 "
                "tháng này."),
     "contact": {"phone": "0905 000 111"}, "language": "vi"},
    {"status": "published", "days": -4, "topic": "du-lich-su-kien",
     "title": "Can I rent a basket boat without a tour?",
     "body": "We are two visitors staying in Hội An. Can we rent a basket boat directly from a family here?",
     "answer": ("Yes. Several families of the boat cooperative rent basket boats by the hour at the river pier; "
                "prices are posted at the pier. Life jackets are provided and required."),
     "contact": {}, "language": "en"},
    {"status": "pending", "days": -1, "topic": "",
     "title": "Đèn đường thôn 3 khi nào được lắp thêm?",
     "body": "Đoạn đường từ nhà văn hóa thôn 3 ra bến đò tối om, xin hỏi xã có kế hoạch lắp đèn không?",
     "answer": "", "contact": {"name": "Trần Văn Hùng", "phone": "0914 222 333"}, "language": "vi"},
    {"status": "rejected", "days": -6, "topic": "",
     "title": "Hỏi về tranh chấp đất với nhà hàng xóm",
     "body": "Nhà hàng xóm lấn sang đất nhà tôi 2 mét, ông Nguyễn Văn A ở số nhà 12, xin xã giải quyết.",
     "answer": ("Câu hỏi có thông tin cá nhân của người khác nên không đăng công khai. Đề nghị ông/bà nộp đơn "
                "hòa giải tại UBND xã để được giải quyết theo quy định."),
     "contact": {"email": "hoidat@example.test"}, "language": "vi"},
)


def load_civic(session: Session, tenant: Tenant) -> None:
    now = utcnow()
    ids = {code: notices.create_category(session, code=code, name_vi=name_vi, name_en=name_en,
                                         position=position).id
           for position, (code, name_vi, name_en) in enumerate(CATEGORIES)}
    for spec in _announcements(tenant.name):
        published = now + timedelta(days=spec["published"])
        data: dict[str, Any] = {key: spec[key] for key in notices.TEXT_LIMITS}
        data |= {"category_id": ids[spec["category"]], "is_pinned": spec["pinned"],
                 "expires_at": published + timedelta(days=spec["lasts"]) if spec["lasts"] is not None else None}
        announcement = notices.create_announcement(session, data)
        notices.publish(session, announcement, published)
        announcement.created_at = announcement.updated_at = min(published, now)
    for item in QUESTIONS:
        # the demo's askers are fictional: their answers are not sent anywhere (notify=False)
        question = qa.ask(session, title=item["title"], body=item["body"], topic=item["topic"],
                          contact=check_contact(**item["contact"]), language=item["language"])
        asked = now + timedelta(days=item["days"])
        question.created_at = question.updated_at = asked
        if item["status"] == "published":
            qa.answer(session, question, item["answer"], notify=False)
        elif item["status"] == "rejected":
            qa.reject(session, question, item["answer"], notify=False)
        if item["status"] != "pending":
            question.answered_at = question.updated_at = asked + timedelta(days=2)
    session.flush()
