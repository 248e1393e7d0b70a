"""Demo polls of a commune: one open (with a few votes), one closed with its results.

The votes come from fictional phone numbers (0900 000 0xx): only their keyed hashes are stored,
as for real voters. Loading twice leaves the polls as they are.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.db import utcnow
from service.engagement import polls
from service.engagement.models import Poll, PollOption, PollVote, PublishState, ResultsVisibility
from service.tenants.models import Tenant

FESTIVAL_SLUG = "chon-ngay-to-chuc-le-hoi-cau-ngu"
TOURISM_SLUG = "uu-tien-ke-hoach-du-lich"


def _poll(session: Session, slug: str, question: tuple[str, str], description: tuple[str, str],
          options: list[tuple[str, str]], visibility: ResultsVisibility, opens_days: int, closes_days: int) -> Poll:
    now = utcnow()
    poll = Poll(slug=slug, question_vi=question[0], question_en=question[1], description_vi=description[0],
                description_en=description[1], status=PublishState.PUBLISHED, results_visibility=visibility,
                opens_at=now + timedelta(days=opens_days), closes_at=now + timedelta(days=closes_days))
    poll.options = [PollOption(label_vi=vi, label_en=en, position=position)
                    for position, (vi, en) in enumerate(options)]
    session.add(poll)
    session.flush()
    return poll


def _votes(session: Session, poll: Poll, per_option: list[int], first_number: int) -> None:
    number = first_number
    start = poll.opens_at or utcnow()
    for option, count in zip(poll.options, per_option, strict=True):
        for _ in range(count):
            key = polls.phone_voter_key(polls.phone_hash(f"0900000{number:03d}"))
            session.add(PollVote(poll_id=poll.id, option_id=option.id, voter_key=key,
                                 created_at=start + timedelta(hours=number * 3)))
            number += 1
    session.flush()


def load_polls(session: Session, tenant: Tenant) -> None:
    """Needs an app context (the voters' hashes use ``SECRET_KEY``); the session is scoped to ``tenant``."""
    if session.scalar(select(Poll.id).where(Poll.slug.in_([FESTIVAL_SLUG, TOURISM_SLUG]))) is not None:
        return
    festival = _poll(
        session, FESTIVAL_SLUG,
        ("Chọn ngày tổ chức Lễ hội Cầu Ngư năm nay", "Which day for this year's Cau Ngu festival?"),
        (f"Lễ hội Cầu Ngư của ngư dân {tenant.name} thường tổ chức vào tháng Hai âm lịch. Ủy ban xã muốn "
         "chọn ngày thuận tiện nhất cho bà con và du khách. Mỗi người một phiếu.",
         f"The fishermen of {tenant.name} hold their Cau Ngu (whale worship) festival in the second lunar "
         "month. The commune wants the day that suits residents and visitors best. One vote per person."),
        [("Mùng 10 tháng Hai âm lịch (ngày truyền thống)", "10th day of the 2nd lunar month (the traditional day)"),
         ("Thứ Bảy gần nhất sau mùng 10", "The first Saturday after the 10th"),
         ("Chủ nhật gần nhất sau mùng 10", "The first Sunday after the 10th")],
        ResultsVisibility.AFTER_VOTE, opens_days=-5, closes_days=21)
    _votes(session, festival, [7, 4, 5], first_number=1)
    tourism = _poll(
        session, TOURISM_SLUG,
        ("Năm tới xã nên ưu tiên hạng mục nào trong kế hoạch phát triển du lịch?",
         "Which part of the tourism plan should the commune do first next year?"),
        ("Kết quả được dùng để xây dựng kế hoạch du lịch cộng đồng năm tới.",
         "The results feed next year's community tourism plan."),
        [("Đường đi bộ ven sông và rừng dừa", "A walking path along the river and the coconut forest"),
         ("Nhà vệ sinh công cộng cho du khách", "Public toilets for visitors"),
         ("Bãi đỗ xe ở đầu làng", "A car park at the village entrance"),
         ("Biển chỉ dẫn song ngữ Việt – Anh", "Bilingual Vietnamese–English signposts")],
        ResultsVisibility.AFTER_CLOSE, opens_days=-45, closes_days=-15)
    _votes(session, tourism, [18, 9, 6, 11], first_number=100)
