"""Demo communes: Cẩm Thanh, Nam Phước and Bình Lợi with their sellers and OCOP products.

``load_demo`` goes through the real services (communes, users, memberships, catalog
workflow), each commune under its own scope, so the demo exercises the same rules as
real use: assisted listings are made by the volunteer for households that consented and
leave an audit trail, products go draft → pending review → published. It is idempotent:
a commune that already exists (by slug) is left alone. Covers are drawn and uploaded
through the media pipeline like a seller's photos, so they have real variants.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from service.accounts.models import User
from service.accounts.services import create_user, find_user
from service.catalog import services as catalog
from service.catalog.models import Seller
from service.core.text import slugify
from service.dashboard.demo import load_activity
from service.db import PLATFORM, Base, Scope, TenantOwned, scoped, utcnow
from service.engagement.demo import load_engagement
from service.media import services as media
from service.media.services import UploadPolicy
from service.media.storage import Storage
from service.placeholder_images import commune_cover, product_cover
from service.tenants.models import Role, Tenant
from service.tenants.services import SYSTEM, Actor, add_member, create_tenant
from service.tourism.demo import load_tourism

DEMO_PASSWORD = "xaso-demo-2026"
DEMO_DOMAIN = "xaso.vn"
PLATFORM_ADMIN_EMAIL = f"tinh@{DEMO_DOMAIN}"
ROLE_LABELS = {
    Role.ADMIN: "commune admin (cán bộ quản trị)",
    Role.EDITOR: "editor, reviews listings (biên tập)",
    Role.VOLUNTEER: "digital-technology volunteer (tổ CNS cộng đồng)",
    Role.SELLER: "seller",
}


@dataclass
class DemoLogins:
    password: str
    accounts: list[tuple[str, str]] = field(default_factory=list)  # (email, description)


@dataclass(frozen=True)
class SellerSpec:
    key: str
    name: str
    village: str
    phone: str
    description_vi: str
    description_en: str
    has_login: bool = False  # the commune's "seller" account sells for itself
    assisted: bool = False  # a household without a smartphone; the volunteer lists for it
    consent_note: str = ""


@dataclass(frozen=True)
class ProductSpec:
    title_vi: str
    title_en: str
    description_vi: str
    description_en: str
    price: int
    unit: str
    stock: int
    category: str
    seller: str
    stars: int | None = None
    year: int | None = None
    status: str = "published"  # published | pending | draft
    featured: bool = False


@dataclass(frozen=True)
class CommuneSpec:
    slug: str
    name: str
    district: str
    province: str
    color: str
    tagline_vi: str
    tagline_en: str
    story_vi: str
    story_en: str
    people: dict[Role, str]  # role -> person's name
    categories: list[tuple[str, str, str]]  # (key, name_vi, name_en)
    sellers: list[SellerSpec]
    products: list[ProductSpec]

    def email(self, role: Role) -> str:
        return f"{role.value}@{self.slug}.{DEMO_DOMAIN}"



# Sellers of the demo get made-up accounts at banks found in the countryside, so VietQR works offline.
DEMO_BANKS = ("970405", "970418", "970436", "970415")  # Agribank, BIDV, Vietcombank, VietinBank


def _demo_bank_account(commune: str, seller: SellerSpec) -> dict[str, str]:
    digest = int(hashlib.sha256(f"{commune}/{seller.key}".encode()).hexdigest()[:12], 16)
    return {"bank_bin": DEMO_BANKS[digest % len(DEMO_BANKS)], "bank_account_number": f"{digest % 10**13:013d}",
            "bank_account_name": seller.name}


def _certificate(commune: str, title: str) -> str:
    """A plausible number of the provincial decision that certified the product: '1234/QĐ-UBND'."""
    number = 300 + int(hashlib.sha256(f"{commune}/{title}".encode()).hexdigest()[:6], 16) % 3200
    return f"{number}/QĐ-UBND"


# ---------------------------------------------------------------------------
# Content

CAM_THANH = CommuneSpec(
    slug="cam-thanh",
    name="Cẩm Thanh",
    district="TP. Hội An",
    province="Quảng Nam",
    color="#1f6f50",
    tagline_vi="Rừng dừa Bảy Mẫu, thuyền thúng và nước mắm cá cơm bên sông Hoài",
    tagline_en="Bảy Mẫu coconut forest, basket boats and anchovy fish sauce by the Hoài river",
    story_vi=(
        "Cẩm Thanh nằm nơi sông Thu Bồn gặp biển, cách phố cổ Hội An chừng năm cây số. Rừng dừa nước "
        "Bảy Mẫu rộng hơn trăm héc-ta từng che chở du kích trong chiến tranh, nay là nơi du khách ngồi "
        "thuyền thúng nghe hò khoan và xem người làng quay thúng.\n\n"
        "Người Cẩm Thanh sống với con nước: đánh bắt cá cơm, làm nước mắm theo lối ủ chượp truyền thống "
        "trong thùng gỗ, đan thúng chai, chằm lá dừa nước. Nước mắm Tư Tài đã được công nhận sản phẩm "
        "OCOP và lên sàn Postmart của Bưu điện.\n\n"
        "Tổ công nghệ số cộng đồng của xã đến từng nhà giúp các hộ chưa quen điện thoại thông minh đưa "
        "sản phẩm lên mạng, có sự đồng ý của gia đình và ghi lại đầy đủ."
    ),
    story_en=(
        "Cẩm Thanh lies where the Thu Bồn river meets the sea, five kilometres from Hội An's old town. "
        "The hundred-hectare Bảy Mẫu nipa-palm forest once sheltered guerrillas; today visitors ride "
        "round basket boats through it, listening to boatmen's songs and watching them spin.\n\n"
        "Life here follows the tides: fishing for anchovies, fermenting fish sauce in wooden barrels the "
        "old way, weaving basket boats and thatching with coconut leaves. Tư Tài fish sauce is OCOP "
        "certified and sold on Vietnam Post's Postmart.\n\n"
        "The commune's community digital-technology team goes door to door, helping households without "
        "smartphones put their goods online, with their consent and a full record."
    ),
    people={Role.ADMIN: "Nguyễn Thị Thu Hà", Role.EDITOR: "Lê Văn Phúc", Role.VOLUNTEER: "Trần Minh Khoa",
            Role.SELLER: "Phạm Tư Tài"},
    categories=[
        ("sauce", "Nước mắm & mắm", "Fish sauce & pastes"),
        ("dried", "Hải sản khô", "Dried seafood"),
        ("coconut", "Sản phẩm từ dừa", "Coconut products"),
        ("crafts", "Thủ công mỹ nghệ", "Handicrafts"),
        ("tours", "Trải nghiệm", "Experiences"),
    ],
    sellers=[
        SellerSpec("tu-tai", "Cơ sở nước mắm Tư Tài", "Thôn Thanh Tam", "0235 3926 178",
                   "Ba thế hệ làm nước mắm cá cơm ủ chượp trong thùng gỗ mít.",
                   "Three generations making anchovy fish sauce fermented in jackfruit-wood barrels.",
                   has_login=True),
        SellerSpec("htx", "HTX Dịch vụ Nông nghiệp Cẩm Thanh", "Thôn Vạn Lăng", "0235 3863 322",
                   "Hợp tác xã gom sản phẩm dừa và tổ chức tham quan rừng dừa Bảy Mẫu.",
                   "The cooperative collects coconut products and runs tours of the Bảy Mẫu forest."),
        SellerSpec("ba-lai", "Hộ bà Trần Thị Lài", "Thôn Võng Nhi", "0905 214 637",
                   "Bà Lài phơi cá, phơi mực trên giàn tre trước nhà đã hơn ba mươi năm.",
                   "Mrs Lài has dried fish and squid on bamboo racks in front of her house for thirty years.",
                   assisted=True, consent_note="Bà Lài đồng ý tại nhà ngày 12/3, con gái ký thay, tổ CNS lập."),
        SellerSpec("ong-sau", "Hộ ông Nguyễn Văn Sáu", "Thôn Thanh Nhứt", "0914 552 019",
                   "Ông Sáu đan thúng chai và làm đồ chơi lá dừa cho khách.",
                   "Mr Sáu weaves basket boats and folds coconut-leaf toys for visitors.",
                   assisted=True, consent_note="Ông Sáu đồng ý, ghi âm lời đồng ý, tổ CNS thôn Thanh Nhứt."),
    ],
    products=[
        ProductSpec("Nước mắm cá cơm Tư Tài 35 độ đạm", "Tư Tài anchovy fish sauce, 35°N",
                    "Cá cơm than và muối hột ủ chượp 12 tháng trong thùng gỗ, rút nhỉ lần đầu. Vị mặn ngọt hậu.",
                    "Anchovies and sea salt fermented 12 months in wooden barrels; first draw. Salty, sweet finish.",
                    145_000, "chai 500 ml", 120, "sauce", "tu-tai", 4, 2022, featured=True),
        ProductSpec("Nước mắm nhỉ Tư Tài 40 độ đạm", "Tư Tài first-press fish sauce, 40°N",
                    "Những giọt nhỉ đầu tiên, đậm đà, dùng chấm trực tiếp. Không chất bảo quản.",
                    "The very first drops, rich and deep, for dipping. No preservatives.",
                    185_000, "chai 250 ml", 60, "sauce", "tu-tai", 4, 2023),
        ProductSpec("Nước mắm cá cơm truyền thống 30 độ đạm", "Traditional anchovy fish sauce, 30°N",
                    "Nước mắm dùng nấu ăn hằng ngày, can lớn tiết kiệm cho gia đình.",
                    "Everyday cooking fish sauce in a large family-size can.",
                    260_000, "can 2 lít", 40, "sauce", "tu-tai", 3, 2021),
        ProductSpec("Mắm ruốc Cẩm Thanh", "Cẩm Thanh shrimp paste",
                    "Ruốc biển Cửa Đại xay nhuyễn, phơi nắng và ủ muối; thơm, sánh mịn.",
                    "Cửa Đại krill ground, sun-dried and salted; fragrant and smooth.",
                    85_000, "hũ 500 g", 80, "sauce", "tu-tai", 3, 2022),
        ProductSpec("Mắm cá cơm nguyên con", "Whole anchovy paste",
                    "Mắm cá cơm nguyên con theo cách làm của bà Lài, ăn với bánh tráng, rau sống.",
                    "Whole anchovies in brine, made Mrs Lài's way; eat with rice paper and herbs.",
                    90_000, "hũ 500 g", 25, "sauce", "ba-lai", status="pending"),
        ProductSpec("Cá cơm khô Cửa Đại", "Cửa Đại dried anchovies",
                    "Cá cơm săng luộc nước muối rồi phơi một nắng, rim hay chiên giòn đều ngon.",
                    "Anchovies boiled in brine and sun-dried for a day; great braised or fried.",
                    180_000, "túi 500 g", 50, "dried", "ba-lai", 3, 2021),
        ProductSpec("Mực khô một nắng", "Sun-dried squid (one sun)",
                    "Mực ống câu đêm, phơi đúng một nắng nên thịt còn ngọt mềm. Nướng than hồng.",
                    "Night-caught squid dried for one day only, still tender and sweet. Grill over charcoal.",
                    620_000, "kg", 20, "dried", "ba-lai", featured=True),
        ProductSpec("Tôm khô Cẩm Thanh", "Cẩm Thanh dried shrimp",
                    "Tôm đất sông Hoài luộc, phơi khô và bóc vỏ bằng tay.",
                    "River shrimp from the Hoài, boiled, dried and peeled by hand.",
                    295_000, "hộp 250 g", 35, "dried", "ba-lai"),
        ProductSpec("Cá chuồn khô", "Dried flying fish",
                    "Cá chuồn xẻ bướm, tẩm ít muối, phơi trên giàn tre.",
                    "Butterflied flying fish, lightly salted and dried on bamboo racks.",
                    120_000, "túi 500 g", 30, "dried", "ba-lai", status="pending"),
        ProductSpec("Dầu dừa nguyên chất ép lạnh", "Cold-pressed virgin coconut oil",
                    "Dừa khô rừng Bảy Mẫu ép lạnh, lọc tự nhiên. Dùng nấu ăn, dưỡng tóc, dưỡng da.",
                    "Cold-pressed from Bảy Mẫu coconuts, naturally filtered. For cooking, hair and skin.",
                    120_000, "chai 250 ml", 90, "coconut", "htx", 3, 2022),
        ProductSpec("Kẹo dừa Bảy Mẫu", "Bảy Mẫu coconut candy",
                    "Kẹo dừa nấu tay với nước cốt dừa và mạch nha, không phẩm màu.",
                    "Hand-cooked coconut candy with coconut cream and malt, no colouring.",
                    65_000, "hộp 300 g", 150, "coconut", "htx"),
        ProductSpec("Mứt dừa non", "Young coconut jam",
                    "Cơm dừa non sên đường phèn, dẻo mềm, món quà Tết quen thuộc.",
                    "Young coconut flesh candied with rock sugar: soft, a classic Tết gift.",
                    75_000, "hộp 250 g", 100, "coconut", "htx"),
        ProductSpec("Rượu dừa Cẩm Thanh", "Cẩm Thanh coconut wine",
                    "Rượu nếp ủ trong trái dừa xiêm, nồng nhẹ và thơm nước dừa.",
                    "Rice wine aged inside a green coconut: gentle, with a coconut-water aroma.",
                    110_000, "trái 700 ml", 30, "coconut", "htx", status="draft"),
        ProductSpec("Thuyền thúng mini trang trí", "Miniature basket boat",
                    "Thúng chai thu nhỏ đan tre, trét dầu rái như thúng thật; đường kính 30 cm.",
                    "A small bamboo basket boat sealed with resin like the real thing; 30 cm across.",
                    150_000, "chiếc", 40, "crafts", "ong-sau", 3, 2023, featured=True),
        ProductSpec("Giỏ tre đan tay Thanh Tam", "Thanh Tam hand-woven bamboo basket",
                    "Giỏ đựng đồ đi chợ đan nan tre cật, bền, có quai mây.",
                    "A sturdy market basket of outer bamboo strips with a rattan handle.",
                    95_000, "chiếc", 45, "crafts", "ong-sau"),
        ProductSpec("Bộ lót ly lá dừa nước", "Nipa-palm leaf coasters",
                    "Sáu tấm lót ly tết từ lá dừa nước phơi khô, kèm hộp giấy.",
                    "Six coasters plaited from dried nipa-palm leaves, in a paper box.",
                    85_000, "bộ 6 chiếc", 70, "crafts", "ong-sau"),
        ProductSpec("Cào cào lá dừa", "Coconut-leaf grasshoppers",
                    "Đồ chơi cào cào, chuồn chuồn xếp từ lá dừa tươi, món quà nhỏ của rừng dừa.",
                    "Grasshoppers and dragonflies folded from fresh coconut leaves, the forest's little gift.",
                    60_000, "bộ 5 con", 60, "crafts", "ong-sau"),
        ProductSpec("Vé thuyền thúng rừng dừa Bảy Mẫu", "Bảy Mẫu basket-boat ride",
                    "Ba mươi phút chèo thúng qua rừng dừa nước, xem quay thúng, câu cua cùng ngư dân.",
                    "Thirty minutes by basket boat through the nipa forest, boat spinning and crab fishing.",
                    150_000, "vé/người", 500, "tours", "htx", 4, 2022, featured=True),
    ],
)

NAM_PHUOC = CommuneSpec(
    slug="nam-phuoc",
    name="Nam Phước",
    district="Huyện Duy Xuyên",
    province="Quảng Nam",
    color="#8e2a4b",
    tagline_vi="Lụa Mã Châu, rượu Hồng Đào và bánh tráng bên dòng Thu Bồn",
    tagline_en="Mã Châu silk, Hồng Đào wine and rice paper on the Thu Bồn river",
    story_vi=(
        "Làng lụa Mã Châu có từ thế kỷ XVI, khi lụa xứ Quảng theo thuyền buôn qua Hội An đi Nhật Bản và "
        "châu Âu. Ngày nay vẫn còn những khung cửi kêu lách cách, nuôi tằm, ươm tơ và dệt lụa tơ tằm "
        "bằng tay.\n\n"
        "Rượu Hồng Đào, thứ rượu nếp ngâm trái đào rừng từng là rượu tiến vua, được một vài cơ sở phục "
        "dựng. Bánh tráng phơi sương, bánh tổ và mì Quảng là quà quê ai cũng mang về.\n\n"
        "Thị trấn giúp các hộ làng nghề bán hàng trên mạng và nhận chuyển khoản, đồng thời vẫn giữ cách "
        "trả tiền khi nhận hàng cho người quen dùng tiền mặt."
    ),
    story_en=(
        "Mã Châu silk village dates from the 16th century, when Quảng silk left Hội An on trading ships "
        "for Japan and Europe. Looms still clatter here, and families still raise silkworms, reel silk "
        "and weave it by hand.\n\n"
        "Hồng Đào wine, glutinous-rice wine steeped with wild peaches and once offered to the emperor, "
        "has been revived by a few households. Dew-softened rice paper, bánh tổ cakes and mì Quảng "
        "noodles are what every visitor takes home.\n\n"
        "The town helps craft households sell online and accept bank transfers, while keeping cash on "
        "delivery for those who prefer it."
    ),
    people={Role.ADMIN: "Võ Thị Mai", Role.EDITOR: "Đặng Quốc Huy", Role.VOLUNTEER: "Nguyễn Thảo Vy",
            Role.SELLER: "Huỳnh Thị Hoa"},
    categories=[
        ("silk", "Lụa & dệt", "Silk & weaving"),
        ("wine", "Rượu truyền thống", "Traditional wines"),
        ("ricepaper", "Bánh tráng & bánh quê", "Rice paper & country cakes"),
        ("specialties", "Đặc sản", "Local specialties"),
    ],
    sellers=[
        SellerSpec("htx-lua", "HTX Lụa tơ tằm Mã Châu", "Khối phố Mã Châu", "0235 3877 456",
                   "Hợp tác xã của 40 hộ trồng dâu, nuôi tằm và dệt lụa thủ công.",
                   "A cooperative of 40 households growing mulberry, raising silkworms and weaving by hand.",
                   has_login=True),
        SellerSpec("hong-dao", "Cơ sở rượu Hồng Đào Duy Xuyên", "Khối phố Long Xuyên", "0235 3877 901",
                   "Cơ sở phục dựng rượu Hồng Đào theo công thức gia truyền.",
                   "A household business reviving Hồng Đào wine from a family recipe."),
        SellerSpec("ba-bay", "Hộ bà Lê Thị Bảy", "Khối phố Phước Mỹ", "0935 118 264",
                   "Bà Bảy tráng bánh mỗi sáng từ bốn giờ, phơi sương trên giàn tre.",
                   "Mrs Bảy makes rice paper from four every morning and softens it in the dew.",
                   assisted=True, consent_note="Bà Bảy đồng ý tại nhà, cháu nội làm chứng; tổ CNS khối phố."),
        SellerSpec("que-nha", "Cơ sở đặc sản Quê Nhà", "Khối phố Mỹ Hòa", "0905 771 332",
                   "Mì Quảng sợi, trà lá dâu và quà quê Duy Xuyên.",
                   "Mì Quảng noodles, mulberry-leaf tea and other Duy Xuyên treats."),
    ],
    products=[
        ProductSpec("Khăn lụa tơ tằm Mã Châu", "Mã Châu silk scarf",
                    "Khăn lụa tơ tằm dệt tay 180 × 50 cm, nhuộm màu tự nhiên từ lá bàng và vỏ cây.",
                    "Hand-woven silk scarf, 180 × 50 cm, dyed with almond leaves and bark.",
                    450_000, "chiếc", 30, "silk", "htx-lua", 4, 2021, featured=True),
        ProductSpec("Áo dài lụa Mã Châu may đo", "Made-to-measure Mã Châu silk áo dài",
                    "Áo dài may đo từ lụa tơ tằm Mã Châu; gửi số đo sau khi đặt hàng.",
                    "An áo dài tailored from Mã Châu silk; send your measurements after ordering.",
                    1_200_000, "bộ", 10, "silk", "htx-lua", 4, 2021, featured=True),
        ProductSpec("Vải lụa tơ tằm Mã Châu", "Mã Châu silk fabric",
                    "Lụa tơ tằm khổ 90 cm, mềm mát, nhiều màu.",
                    "Pure silk, 90 cm wide, cool and soft, in many colours.",
                    380_000, "mét", 120, "silk", "htx-lua", 4, 2022),
        ProductSpec("Cà vạt lụa tơ tằm", "Silk necktie",
                    "Cà vạt lụa dệt hoa văn sóng nước, hộp giấy dó.",
                    "Silk necktie woven with a ripple pattern, in a dó-paper box.",
                    320_000, "chiếc", 40, "silk", "htx-lua", 3, 2022),
        ProductSpec("Túi xách lụa thêu tay", "Hand-embroidered silk bag",
                    "Túi lụa lót vải bố, thêu hoa sen bằng tay.",
                    "Silk bag lined with canvas, hand-embroidered with lotus flowers.",
                    280_000, "chiếc", 25, "silk", "htx-lua"),
        ProductSpec("Vỏ gối lụa tơ tằm", "Silk pillowcase",
                    "Vỏ gối lụa 50 × 70 cm, tốt cho tóc và da.",
                    "Silk pillowcase, 50 × 70 cm, kind to hair and skin.",
                    260_000, "chiếc", 30, "silk", "htx-lua", status="pending"),
        ProductSpec("Rượu Hồng Đào", "Hồng Đào peach wine",
                    "Rượu nếp ngâm trái đào rừng, màu hồng hổ phách, 29% vol.",
                    "Glutinous-rice wine steeped with wild peaches, amber-pink, 29% vol.",
                    165_000, "chai 500 ml", 80, "wine", "hong-dao", 4, 2020, featured=True),
        ProductSpec("Hộp quà rượu Hồng Đào", "Hồng Đào wine gift box",
                    "Hai chai rượu Hồng Đào trong hộp gỗ, kèm hai chén gốm Thanh Hà.",
                    "Two bottles of Hồng Đào in a wooden box with two Thanh Hà pottery cups.",
                    420_000, "hộp 2 chai", 40, "wine", "hong-dao", 4, 2020),
        ProductSpec("Rượu Hồng Đào bình gốm", "Hồng Đào wine in a stoneware jar",
                    "Rượu Hồng Đào ủ trong bình gốm một lít, hợp làm quà biếu.",
                    "Hồng Đào aged in a one-litre stoneware jar, a fine present.",
                    350_000, "bình 1 lít", 25, "wine", "hong-dao", 3, 2022),
        ProductSpec("Rượu nếp cái hoa vàng", "Yellow-flower glutinous rice wine",
                    "Rượu nếp cái hoa vàng chưng cất thủ công, 35% vol.",
                    "Hand-distilled yellow-flower glutinous rice wine, 35% vol.",
                    120_000, "chai 500 ml", 60, "wine", "hong-dao", 3, 2021),
        ProductSpec("Rượu dâu tằm", "Mulberry wine",
                    "Rượu dâu chín ngâm đường phèn, vị chua ngọt, màu đỏ thẫm.",
                    "Ripe mulberries steeped with rock sugar: sweet-sour and deep red.",
                    150_000, "chai 500 ml", 0, "wine", "hong-dao", status="draft"),
        ProductSpec("Bánh tráng nướng mè đen", "Grilled black-sesame rice crackers",
                    "Bánh tráng gạo pha mè đen, nướng than là phồng giòn.",
                    "Rice crackers with black sesame that puff up crisp over charcoal.",
                    45_000, "gói 10 cái", 200, "ricepaper", "ba-bay", 3, 2022),
        ProductSpec("Bánh tráng phơi sương", "Dew-softened rice paper",
                    "Bánh tráng nướng rồi phơi sương đêm cho dẻo, cuốn thịt heo luộc.",
                    "Rice paper grilled then left in the night dew until supple, for pork rolls.",
                    60_000, "gói 500 g", 150, "ricepaper", "ba-bay"),
        ProductSpec("Bánh tráng cuốn mỏng", "Thin rice paper for rolls",
                    "Bánh tráng mỏng tráng tay, nhúng nước là dùng được.",
                    "Thin hand-made rice paper, ready after a dip in water.",
                    35_000, "gói 30 cái", 300, "ricepaper", "ba-bay"),
        ProductSpec("Bánh tổ Duy Xuyên", "Duy Xuyên bánh tổ sticky cake",
                    "Bánh nếp đường đen hấp trong khuôn lá chuối, món cúng Tết xứ Quảng.",
                    "Sticky rice and dark sugar cake steamed in banana leaves, a Quảng Tết offering.",
                    80_000, "hộp 4 cái", 60, "ricepaper", "que-nha", 3, 2023),
        ProductSpec("Bánh ít lá gai", "Ramie-leaf sticky dumplings",
                    "Bánh ít lá gai nhân đậu xanh dừa, gói lá chuối khô.",
                    "Ramie-leaf dumplings filled with mung bean and coconut, wrapped in dried banana leaf.",
                    70_000, "gói 10 cái", 40, "ricepaper", "ba-bay", status="pending"),
        ProductSpec("Mì Quảng sợi khô", "Dried mì Quảng noodles",
                    "Sợi mì Quảng nghệ phơi khô, luộc ba phút là dùng được.",
                    "Turmeric mì Quảng noodles, dried; ready after three minutes in boiling water.",
                    40_000, "gói 500 g", 250, "specialties", "que-nha", 3, 2022),
        ProductSpec("Trà lá dâu tằm", "Mulberry-leaf tea",
                    "Lá dâu non của vùng nuôi tằm, sao khô; uống nóng hay lạnh đều ngon.",
                    "Young mulberry leaves from the silk farms, roasted; good hot or iced.",
                    95_000, "hộp 100 g", 90, "specialties", "que-nha", 3, 2023),
    ],
)

BINH_LOI = CommuneSpec(
    slug="binh-loi",
    name="Bình Lợi",
    district="Huyện Vĩnh Cửu",
    province="Đồng Nai",
    color="#b8641a",
    tagline_vi="Vườn bưởi Tân Triều, chôm chôm và sầu riêng bên sông Đồng Nai",
    tagline_en="Tân Triều pomelos, rambutans and durians on the Đồng Nai river",
    story_vi=(
        "Bình Lợi là xã cù lao bên sông Đồng Nai, đất phù sa bồi quanh năm. Vườn bưởi Tân Triều, bưởi "
        "đường lá cam nổi tiếng ngọt thanh, nằm dọc những con đường làng rợp bóng cây.\n\n"
        "Ngoài bưởi, nhà vườn trồng chôm chôm, sầu riêng Ri6 và Monthong, nuôi ong lấy mật hoa chôm "
        "chôm. Các hợp tác xã làm trái cây sấy, tinh dầu vỏ bưởi để không bỏ phí mùa nào.\n\n"
        "Xã hướng dẫn nhà vườn đưa trái cây lên sàn thương mại điện tử, bán thẳng cho khách thay vì qua "
        "thương lái, và mở vườn cho khách tham quan, hái trái."
    ),
    story_en=(
        "Bình Lợi is an island commune on the Đồng Nai river, its soil renewed by silt every year. The "
        "Tân Triều pomelo orchards, famous for the sweet lá cam variety, line its shady village lanes.\n\n"
        "Growers also raise rambutans and Ri6 and Monthong durians, and keep bees for rambutan-blossom "
        "honey. Cooperatives dry fruit and distil pomelo-peel oil so that no harvest goes to waste.\n\n"
        "The commune coaches orchard owners to sell on e-commerce marketplaces, straight to customers "
        "instead of through middlemen, and to open their gardens to visitors."
    ),
    people={Role.ADMIN: "Trần Văn Hùng", Role.EDITOR: "Ngô Thị Kim Anh", Role.VOLUNTEER: "Lý Gia Bảo",
            Role.SELLER: "Đỗ Thanh Tâm"},
    categories=[
        ("fresh", "Trái cây tươi", "Fresh fruit"),
        ("processed", "Trái cây sấy & chế biến", "Dried & processed fruit"),
        ("honey", "Mật ong & tinh dầu", "Honey & essential oils"),
        ("seedlings", "Cây giống", "Seedlings"),
        ("gifts", "Hộp quà", "Gift boxes"),
        ("visits", "Tham quan vườn", "Orchard visits"),
    ],
    sellers=[
        SellerSpec("htx-buoi", "HTX Bưởi Tân Triều Bình Lợi", "Ấp 1", "0251 3865 210",
                   "Hợp tác xã 60 nhà vườn bưởi đạt chuẩn VietGAP.",
                   "A cooperative of 60 VietGAP-certified pomelo growers.", has_login=True),
        SellerSpec("tu-hien", "Vườn sầu riêng Tư Hiền", "Ấp 3", "0918 442 715",
                   "Hai héc-ta sầu riêng Ri6 và Monthong, chín cây mới hái.",
                   "Two hectares of Ri6 and Monthong durians, picked only when tree-ripe."),
        SellerSpec("ong-ut", "Hộ ông Trần Văn Út", "Ấp 2", "0983 305 884",
                   "Vườn chôm chôm và nhãn của ông Út, hơn hai mươi năm tuổi.",
                   "Mr Út's rambutan and longan orchard, over twenty years old.",
                   assisted=True, consent_note="Ông Út đồng ý, ký giấy tại nhà văn hóa ấp 2."),
        SellerSpec("say-binh-loi", "Cơ sở trái cây sấy Bình Lợi", "Ấp 4", "0251 3866 047",
                   "Sấy dẻo, sấy giòn trái cây của xã, không đường hóa học.",
                   "Soft- and crisp-dried fruit from the commune, no artificial sweeteners."),
    ],
    products=[
        ProductSpec("Bưởi đường lá cam Tân Triều", "Tân Triều lá cam sweet pomelo",
                    "Bưởi đường lá cam vỏ mỏng, múi vàng ngọt thanh, hái trong ngày.",
                    "Thin-skinned lá cam pomelo with sweet golden segments, picked the same day.",
                    65_000, "kg", 400, "fresh", "htx-buoi", 4, 2022, featured=True),
        ProductSpec("Bưởi đường Tân Triều loại 1", "Tân Triều sweet pomelo, grade 1",
                    "Trái 1,2–1,5 kg, chọn lọc đều đẹp, có tem truy xuất nguồn gốc.",
                    "1.2–1.5 kg fruit, hand-selected, with a traceability label.",
                    85_000, "trái", 300, "fresh", "htx-buoi", 4, 2022),
        ProductSpec("Bưởi da xanh Bình Lợi", "Bình Lợi green-skin pomelo",
                    "Bưởi da xanh ruột hồng, mọng nước, ít hạt.",
                    "Green-skinned pomelo with juicy pink flesh and few seeds.",
                    55_000, "kg", 250, "fresh", "htx-buoi", 3, 2021),
        ProductSpec("Chôm chôm Thái", "Thai rambutan",
                    "Chôm chôm Thái tróc, cùi dày giòn, tách hạt dễ dàng.",
                    "Free-stone Thai rambutan with thick, crisp flesh.",
                    35_000, "kg", 500, "fresh", "ong-ut", 3, 2023),
        ProductSpec("Chôm chôm nhãn", "Longan rambutan",
                    "Giống chôm chôm nhãn trái nhỏ, ngọt đậm, thơm như nhãn.",
                    "Small rambutans of the nhãn variety, very sweet with a longan scent.",
                    60_000, "kg", 200, "fresh", "ong-ut"),
        ProductSpec("Sầu riêng Ri6", "Ri6 durian",
                    "Sầu riêng Ri6 cơm vàng, hạt lép, chín cây; giao nguyên trái.",
                    "Ri6 durian with golden flesh and flat seeds, tree-ripened; delivered whole.",
                    95_000, "kg", 150, "fresh", "tu-hien", 3, 2022, featured=True),
        ProductSpec("Sầu riêng Monthong", "Monthong durian",
                    "Sầu riêng Monthong múi to, cơm dày, vị béo ngọt dịu.",
                    "Monthong durian with large pods and thick, mildly sweet flesh.",
                    120_000, "kg", 120, "fresh", "tu-hien"),
        ProductSpec("Cơm sầu riêng đông lạnh", "Frozen durian flesh",
                    "Múi sầu riêng Ri6 tách sẵn, cấp đông nhanh, giữ nguyên hương vị.",
                    "Ri6 durian pods, shelled and flash-frozen to keep their flavour.",
                    230_000, "hộp 500 g", 50, "processed", "tu-hien", status="pending"),
        ProductSpec("Chôm chôm sấy dẻo", "Soft-dried rambutan",
                    "Chôm chôm bóc hạt, sấy dẻo nhiệt độ thấp, không thêm đường.",
                    "Pitted rambutan, soft-dried at low temperature, no added sugar.",
                    95_000, "túi 250 g", 120, "processed", "say-binh-loi", 3, 2022),
        ProductSpec("Mứt vỏ bưởi", "Candied pomelo peel",
                    "Vỏ bưởi Tân Triều ngâm bỏ đắng, sên đường, thơm dịu.",
                    "Tân Triều pomelo peel, soaked to remove bitterness and candied.",
                    65_000, "hộp 200 g", 90, "processed", "say-binh-loi", 3, 2021),
        ProductSpec("Sầu riêng sấy giòn", "Crisp-dried durian",
                    "Sầu riêng sấy chân không, giòn tan, thơm đặc trưng.",
                    "Vacuum-dried durian, crisp and unmistakably fragrant.",
                    280_000, "hộp 250 g", 60, "processed", "say-binh-loi"),
        ProductSpec("Tinh dầu vỏ bưởi", "Pomelo-peel essential oil",
                    "Chưng cất từ vỏ bưởi tươi, dùng dưỡng tóc, xông phòng.",
                    "Steam-distilled from fresh pomelo peel, for hair care and room scent.",
                    150_000, "chai 100 ml", 80, "honey", "htx-buoi", 4, 2023),
        ProductSpec("Mật ong hoa chôm chôm", "Rambutan-blossom honey",
                    "Mật ong nuôi trong vườn chôm chôm mùa hoa, sánh, vị ngọt dịu.",
                    "Honey from hives kept in rambutan orchards in bloom: thick and mild.",
                    180_000, "chai 500 ml", 70, "honey", "ong-ut", 3, 2021),
        ProductSpec("Trà hoa bưởi", "Pomelo-blossom tea",
                    "Hoa bưởi sấy khô ướp trà xanh Bảo Lộc, thơm thanh.",
                    "Dried pomelo blossoms scenting Bảo Lộc green tea.",
                    85_000, "hộp 100 g", 40, "honey", "ong-ut", status="pending"),
        ProductSpec("Cây giống bưởi đường lá cam", "Lá cam pomelo sapling",
                    "Cây chiết cành từ vườn đầu dòng, cao 60–80 cm, kèm hướng dẫn trồng.",
                    "Air-layered from certified mother trees, 60–80 cm tall, with planting notes.",
                    45_000, "cây", 600, "seedlings", "htx-buoi"),
        ProductSpec("Cây giống sầu riêng Ri6 ghép", "Grafted Ri6 durian sapling",
                    "Cây ghép mắt trên gốc sầu riêng hạt, bầu đất 20 cm.",
                    "Bud-grafted on durian rootstock, in a 20 cm soil bag.",
                    70_000, "cây", 300, "seedlings", "tu-hien"),
        ProductSpec("Hộp quà bưởi Tân Triều", "Tân Triều pomelo gift box",
                    "Hai trái bưởi đường lá cam loại 1 trong hộp giấy kraft, quà biếu dịp lễ Tết.",
                    "Two grade-1 lá cam pomelos in a kraft box, a holiday present.",
                    220_000, "hộp 2 trái", 100, "gifts", "htx-buoi", 4, 2022),
        ProductSpec("Vé tham quan vườn trái cây", "Orchard visit with fruit tasting",
                    "Nửa ngày thăm vườn bưởi, chôm chôm, sầu riêng; ăn trái tại vườn.",
                    "Half a day in the pomelo, rambutan and durian orchards, tasting fruit under the trees.",
                    100_000, "vé/người", 200, "visits", "htx-buoi", status="draft"),
    ],
)

COMMUNES: tuple[CommuneSpec, ...] = (CAM_THANH, NAM_PHUOC, BINH_LOI)


# ---------------------------------------------------------------------------
# Loading


# What a packed unit weighs, for postal marketplaces: the contents plus about a fifth for the jar, bottle or box.
_MEASURE = re.compile(r"(\d+(?:[.,]\d+)?)\s*(kg|g|ml|lít|l)\b")
_PIECE_GRAMS = {"chiếc": 400, "cây": 800, "mét": 300, "trái": 1500, "bộ": 600, "gói": 300, "hộp": 500, "chai": 900}


def shipping_weight(unit: str) -> int | None:
    """Grams with packaging for a demo unit ("chai 500 ml" -> 600, "kg" -> 1200); None for a service (tickets)."""
    text = unit.lower()
    if "vé" in text:
        return None
    found = _MEASURE.search(text)
    if found:
        amount = float(found.group(1).replace(",", "."))
        grams = amount * (1000 if found.group(2) in ("kg", "lít", "l") else 1)
        return int(round(grams * 1.2, -1))
    if text.strip() == "kg":
        return 1200
    counted = re.search(r"(\d+)\s+(\w+)", text)  # "hộp 2 chai": two bottles in a box
    if counted and counted.group(2) in _PIECE_GRAMS:
        return _PIECE_GRAMS[counted.group(2)] * int(counted.group(1))
    return _PIECE_GRAMS.get(text.split()[0], 500) if text.split() else 500


def demo_emails() -> list[str]:
    return [PLATFORM_ADMIN_EMAIL] + [spec.email(role) for spec in COMMUNES for role in Role]


def demo_logins() -> DemoLogins:
    logins = DemoLogins(password=DEMO_PASSWORD)
    logins.accounts.append((PLATFORM_ADMIN_EMAIL, "platform admin (tỉnh): every commune"))
    for spec in COMMUNES:
        for role in Role:
            label = ROLE_LABELS[role]
            if role == Role.SELLER:
                own = next(s for s in spec.sellers if s.has_login)
                label = f"seller: {own.name}"
            logins.accounts.append((spec.email(role), f"{spec.name}: {label}"))
    return logins


# The demo's photos are made while it loads, whatever MEDIA_PROCESSING says.
DEMO_UPLOADS = UploadPolicy(max_bytes=15 * 1024 * 1024, max_pixels=64_000_000, max_per_owner=8,
                            process_inline=True)


def load_demo(session: Session, storage: Storage, reset: bool = False) -> DemoLogins:
    """Create the demo communes that do not exist yet; the caller commits. Needs an app context: reports and
    polls are filed through the services, which read the settings (secret key, public URL)."""
    with scoped(session, PLATFORM):
        if reset:
            remove_demo(session)
        _user(session, PLATFORM_ADMIN_EMAIL, "Sở Công Thương (demo)", platform_admin=True)
        for spec in COMMUNES:
            if session.scalar(select(Tenant.id).where(Tenant.slug == spec.slug)) is None:
                _load_commune(session, storage, spec)
        session.flush()
    return demo_logins()


def _tenant_models_children_first() -> list[type[Any]]:
    by_table = {mapper.local_table: mapper.class_ for mapper in Base.registry.mappers
                if issubclass(mapper.class_, TenantOwned)}
    return [by_table[table] for table in reversed(Base.metadata.sorted_tables) if table in by_table]


def remove_demo(session: Session) -> None:
    """Delete the demo communes, all their data and the demo accounts."""
    with scoped(session, PLATFORM):
        tenants = list(session.scalars(select(Tenant).where(Tenant.slug.in_([c.slug for c in COMMUNES]))))
        for tenant in tenants:
            # ORM deletes in the commune's scope: the data layer limits each one to this commune.
            with scoped(session, Scope(tenant.id)):
                for model in _tenant_models_children_first():
                    session.execute(delete(model))
            session.delete(tenant)
        session.flush()
        session.execute(delete(User).where(User.email.in_(demo_emails())))  # tokens go by ON DELETE CASCADE


def _user(session: Session, email: str, name: str, platform_admin: bool = False) -> User:
    user = find_user(session, email)
    if user is None:
        user = create_user(session, email=email, name=name, password=DEMO_PASSWORD,
                           is_platform_admin=platform_admin)
    return user


def _load_commune(session: Session, storage: Storage, spec: CommuneSpec) -> None:
    tenant = create_tenant(
        session, slug=spec.slug, name=spec.name, district=spec.district, province=spec.province,
        tagline_vi=spec.tagline_vi, tagline_en=spec.tagline_en, story_vi=spec.story_vi,
        story_en=spec.story_en, primary_color=spec.color,
    )
    users: dict[Role, User] = {}
    for role in Role:
        users[role] = _user(session, spec.email(role), spec.people[role])
        add_member(session, tenant, users[role], role)
    actors = {role: Actor(user=user, role=role) for role, user in users.items()}

    with scoped(session, Scope(tenant.id)):
        cover = media.upload(session, storage, DEMO_UPLOADS,
                             commune_cover(spec.name, f"{spec.district}, {spec.province}", spec.color), "cover.jpg")
        cover.alt_vi, cover.alt_en = f"Phong cảnh {spec.name}", f"Landscape of {spec.name}"
        tenant.cover_key = cover.key
        categories = {
            key: catalog.create_category(session, SYSTEM, {"name_vi": vi, "name_en": en, "position": i})
            for i, (key, vi, en) in enumerate(spec.categories)
        }
        sellers: dict[str, Seller] = {}
        for s in spec.sellers:
            data: dict[str, Any] = {"name": s.name, "village": s.village, "phone": s.phone,
                                    "description_vi": s.description_vi, "description_en": s.description_en}
            if s.has_login:
                data["user_id"] = users[Role.SELLER].id
            if s.assisted:
                data |= {"assisted_listing_consent": True, "consent_note": s.consent_note}
            data |= _demo_bank_account(spec.slug, s)
            # Volunteers register the households they visit; staff register the rest.
            creator = actors[Role.VOLUNTEER] if s.assisted else SYSTEM
            sellers[s.key] = catalog.create_seller(session, creator, data)

        now = utcnow()
        for index, p in enumerate(spec.products):
            seller_spec = next(s for s in spec.sellers if s.key == p.seller)
            # Who lists it: the seller itself, the volunteer for assisted households, else the editor.
            if seller_spec.has_login:
                lister = actors[Role.SELLER]
            elif seller_spec.assisted:
                lister = actors[Role.VOLUNTEER]
            else:
                lister = actors[Role.EDITOR]
            data = {
                "seller_id": sellers[p.seller].id, "category_id": categories[p.category].id,
                "title_vi": p.title_vi, "title_en": p.title_en,
                "description_vi": p.description_vi, "description_en": p.description_en,
                "price": p.price, "unit": p.unit, "stock": p.stock, "weight_grams": shipping_weight(p.unit),
            }
            if p.stars is not None:
                year = p.year or 2022
                data |= {"ocop_stars": p.stars, "ocop_certificate_year": year,
                         "ocop_certificate_number": _certificate(spec.slug, p.title_vi)}
            product = catalog.create_product(session, lister, data)
            photo = product_cover(p.title_vi, seller_spec.name, spec.color)
            image = catalog.add_product_image(session, lister, storage, DEMO_UPLOADS, product, photo,
                                              f"{slugify(p.title_vi)}.jpg")
            catalog.update_product_image(session, lister, product, image.asset_id,
                                         {"alt_vi": p.title_vi, "alt_en": p.title_en})
            if p.featured:
                catalog.update_product(session, actors[Role.EDITOR], product, {"is_featured": True})
            if p.status in ("pending", "published"):
                catalog.change_status(session, lister, product, "submit")
            if p.status == "published":
                catalog.change_status(session, actors[Role.EDITOR], product, "approve", "Đã kiểm tra giấy tờ.")
                # Spread publication over the past weeks so "newest first" has a meaningful order.
                product.published_at = now - timedelta(hours=7 * (len(spec.products) - index))
        session.flush()
        load_tourism(session, storage, tenant, spec.slug)
        load_engagement(session, storage, tenant)
        load_activity(session, spec.district, spec.province, spec.name)
