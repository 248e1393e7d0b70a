"""Demo tourism of the demo communes: homestays hosted by their sellers, tours, places, events and stories.

Called by ``service.demo`` inside a commune's scope, after its sellers exist. Events are dated from the
day the demo loads, so there is always something upcoming.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.catalog.models import Seller
from service.db import utcnow
from service.media import services as media
from service.media.services import UploadPolicy
from service.media.storage import Storage
from service.placeholder_images import product_cover
from service.tenants.models import Tenant
from service.tenants.services import SYSTEM
from service.tourism import homestays as hosting
from service.tourism import (
    indexing,  # noqa: F401  (search documents follow, even without the web app)
    places,
)
from service.tourism.services import LOCAL_TZ

# The demo's photos are made while it loads, whatever MEDIA_PROCESSING says.
DEMO_UPLOADS = UploadPolicy(max_bytes=15 * 1024 * 1024, max_pixels=64_000_000, max_per_owner=8,
                            process_inline=True)
TET_2027 = (date(2027, 2, 3), date(2027, 2, 12))  # Tết Nguyên Đán 2027 falls on 6 February


@dataclass(frozen=True)
class RoomSpec:
    name_vi: str
    name_en: str
    capacity: int
    units: int
    base_price: int
    weekend_price: int
    tet_price: int


@dataclass(frozen=True)
class StaySpec:
    host: str  # the seller's name in the commune's demo spec
    name_vi: str
    name_en: str
    description_vi: str
    description_en: str
    house_rules_vi: str
    house_rules_en: str
    address: str
    latitude: float
    longitude: float
    amenities: list[str]
    rooms: list[RoomSpec]


@dataclass(frozen=True)
class PlaceSpec:
    kind: str
    name_vi: str
    name_en: str
    description_vi: str
    description_en: str
    address: str
    latitude: float
    longitude: float
    price: int | None = None
    duration_minutes: int | None = None
    opening_hours: str = ""


@dataclass(frozen=True)
class EventSpec:
    name_vi: str
    name_en: str
    description_vi: str
    description_en: str
    venue: str
    latitude: float
    longitude: float
    days_ahead: int  # from the day the demo loads
    starts: time  # local time
    hours: int


@dataclass(frozen=True)
class StorySpec:
    title_vi: str
    title_en: str
    summary_vi: str
    summary_en: str
    body_vi: str
    body_en: str
    latitude: float
    longitude: float


@dataclass(frozen=True)
class TourismSpec:
    color: str
    stays: list[StaySpec] = field(default_factory=list)
    places: list[PlaceSpec] = field(default_factory=list)
    events: list[EventSpec] = field(default_factory=list)
    stories: list[StorySpec] = field(default_factory=list)


CAM_THANH = TourismSpec(
    color="#2f7d4f",
    stays=[
        StaySpec(
            host="Hộ ông Nguyễn Văn Sáu",
            name_vi="Homestay Rừng Dừa Ông Sáu", name_en="Mr Sau's Coconut Forest Homestay",
            description_vi="Nhà vườn của gia đình ông Sáu nằm sát rừng dừa nước Bảy Mẫu, cách phố cổ Hội An "
                           "10 phút đạp xe. Sáng dậy nghe tiếng chim, chiều theo ông Sáu đi câu cua, tối ăn "
                           "bánh xèo do bà nhà đổ.",
            description_en="Mr Sau's family garden house sits right by the Bay Mau nipa palm forest, a "
                           "10-minute bike ride from Hoi An old town. Wake up to birdsong, go crab fishing "
                           "with Mr Sau in the afternoon and eat his wife's bánh xèo at night.",
            house_rules_vi="Không hút thuốc trong phòng. Giữ yên lặng sau 22 giờ.",
            house_rules_en="No smoking in the rooms. Quiet after 10 pm.",
            address="Thôn Thanh Nhứt, xã Cẩm Thanh, Hội An",
            latitude=15.8752, longitude=108.3547,
            amenities=["wifi", "breakfast", "bicycles", "garden", "river_view", "fan", "hot_water"],
            rooms=[
                RoomSpec("Phòng đôi nhìn ra vườn", "Double room with garden view", 2, 3, 450_000, 550_000,
                         800_000),
                RoomSpec("Phòng gia đình", "Family room", 4, 1, 750_000, 900_000, 1_300_000),
            ],
        ),
        StaySpec(
            host="Hộ bà Trần Thị Lài",
            name_vi="Nhà bà Lài bên sông Hoài", name_en="Mrs Lai's House on the Hoai River",
            description_vi="Ngôi nhà ngói ba gian ven sông ở thôn Võng Nhi. Bà Lài dạy khách làm bánh "
                           "tráng và gói bánh ít lá gai.",
            description_en="A three-bay tiled house on the river in Vong Nhi village. Mrs Lai teaches guests "
                           "to make rice paper and ramie-leaf cakes.",
            house_rules_vi="Cởi giày trước khi vào nhà. Trả phòng trước 12 giờ.",
            house_rules_en="Shoes off indoors. Check out by noon.",
            address="Thôn Võng Nhi, xã Cẩm Thanh, Hội An",
            latitude=15.8705, longitude=108.3452,
            amenities=["wifi", "breakfast", "air_conditioning", "private_bathroom", "parking"],
            rooms=[RoomSpec("Phòng đôi", "Double room", 2, 2, 380_000, 450_000, 700_000)],
        ),
    ],
    places=[
        PlaceSpec("tour", "Thúng chai rừng dừa Bảy Mẫu", "Basket-boat ride in the Bay Mau coconut forest",
                  "Ngồi thúng chai len lỏi qua rừng dừa nước Bảy Mẫu, xem ngư dân múa thúng, học câu cua "
                  "và làm nhẫn, châu chấu bằng lá dừa.",
                  "Glide through the Bay Mau nipa palm forest in a round basket boat, watch the fishermen "
                  "spin their boats, try crab fishing and fold rings and grasshoppers from palm leaves.",
                  "Rừng dừa Bảy Mẫu, thôn Thanh Tam", 15.8745, 108.3560, price=150_000, duration_minutes=60,
                  opening_hours="7:00 – 17:30"),
        PlaceSpec("craft_village", "Làng nghề đan thúng chai", "Basket-boat weaving village",
                  "Các hộ ở thôn Thanh Nhứt vẫn đan thúng chai bằng tre, trét dầu rái và phân trâu cho kín "
                  "nước. Khách có thể xem và thử đan.",
                  "Families in Thanh Nhut still weave basket boats from bamboo and seal them with resin. "
                  "Visitors can watch and try weaving.",
                  "Thôn Thanh Nhứt, xã Cẩm Thanh", 15.8771, 108.3498, opening_hours="8:00 – 17:00"),
        PlaceSpec("attraction", "Cánh đồng lúa Cẩm Thanh", "Cam Thanh rice fields",
                  "Những cánh đồng lúa xanh giữa các con lạch, đẹp nhất lúc hoàng hôn.",
                  "Green rice fields between the creeks, loveliest at sunset.",
                  "Thôn Vạn Lăng, xã Cẩm Thanh", 15.8802, 108.3431),
    ],
    events=[
        EventSpec("Lễ hội cầu ngư Cẩm Thanh", "Cam Thanh fishermen's festival",
                  "Lễ cúng Ông Nam Hải, đua thúng chai và hát bả trạo của ngư dân Cẩm Thanh.",
                  "Offerings to the Whale God, basket-boat races and the fishermen's rowing songs.",
                  "Bến thuyền thôn Thanh Tam", 15.8738, 108.3571, days_ahead=24, starts=time(7, 0), hours=10),
    ],
    stories=[
        StorySpec("Ông Sáu, người giữ rừng dừa nước", "Mr Sau, keeper of the palm forest",
                  "Ba thế hệ giữ rừng dừa nước, từ căn cứ kháng chiến đến điểm du lịch sinh thái.",
                  "Three generations keeping the nipa palm forest, from wartime hideout to eco-tourism.",
                  "Rừng dừa Bảy Mẫu từng là căn cứ của du kích trong chiến tranh.\n\n"
                  "Ngày nay ông Sáu chèo thúng chở khách, và dạy các cháu trồng lại dừa nước sau mỗi mùa lũ.",
                  "The Bay Mau palm forest once hid guerrillas during the war.\n\n"
                  "Today Mr Sau paddles visitors around, and teaches his grandchildren to replant the palms "
                  "after every flood season.",
                  15.8749, 108.3552),
    ],
)

NAM_PHUOC = TourismSpec(
    color="#8a3b2e",
    stays=[
        StaySpec(
            host="Hộ bà Lê Thị Bảy",
            name_vi="Homestay Làng Lụa Mã Châu", name_en="Ma Chau Silk Village Homestay",
            description_vi="Nhà vườn giữa làng lụa Mã Châu, nghe tiếng khung cửi mỗi sáng. Chủ nhà đưa khách "
                           "đi thăm ruộng dâu và tháp Chăm Bằng An.",
            description_en="A garden house in Ma Chau silk village, with looms clacking every morning. The "
                           "hosts take guests to the mulberry fields and the Bang An Cham tower.",
            house_rules_vi="Không mang thú cưng. Giữ yên lặng sau 22 giờ.",
            house_rules_en="No pets. Quiet after 10 pm.",
            address="Khối phố Phước Mỹ, thị trấn Nam Phước, Duy Xuyên",
            latitude=15.8312, longitude=108.2275,
            amenities=["wifi", "breakfast", "air_conditioning", "hot_water", "bicycles", "parking"],
            rooms=[
                RoomSpec("Phòng đôi", "Double room", 2, 2, 350_000, 420_000, 650_000),
                RoomSpec("Phòng ba người", "Triple room", 3, 1, 480_000, 560_000, 850_000),
            ],
        ),
    ],
    places=[
        PlaceSpec("craft_village", "Làng lụa Mã Châu", "Ma Chau silk village",
                  "Làng dệt lụa hơn 400 năm tuổi: xem ươm tơ, dệt lụa trên khung cửi và mua lụa tại xưởng.",
                  "A silk-weaving village over 400 years old: watch silk being reeled and woven on looms, "
                  "and buy it at the workshop.",
                  "Khối phố Mã Châu, thị trấn Nam Phước", 15.8288, 108.2241, opening_hours="7:30 – 17:00"),
        PlaceSpec("tour", "Đạp xe ruộng dâu và làng lụa", "Cycling the mulberry fields and silk village",
                  "Nửa ngày đạp xe qua bãi dâu ven sông Thu Bồn, ghé nhà nuôi tằm và xưởng dệt.",
                  "Half a day cycling the mulberry fields along the Thu Bon river, visiting silkworm "
                  "farmers and a weaving workshop.",
                  "Xuất phát: HTX Lụa Mã Châu", 15.8295, 108.2258, price=250_000, duration_minutes=240),
    ],
    events=[
        EventSpec("Ngày hội Lụa Mã Châu", "Ma Chau Silk Day",
                  "Trình diễn dệt lụa, trình diễn áo dài lụa Mã Châu và chợ phiên sản phẩm OCOP.",
                  "Silk-weaving demonstrations, a Ma Chau silk áo dài show and an OCOP products fair.",
                  "Sân HTX Lụa Mã Châu", 15.8290, 108.2244, days_ahead=38, starts=time(8, 0), hours=9),
    ],
    stories=[
        StorySpec("Tiếng khung cửi Mã Châu", "The looms of Ma Chau",
                  "Làng lụa từng dệt cho triều đình nay giữ nghề bằng lụa tơ tằm tự nhiên.",
                  "The village that once wove for the court keeps its craft alive with natural silk.",
                  "Lụa Mã Châu từng được chọn để may áo cho hoàng tộc.\n\n"
                  "Hợp tác xã hôm nay giữ những khung cửi gỗ cũ bên cạnh máy dệt mới.",
                  "Ma Chau silk was once chosen for the royal family's clothes.\n\n"
                  "Today's cooperative keeps the old wooden looms next to the new machines.",
                  15.8288, 108.2241),
    ],
)

BINH_LOI = TourismSpec(
    color="#5b7d1a",
    stays=[
        StaySpec(
            host="Hộ ông Trần Văn Út",
            name_vi="Homestay Vườn Bưởi Út Bình Lợi", name_en="Uncle Ut's Pomelo Garden Homestay",
            description_vi="Nhà sàn gỗ giữa vườn bưởi Tân Triều bên sông Đồng Nai. Khách được hái bưởi, chèo "
                           "xuồng và ăn cá nướng trui.",
            description_en="A wooden stilt house in a Tan Trieu pomelo orchard on the Dong Nai river. Pick "
                           "pomelos, paddle a canoe and eat straw-grilled fish.",
            house_rules_vi="Trẻ em đi xuồng phải mặc áo phao. Không hút thuốc trong nhà.",
            house_rules_en="Children wear life jackets in canoes. No smoking indoors.",
            address="Ấp 2, xã Bình Lợi, Vĩnh Cửu, Đồng Nai",
            latitude=11.0215, longitude=106.8032,
            amenities=["wifi", "breakfast", "garden", "river_view", "kitchen", "parking", "fan"],
            rooms=[
                RoomSpec("Phòng đôi nhà sàn", "Double room in the stilt house", 2, 2, 400_000, 500_000, 750_000),
                RoomSpec("Phòng tập thể", "Dormitory room", 6, 1, 900_000, 1_100_000, 1_500_000),
            ],
        ),
    ],
    places=[
        PlaceSpec("tour", "Hái bưởi Tân Triều và chèo xuồng", "Pomelo picking and canoeing",
                  "Theo nhà vườn hái bưởi Tân Triều, chèo xuồng trên sông Đồng Nai và thưởng thức trái cây "
                  "tại vườn.",
                  "Pick Tan Trieu pomelos with the growers, paddle on the Dong Nai river and taste fruit in "
                  "the orchard.",
                  "Ấp 1, xã Bình Lợi", 11.0189, 106.8004, price=120_000, duration_minutes=150,
                  opening_hours="7:00 – 16:00"),
        PlaceSpec("attraction", "Cù lao Tân Triều", "Tan Trieu islet",
                  "Cù lao xanh mát với các vườn bưởi trăm tuổi giữa sông Đồng Nai.",
                  "A green islet of century-old pomelo orchards in the middle of the Dong Nai river.",
                  "Xã Bình Lợi và Tân Bình, Vĩnh Cửu", 11.0248, 106.8101),
        PlaceSpec("craft_village", "Lò trái cây sấy Bình Lợi", "Binh Loi dried fruit workshops",
                  "Các cơ sở sấy mít, chuối, bưởi dẻo theo cách truyền thống; khách được xem và nếm thử.",
                  "Workshops drying jackfruit, banana and candied pomelo peel the traditional way; watch and "
                  "taste.",
                  "Ấp 4, xã Bình Lợi", 11.0162, 106.7968, opening_hours="8:00 – 17:00"),
    ],
    events=[
        EventSpec("Lễ hội trái cây Bình Lợi", "Binh Loi fruit festival",
                  "Thi bưởi ngon, trưng bày trái cây vườn và chợ quê cuối tuần.",
                  "A best-pomelo contest, orchard fruit displays and a weekend country market.",
                  "Nhà văn hoá xã Bình Lợi", 11.0201, 106.8015, days_ahead=31, starts=time(7, 30), hours=10),
    ],
    stories=[
        StorySpec("Bưởi Tân Triều, trăm năm bên sông", "Tan Trieu pomelos, a century by the river",
                  "Phù sa sông Đồng Nai làm nên trái bưởi ngọt thanh nổi tiếng miền Đông.",
                  "The Dong Nai river's silt makes the sweet pomelos the south-east is known for.",
                  "Những gốc bưởi đầu tiên được trồng trên cù lao hơn trăm năm trước.\n\n"
                  "Ông Út kể mỗi mùa nước nổi, phù sa lại bồi cho vườn thêm một lớp đất mới.",
                  "The first pomelo trees were planted on the islet more than a century ago.\n\n"
                  "Mr Ut says every flood season the river lays a new layer of silt on the orchards.",
                  11.0248, 106.8101),
    ],
)

SPECS: dict[str, TourismSpec] = {"cam-thanh": CAM_THANH, "nam-phuoc": NAM_PHUOC, "binh-loi": BINH_LOI}


def _cover(session: Session, storage: Storage, title: str, caption: str, color: str) -> str:
    asset = media.upload(session, storage, DEMO_UPLOADS, product_cover(title, caption, color), "cover.jpg")
    asset.alt_vi = title
    return asset.key


def _host(session: Session, name: str) -> Seller:
    seller = session.scalar(select(Seller).where(Seller.name == name))
    if seller is None:  # pragma: no cover - the specs name sellers of the same demo commune
        raise LookupError(name)
    return seller


def _local(day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=LOCAL_TZ)


def load_tourism(session: Session, storage: Storage, tenant: Tenant, spec_slug: str) -> None:
    """Homestays, tours, places, an upcoming event and a story of one demo commune, all published."""
    spec = SPECS.get(spec_slug)
    if spec is None:
        return
    for stay in spec.stays:
        homestay = hosting.create_homestay(session, SYSTEM, {
            "host_seller_id": _host(session, stay.host).id, "name_vi": stay.name_vi, "name_en": stay.name_en,
            "description_vi": stay.description_vi, "description_en": stay.description_en,
            "house_rules_vi": stay.house_rules_vi, "house_rules_en": stay.house_rules_en,
            "amenities": list(stay.amenities), "address": stay.address,
            "latitude": stay.latitude, "longitude": stay.longitude})
        homestay.cover_key = _cover(session, storage, stay.name_vi, stay.host, spec.color)
        for room in stay.rooms:
            room_type = hosting.create_room_type(session, SYSTEM, homestay, {
                "name_vi": room.name_vi, "name_en": room.name_en, "capacity": room.capacity,
                "base_price": room.base_price, "weekend_price": room.weekend_price}, room.units)
            hosting.add_price_rule(session, SYSTEM, room_type, "Tết Nguyên Đán", *TET_2027, room.tet_price)
        hosting.set_published(session, SYSTEM, homestay, True)
    for place in spec.places:
        created = places.create_place(session, SYSTEM, {
            "kind": place.kind, "name_vi": place.name_vi, "name_en": place.name_en,
            "description_vi": place.description_vi, "description_en": place.description_en,
            "address": place.address, "latitude": place.latitude, "longitude": place.longitude,
            "price": place.price, "duration_minutes": place.duration_minutes,
            "opening_hours": place.opening_hours,
            "cover_key": _cover(session, storage, place.name_vi, tenant.name, spec.color)})
        places.publish(session, SYSTEM, created)
    today = utcnow().astimezone(LOCAL_TZ).date()
    for event in spec.events:
        starts = _local(today + timedelta(days=event.days_ahead), event.starts)
        created_event = places.create_event(session, SYSTEM, {
            "name_vi": event.name_vi, "name_en": event.name_en, "description_vi": event.description_vi,
            "description_en": event.description_en, "venue": event.venue, "latitude": event.latitude,
            "longitude": event.longitude, "starts_at": starts, "ends_at": starts + timedelta(hours=event.hours),
            "cover_key": _cover(session, storage, event.name_vi, tenant.name, spec.color)})
        places.publish(session, SYSTEM, created_event)
    for story in spec.stories:
        article = places.create_article(session, SYSTEM, {
            "title_vi": story.title_vi, "title_en": story.title_en, "summary_vi": story.summary_vi,
            "summary_en": story.summary_en, "body_vi": story.body_vi, "body_en": story.body_en,
            "latitude": story.latitude, "longitude": story.longitude,
            "cover_key": _cover(session, storage, story.title_vi, tenant.name, spec.color)})
        places.publish(session, SYSTEM, article)
    session.flush()
