"""A commune's brand colour stays readable: links on the page and white text in the header pass WCAG AA."""

from __future__ import annotations

from service.core.colors import PAGE_BACKGROUND, contrast_ratio, readable_brand
from service.tenants.models import Tenant


def test_contrast_ratio_matches_wcag() -> None:
    assert round(contrast_ratio("#000000", "#ffffff"), 1) == 21.0
    assert round(contrast_ratio("#777777", "#ffffff"), 2) == 4.48
    assert contrast_ratio("#1f6f50", "#1f6f50") == 1.0


def test_a_readable_colour_is_kept_and_a_light_one_is_darkened_just_enough() -> None:
    assert readable_brand("#1f6f50") == "#1f6f50"
    for light in ("#b8641a", "#ffff00", "#ffffff", "#B8641A"):
        darkened = readable_brand(light)
        assert contrast_ratio(darkened, PAGE_BACKGROUND) >= 4.5
        assert contrast_ratio(darkened, "#ffffff") >= 4.5
        assert contrast_ratio(darkened, PAGE_BACKGROUND) < 5.2  # not simply black
    assert readable_brand("not a colour") == "not a colour"


def test_the_commune_page_paints_its_colour_readable(client, world, db_session) -> None:
    tenant = db_session.get(Tenant, world.a.id)
    tenant.primary_color = "#b8641a"
    db_session.commit()
    page = client.get(f"/c/{world.a.slug}/").get_data(as_text=True)
    assert f"--brand: {readable_brand('#b8641a')}" in page and "#b8641a" not in page
