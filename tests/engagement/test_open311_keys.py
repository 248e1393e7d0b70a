"""Open311 API keys: only a hash is kept, the plaintext is shown once to staff, a revoked key stops working,
and only the commune's staff manage its keys (audited)."""

from __future__ import annotations

import hashlib
import re

import pytest
from sqlalchemy import select

from service.audit.models import AuditEntry
from service.core.errors import Invalid
from service.db import PLATFORM, Scope, database
from service.engagement.models import Open311Key
from service.engagement.open311_keys import create_key, key_for, list_keys, revoke_key
from tests.admin.helpers import sign_in
from tests.engagement.open311_helpers import add_services, in_commune, new_key

ADMIN = "/c/cam-thanh/admin/open311-keys"
POST_URL = "/c/cam-thanh/open311/v2/requests.json"


def signed_in(app, email):
    client = app.test_client()
    with database(app).session(PLATFORM) as session:
        sign_in(client, session, email)
    return client


def litter(key):
    return {"api_key": key, "service_code": "rac-thai", "address_string": "Chợ Cẩm Thanh"}


def test_keys_are_stored_as_hashes_and_checked_within_the_commune(app, world):
    with in_commune(app, world.a.id) as session:
        key, plaintext = create_key(session, "  Ứng dụng   Đô thị thông minh ")
        assert key.name == "Ứng dụng Đô thị thông minh" and plaintext.startswith("x311_") and len(plaintext) > 40
        assert key.key_hash == hashlib.sha256(plaintext.encode()).hexdigest() and plaintext not in key.key_hash
        assert key.key_prefix == plaintext[:12] and key.last_used_at is None
        assert key_for(session, plaintext) is key and key.last_used_at is not None
        assert key_for(session, plaintext + "x") is None and key_for(session, "") is None
        assert key_for(session, None) is None
    with in_commune(app, world.b.id) as session:
        assert key_for(session, plaintext) is None  # another commune's key is unknown here
        assert list_keys(session) == []
    with in_commune(app, world.a.id) as session:
        revoked = revoke_key(session, key.id)
        assert revoked.is_active is False and key_for(session, plaintext) is None
        assert revoke_key(session, key.id).is_active is False  # idempotent
        for bad in ("", "   ", "x" * 121):
            with pytest.raises(Invalid) as refused:
                create_key(session, bad)
            assert refused.value.param == "name"


def test_staff_create_a_key_seen_once_and_revoke_it(app, world):
    add_services(app, world.a.id)
    staff = signed_in(app, world.a.users["editor"])
    page = staff.get(ADMIN)
    assert page.status_code == 200 and "Khóa Open311" in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"

    refused = staff.post(ADMIN, data={"name": "  "})
    assert refused.status_code == 422 and 'id="name-error"' in refused.get_data(as_text=True)

    created = staff.post(ADMIN, data={"name": "Ứng dụng Quảng Nam Smart"})
    assert created.status_code == 201 and created.headers["Cache-Control"] == "no-store"
    html = created.get_data(as_text=True)
    plaintext = re.search(r'id="new-key" type="text" readonly value="(x311_[^"]+)"', html).group(1)
    assert "sẽ không được hiển thị lại" in html
    # never again: the list shows the prefix only
    later = staff.get(ADMIN).get_data(as_text=True)
    assert plaintext not in later and plaintext[:12] in later and "Ứng dụng Quảng Nam Smart" in later

    client = app.test_client()
    assert client.post(POST_URL, data=litter(plaintext)).status_code == 201
    assert "Chưa bao giờ" not in staff.get(ADMIN).get_data(as_text=True)  # last used is shown

    with in_commune(app, world.a.id) as session:
        (key,) = list_keys(session)
    response = staff.post(f"{ADMIN}/{key.id}/revoke")
    assert response.status_code == 303 and response.headers["Location"].endswith(ADMIN)
    assert "Đã thu hồi" in staff.get(ADMIN).get_data(as_text=True)
    refused_post = client.post(POST_URL, data=litter(plaintext))
    assert refused_post.status_code == 403 and refused_post.get_json()[0]["code"] == 403

    with database(app).session(Scope(world.a.id)) as session:
        actions = [(entry.action, entry.object_id, entry.actor_role)
                   for entry in session.scalars(select(AuditEntry).order_by(AuditEntry.id))
                   if entry.action.startswith("open311_key")]
        assert actions == [("open311_key.created", key.id, "editor"), ("open311_key.revoked", key.id, "editor")]
        entries = session.scalars(select(AuditEntry).where(AuditEntry.action.like("open311_key%"))).all()
        assert all(plaintext not in str(entry.changes) for entry in entries)


def test_only_the_communes_staff_manage_its_keys(app, world):
    theirs = new_key(app, world.b.id, "Ứng dụng của Nam Phước")
    with in_commune(app, world.b.id) as session:
        (their_key,) = list_keys(session)
    for role in ("volunteer", "seller"):
        client = signed_in(app, world.a.users[role])
        assert client.get(ADMIN).status_code == 403
        assert client.post(ADMIN, data={"name": "Ứng dụng lạ"}).status_code == 403
    anonymous = app.test_client().get(ADMIN)
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    admin_a = signed_in(app, world.a.users["admin"])
    assert admin_a.get("/c/nam-phuoc/admin/open311-keys").status_code == 404
    assert admin_a.post(f"/c/nam-phuoc/admin/open311-keys/{their_key.id}/revoke").status_code == 404
    assert admin_a.post(f"{ADMIN}/{their_key.id}/revoke").status_code == 404  # not a key of this commune
    with database(app).session(PLATFORM) as session:
        assert session.scalars(select(Open311Key.is_active)).all() == [True]
        assert session.scalar(select(Open311Key.key_hash)) == hashlib.sha256(theirs.encode()).hexdigest()
