"""The demo seed: a full, deterministic expo with rooms, today's roadshows and demo accounts."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from io import StringIO

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command
from django.utils import timezone

from booths.models import Booth, BoothStaff, ChatMessage, Expo, Hall, Profile, Roadshow, Room
from booths.seed import DEMO_EXPO_SLUG, seed_demo

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def local_now(hour: int, minute: int) -> datetime:
    return timezone.make_aware(datetime.combine(timezone.localdate(), time(hour, minute)))


def counts() -> dict[str, int]:
    models = [Expo, Hall, Booth, BoothStaff, Roadshow, Room, ChatMessage, Profile]
    return {m.__name__: m.objects.count() for m in [*models, get_user_model()]}


def test_seed_builds_halls_and_booths_from_many_countries():
    report = seed_demo(now=local_now(13, 7))

    assert report.created
    assert Expo.objects.get(slug=DEMO_EXPO_SLUG).name_zh
    halls = list(Hall.objects.all())
    assert report.halls == len(halls) >= 6
    assert len({h.color for h in halls}) == len(halls)
    assert all(h.name_zh and h.description for h in halls)
    booths = list(Booth.objects.all())
    assert report.booths == len(booths) >= 36
    assert all(Booth.objects.filter(hall=h).count() >= 6 for h in halls)
    countries = {b.country for b in booths}
    assert report.countries == len(countries) >= 10
    assert {"CN", "DE", "JP", "US", "GB"} <= countries
    assert {b.kind for b in booths} == set(Booth.Kind.values)
    assert len({b.name for b in booths}) == len(booths)
    for booth in booths:
        assert booth.industry_tags and booth.description.count(".") >= 2
        assert booth.logo_url == ""
        assert booth.links and all(
            link["url"].startswith("https://example.org/") for link in booth.links
        )


def test_every_place_has_its_rooms():
    report = seed_demo(now=local_now(13, 7))

    for hall in Hall.objects.all():
        assert Room.objects.filter(kind=Room.Kind.LOBBY, hall=hall).count() == 1
        assert Room.objects.filter(kind=Room.Kind.MODERATION, hall=hall).count() == 1
    for booth in Booth.objects.all():
        assert Room.objects.filter(kind=Room.Kind.BOOTH, booth=booth).count() == 1
        assert Room.objects.filter(kind=Room.Kind.STAFF, booth=booth).count() == 1
    for roadshow in Roadshow.objects.all():
        assert Room.objects.get(kind=Room.Kind.ROADSHOW, roadshow=roadshow).booth == roadshow.booth
    expected = 2 * report.halls + 2 * report.booths + report.roadshows
    expo_wide = Room.objects.filter(kind=Room.Kind.MODERATION, hall__isnull=True).count()
    assert report.rooms == Room.objects.count() - expo_wide == expected


def test_roadshows_today_with_one_live():
    now = local_now(13, 7)
    report = seed_demo(now=now)

    shows = list(Roadshow.objects.all())
    assert report.roadshows == len(shows) == 10
    assert all(timezone.localdate(s.starts_at) == timezone.localdate(now) for s in shows)
    assert all(s.starts_at < s.ends_at and s.presenter_name and s.title for s in shows)
    live = [s for s in shows if s.state == Roadshow.State.LIVE]
    assert len(live) == 1 and live[0].starts_at <= now < live[0].ends_at
    ended = [s for s in shows if s.state == Roadshow.State.ENDED]
    assert len(ended) >= 2 and all(s.ends_at <= now for s in ended)
    scheduled = [s for s in shows if s.state == Roadshow.State.SCHEDULED]
    assert scheduled and all(s.starts_at > now for s in scheduled)
    assert len({s.booth_id for s in shows}) == len(shows)
    assert len({s.booth.hall_id for s in shows}) >= 3


@pytest.mark.parametrize("hour, minute", [(0, 5), (23, 50)])
def test_roadshows_stay_today_near_midnight(hour, minute):
    now = local_now(hour, minute)
    seed_demo(now=now)

    shows = list(Roadshow.objects.all())
    assert len(shows) == 10
    assert all(timezone.localdate(s.starts_at) == timezone.localdate(now) for s in shows)
    (live,) = [s for s in shows if s.state == Roadshow.State.LIVE]
    assert live.starts_at <= now < live.ends_at


@pytest.mark.parametrize("hour, minute", [(0, 5), (13, 7), (22, 40), (23, 50)])
def test_the_demo_exhibitor_has_a_roadshow_to_start_at_any_hour(hour, minute):
    seed_demo(now=local_now(hour, minute))
    booth = BoothStaff.objects.get(user__username="exhibitor").booth
    states = set(Roadshow.objects.filter(booth=booth).values_list("state", flat=True))
    assert states - {Roadshow.State.ENDED}, states


def test_default_now_is_today():
    seed_demo()

    now = timezone.now()
    expo = Expo.objects.get()
    assert expo.starts_on <= timezone.localdate(now) <= expo.ends_on
    live = Roadshow.objects.get(state=Roadshow.State.LIVE)
    assert live.starts_at <= now < live.ends_at


def test_demo_accounts_authenticate_with_their_profile_kinds():
    report = seed_demo(now=local_now(13, 7))

    kinds = {
        "visitor": Profile.Kind.VISITOR,
        "exhibitor": Profile.Kind.EXHIBITOR,
        "moderator": Profile.Kind.MODERATOR,
    }
    accounts = {a.username: a for a in report.accounts}
    assert set(kinds) | {"admin"} <= set(accounts)
    assert len(accounts) > 4  # extra booth staff
    for account in report.accounts:
        user = authenticate(None, username=account.username, password=account.password)
        assert user is not None, account.username
        assert user.profile.display_name
        if account.username in kinds:
            assert user.profile.kind == kinds[account.username]
    assert authenticate(None, username="visitor", password="wrong") is None
    moderator = get_user_model().objects.get(username="moderator")
    assert moderator.is_staff and not moderator.is_superuser
    assert moderator.has_perm("booths.delete_chatmessage")
    admin = get_user_model().objects.get(username="admin")
    assert admin.is_staff and admin.is_superuser
    visitor = get_user_model().objects.get(username="visitor")
    assert not visitor.is_staff and not visitor.staffed_booths.exists()


def test_exhibitor_staffs_the_first_booth():
    seed_demo(now=local_now(13, 7))

    first_booth = Booth.objects.filter(hall=Hall.objects.first()).first()
    staff = BoothStaff.objects.get(user__username="exhibitor")
    assert staff.booth == first_booth
    assert staff.title == "Sales lead"
    other_booths = BoothStaff.objects.exclude(booth=first_booth).values("booth__hall").distinct()
    assert other_booths.count() == Hall.objects.count() - 1
    upcoming = Roadshow.objects.filter(booth=first_booth, state=Roadshow.State.SCHEDULED).get()
    assert upcoming.presenter.username == "exhibitor"


def test_second_run_changes_nothing():
    first = seed_demo(now=local_now(13, 7))
    before = counts()

    second = seed_demo(now=local_now(15, 0))

    assert not second.created
    assert counts() == before
    assert (second.halls, second.booths, second.roadshows, second.rooms) == (
        first.halls,
        first.booths,
        first.roadshows,
        first.rooms,
    )
    assert second.accounts == first.accounts


def test_seed_is_deterministic():
    now = local_now(13, 7)

    def snapshot():
        booths = Booth.objects.values_list("name", "country", "description", "industry_tags")
        shows = Roadshow.objects.values_list("title", "booth__name", "starts_at", "state")
        return list(booths.order_by("id")), list(shows.order_by("starts_at"))

    seed_demo(now=now)
    first = snapshot()
    Expo.objects.all().delete()
    seed_demo(now=now)

    assert snapshot() == first


def test_more_booths_per_hall_invents_unique_booths():
    report = seed_demo(now=local_now(13, 7), booths_per_hall=20)

    assert report.booths == 120
    assert Booth.objects.values("name").distinct().count() == 120


def test_management_command_prints_accounts():
    out = StringIO()
    call_command("seed_demo", stdout=out)
    call_command("seed_demo", stdout=out)

    text = out.getvalue()
    assert "exhibitor-demo" in text and "moderator-demo" in text and "Sales lead" in text
    assert "already exists" in text
    assert Expo.objects.count() == 1
    assert timezone.now() - timedelta(days=2) < Roadshow.objects.first().starts_at


def test_room_directory_preload_caches_every_room_with_its_staff(django_assert_num_queries):
    from asgiref.sync import async_to_sync

    from booths.services.rooms import RoomDirectory

    seed_demo(now=local_now(13, 7))
    directory = RoomDirectory()
    with django_assert_num_queries(2):
        loaded = directory.preload(100_000)
    assert loaded == Room.objects.count()
    staffed = BoothStaff.objects.order_by("pk").values_list("booth_id", flat=True).first()
    booth_room = Room.objects.filter(booth_id=staffed).order_by("pk").first()
    staff = set(BoothStaff.objects.filter(booth_id=booth_room.booth_id)
                .values_list("user_id", flat=True))
    assert staff
    with django_assert_num_queries(0):  # served from the cache
        info = async_to_sync(directory.get)(booth_room.pk)
    assert info == RoomDirectory._load(booth_room.pk)  # the same facts as a lazy load
    assert info.staff_ids == staff
    assert RoomDirectory().preload(3) == 3 and RoomDirectory().preload(0) == 0


def test_the_command_takes_a_scale_and_reports_progress():
    out = StringIO()
    call_command("seed_demo", "--scale", "demo", stdout=out)
    text = out.getvalue()
    assert "booths: 0/72 (0 %)" in text and "booths: 72/72 (100 %)" in text
    assert "Seeded expo 'demo-expo': 6 halls, 72 booths" in text
    assert Booth.objects.count() == 72


def test_an_unknown_scale_is_refused():
    from django.core.management import CommandError

    with pytest.raises(CommandError):
        call_command("seed_demo", "--scale", "galactic", stdout=StringIO())
    with pytest.raises(ValueError, match="unknown scale"):
        seed_demo(scale="galactic")
    assert Expo.objects.count() == 0


def test_scales_spread_booths_evenly_over_the_halls():
    from booths.seed import Scale

    scale = Scale("odd", booths=5000)
    per_hall = [scale.booths_of_hall(n, 6) for n in range(6)]
    assert per_hall == [834, 834, 833, 833, 833, 833] and sum(per_hall) == 5000
    report = seed_demo(now=local_now(13, 7), scale=Scale("bulk", booths=40, bulk=True))
    # A booth room and a staff room per booth, a lobby and a moderators room per hall, and
    # a room per roadshow.
    assert report.booths == 40 and report.rooms == 40 * 2 + 6 * 2 + report.roadshows
    assert sorted(Hall.objects.values_list("booths__hall", flat=True).distinct()) == sorted(
        Hall.objects.values_list("pk", flat=True))
    for booth in Booth.objects.all():
        assert Room.objects.filter(booth=booth, kind="booth").count() == 1
        assert Room.objects.filter(booth=booth, kind="staff").count() == 1
