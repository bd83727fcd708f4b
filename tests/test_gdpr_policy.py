"""The privacy policy (/privacy) is generated from the data model: every table and every
column is described, in French and English; and `flask purge-old-data` enforces the
retention periods it states."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from peuplade.extensions import db
from peuplade.gdpr import policy
from peuplade.models import (
    ApiToken,
    HomeChange,
    MemberSession,
    ModerationAction,
    Notification,
    PasswordReset,
    Report,
    utcnow,
)

ENGLISH = {"Accept-Language": "en"}
SENSITIVE = {
    ("members", "home"): "you",
    ("members", "email"): "you",
    ("members", "public_position"): "neighbours",
    ("members", "password_hash"): "nobody",
    ("members", "cell_0"): "nobody",
    ("members", "cell_1"): "nobody",
    ("members", "cell_2"): "nobody",
    ("api_tokens", "token_hash"): "nobody",
    ("password_resets", "token_hash"): "nobody",
    ("member_sessions", "id_hash"): "nobody",
}


def test_every_table_and_column_of_the_model_is_in_the_register(app):
    missing = []
    for table in db.metadata.sorted_tables:
        entry = policy.REGISTRY.get(table.name)
        if entry is None:
            missing.append(table.name)
            continue
        missing += [f"{table.name}.{c.name}" for c in table.columns if c.name not in entry.columns]
    assert missing == [], "describe these in peuplade/gdpr/policy.py: " + ", ".join(missing)


def test_the_register_describes_nothing_that_is_not_stored(app):
    tables = {t.name: {c.name for c in t.columns} for t in db.metadata.sorted_tables}
    stale = [
        f"{name}.{column}"
        for name, entry in policy.REGISTRY.items()
        for column in (entry.columns if name in tables else ["*"])
        if name not in tables or column not in tables[name]
    ]
    assert stale == []
    assert len(policy.TABLES) == len(policy.REGISTRY)  # no table described twice


def test_each_entry_says_why_on_which_basis_how_long_and_who_sees_it(app):
    for entry in policy.TABLES:
        assert entry.basis in policy.BASES, entry.name
        assert entry.group in policy.GROUPS, entry.name
        assert entry.seen_by in policy.SEEN_BY, entry.name
        for locale in ("fr", "en"):
            with force_locale(locale):
                for text in (entry.title, entry.what, entry.why, entry.retention):
                    assert str(text).strip(), (entry.name, locale)
        for name, column in entry.columns.items():
            assert str(column.what).strip(), f"{entry.name}.{name}"
            assert column.seen_by in (None, *policy.SEEN_BY), f"{entry.name}.{name}"


def test_sensitive_columns_are_flagged_with_who_sees_them(app):
    for (table, column), seen_by in SENSITIVE.items():
        entry = policy.REGISTRY[table]
        assert entry.columns[column].sensitive, f"{table}.{column}"
        assert entry.seen_by_of(column) == seen_by, f"{table}.{column}"


@pytest.mark.parametrize(
    ("headers", "words"),
    [
        ({}, ["Vie privée et données personnelles", "Combien de temps", "CNIL", "Effacement"]),
        (
            ENGLISH,
            ["Privacy and personal data", "How long", "Erasure", "Until you delete your account."],
        ),
    ],
)
def test_privacy_page_is_public_and_renders_the_register(client, headers, words):
    r = client.get("/privacy", headers=headers)
    assert r.status_code == 200
    page = r.get_data(as_text=True)
    for word in words:
        assert word in page
    for table in db.metadata.sorted_tables:
        assert f'id="table-{table.name}"' in page
        for column in table.columns:
            assert f"<dt><code>{column.name}</code></dt>" in page


def test_every_page_links_to_the_policy(client):
    assert 'href="/privacy"' in client.get("/login").get_data(as_text=True)


def test_purge_old_data(app, make_member, runner):
    me = make_member("Anne")
    banned = make_member("Exclu")
    banned.status = "banned"
    now = utcnow()
    old, year = now - timedelta(days=400), timedelta(days=365)

    def notification(when):
        return Notification(member_id=me.id, kind="response", created_at=when)

    def session(ident, created, seen):
        return MemberSession(
            id_hash=ident * 64, member_id=me.id, created_at=created, last_seen_at=seen
        )

    def token(ident, expires, version):
        return ApiToken(
            member_id=me.id,
            token_hash=ident * 64,
            session_version=version,
            created_at=now - timedelta(days=1),
            expires_at=expires,
        )

    def reset(ident, expires, used=None):
        return PasswordReset(
            member_id=me.id,
            token_hash=ident * 64,
            created_at=expires,
            expires_at=expires,
            used_at=used,
        )

    def report(status, handled, target):
        return Report(
            reporter_id=me.id, target_type="member", target_id=target.id, reason="spam",
            status=status, created_at=old, handled_at=handled,
        )  # fmt: skip

    def action(member, when):
        return ModerationAction(
            action="warn", target_type="member", target_id=member.id, member_id=member.id,
            reason="raison", created_at=when,
        )  # fmt: skip

    version = me.session_version
    db.session.add_all(
        [
            notification(old),
            notification(now - timedelta(days=300)),
            session("a", now - timedelta(days=2), now - timedelta(minutes=5)),  # live
            session("b", now - timedelta(days=40), now - timedelta(minutes=5)),  # too old
            session("c", now - timedelta(days=20), now - timedelta(days=20)),  # idle
            token("d", now + timedelta(days=10), version),  # live
            token("e", now - timedelta(days=1), version),  # expired
            token("f", now + timedelta(days=10), version - 1),  # revoked
            reset("g", now + timedelta(minutes=30)),  # still valid
            reset("h", now - timedelta(hours=2), used=now - timedelta(hours=3)),  # used today
            reset("i", now - timedelta(days=3)),  # expired days ago
            HomeChange(member_id=me.id, changed_at=now - timedelta(days=40)),
            HomeChange(member_id=me.id, changed_at=now - timedelta(days=3)),
            report("open", None, banned),
            report("resolved", now - year - timedelta(days=5), me),
            action(me, old),
            action(banned, old),  # the ban still holds: kept
            action(me, now - timedelta(days=10)),
        ]
    )
    db.session.commit()

    result = runner.invoke(args=["purge-old-data"])
    assert result.exit_code == 0, result.output
    assert "notifications 1" in result.output
    db.session.expire_all()

    def count(model, *where):
        return db.session.scalar(select(func.count()).select_from(model).where(*where))

    assert count(Notification) == 1
    assert {s.id_hash[0] for s in db.session.scalars(select(MemberSession))} == {"a"}
    assert {t.token_hash[0] for t in db.session.scalars(select(ApiToken))} == {"d"}
    assert {r.token_hash[0] for r in db.session.scalars(select(PasswordReset))} == {"g", "h"}
    assert count(HomeChange) == 1
    assert [r.status for r in db.session.scalars(select(Report))] == ["open"]
    kept = db.session.scalars(select(ModerationAction)).all()
    assert sorted((a.member_id, a.created_at > now - year) for a in kept) == sorted(
        [(banned.id, False), (me.id, True)]
    )
    # A second run has nothing left to do.
    again = runner.invoke(args=["purge-old-data"])
    assert again.exit_code == 0 and "notifications 0" in again.output
