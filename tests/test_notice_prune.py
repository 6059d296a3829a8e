"""Old read notices can be pruned; unread and recent ones stay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from recruitment.models import Notice
from recruitment.services.notices import prune

pytestmark = [pytest.mark.django_db]

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def _notice(user, *, days_old: float, read: bool) -> Notice:
    notice = Notice.objects.create(user=user, kind="test", data={}, read=read)
    Notice.objects.filter(pk=notice.pk).update(at=NOW - timedelta(days=days_old))
    return notice


def test_prune_keeps_unread_and_recent_notices():
    user = get_user_model().objects.create_user("noticed")
    old_read = [_notice(user, days_old=40 + n, read=True) for n in range(3)]
    old_unread = _notice(user, days_old=90, read=False)
    recent_read = _notice(user, days_old=2, read=True)
    assert prune(timedelta(days=30), now=NOW, batch=2) == len(old_read)
    assert set(Notice.objects.values_list("pk", flat=True)) == {old_unread.pk, recent_read.pk}
    assert prune(timedelta(days=30), now=NOW) == 0


def test_the_command_reports_and_refuses_negative_days():
    user = get_user_model().objects.create_user("noticed2")
    old = Notice.objects.create(user=user, kind="test", data={}, read=True)
    Notice.objects.filter(pk=old.pk).update(at=datetime(2020, 1, 1, tzinfo=UTC))
    out = StringIO()
    call_command("prune_notices", "--days", "30", stdout=out)
    assert "deleted 1 read notices" in out.getvalue()
    assert not Notice.objects.exists()
    with pytest.raises(CommandError, match="--days"):
        call_command("prune_notices", "--days", "-1")
