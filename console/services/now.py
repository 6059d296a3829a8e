"""The console's "Now": who is in the booth (with the profile each visitor allowed), the knock
queue, the calls in progress and the live roadshow."""

from __future__ import annotations

from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model

from accounts.models import Account
from accounts.services.profiles import profile_data
from booths import runtime
from booths.models import Roadshow, Room
from booths.services.rooms import directory
from streaming.calls import calls


def profiles_for_staff(user_ids: list[int]) -> dict[int, dict]:
    """Profile snippets of those among ``user_ids`` who let booth staff see them. Everyone
    else is left out (a user with no account row has the default: visible)."""
    hidden = set(Account.objects.filter(user_id__in=user_ids, visible_to_booth_staff=False)
                 .values_list("user_id", flat=True))
    shown = {}
    for user in get_user_model().objects.filter(pk__in=user_ids).exclude(pk__in=hidden):
        data = profile_data(user, private=False)
        shown[user.pk] = {k: data[k] for k in ("organisation", "country", "headline",
                                               "interests", "languages", "kind")}
    return shown


@database_sync_to_async
def _facts(booth_id: int) -> tuple[int | None, list[dict]]:
    room = Room.objects.filter(kind=Room.Kind.BOOTH, booth_id=booth_id).values_list(
        "pk", flat=True).first()
    live = [{"id": r.pk, "title": r.title, "room": Room.objects.filter(roadshow=r).values_list(
                "pk", flat=True).first(), "starts_at": r.starts_at.isoformat()}
            for r in Roadshow.objects.filter(booth_id=booth_id, state=Roadshow.State.LIVE)]
    return room, live


async def now(booth_id: int) -> dict:
    room_id, live = await _facts(booth_id)
    visitors: list[dict] = []
    count = 0
    if room_id is not None:
        room = await directory.get(room_id)
        listing = await runtime.presence().listing(room)
        count = listing["count"]
        people = [u for u in listing["users"] if u["id"] is not None]
        snippets = await database_sync_to_async(profiles_for_staff)(
            [u["id"] for u in people if not u["staff"]])
        for person in people:
            visitors.append({**person, "profile": snippets.get(person["id"])})
    service = calls()
    await service.start()
    knocks = [service.public_knock(k, n)
              for n, k in enumerate(await service.queue(booth_id), start=1)]
    return {"booth": booth_id, "room": room_id, "count": count, "people": visitors,
            "knocks": knocks, "calls": await service.booth_calls(booth_id), "roadshows": live}
