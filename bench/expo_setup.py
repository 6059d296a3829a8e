"""The expo-day benchmark's database side: ``python -m bench.expo_setup --roadshows N --out F``.

Runs inside a Hallserver environment (``DJANGO_SETTINGS_MODULE`` and the SQLite path set by
:func:`bench.servers.prepare_hallserver_db`), after ``seed_demo``. It makes sure that ``N``
roadshows are live right now (the seed schedules one live roadshow a day; the benchmark wants
``N`` rooms with Q&A at once: the missing ones are added on booths that have none, live for the
next two hours) and writes the expo's layout as JSON: per hall its id, lobby room and booth
rooms, the live roadshows' rooms and the expo-wide moderators' room. Reading the layout from
the database (rather than paging ``/api/booths``) keeps it independent of the seed's scale.
"""

from __future__ import annotations

import argparse
import json
from datetime import timedelta
from pathlib import Path


def layout(roadshows: int) -> dict:
    import django

    django.setup()
    from django.utils import timezone

    from booths.models import Booth, Hall, Roadshow, Room

    now = timezone.now()
    live = list(Roadshow.objects.filter(state=Roadshow.State.LIVE).order_by("pk"))
    if len(live) < roadshows:
        busy = set(Roadshow.objects.values_list("booth_id", flat=True))
        spare = Booth.objects.exclude(pk__in=busy).order_by("pk")
        # Spread the added roadshows over the halls: every n-th booth without a roadshow.
        step = max(1, spare.count() // max(1, roadshows))
        for booth in list(spare[::step])[:roadshows - len(live)]:
            live.append(Roadshow.objects.create(
                booth=booth, title=f"{booth.name}: live (expo-day benchmark)"[:200],
                presenter_name="Bench Presenter", starts_at=now - timedelta(minutes=5),
                ends_at=now + timedelta(hours=2), state=Roadshow.State.LIVE))
    live = live[:roadshows]
    rooms = {r.roadshow_id: r.pk for r in Room.objects.filter(
        kind=Room.Kind.ROADSHOW, roadshow__in=live)}
    halls = []
    for hall in Hall.objects.order_by("position", "pk"):
        lobby = Room.objects.get(kind=Room.Kind.LOBBY, hall=hall).pk
        booth_rooms = list(Room.objects.filter(kind=Room.Kind.BOOTH, hall=hall)
                           .order_by("booth__pk").values_list("pk", flat=True))
        halls.append({"id": hall.pk, "lobby": lobby, "booth_rooms": booth_rooms})
    moderation = Room.objects.filter(kind=Room.Kind.MODERATION, hall__isnull=True).first()
    return {"halls": halls, "roadshow_rooms": [rooms[r.pk] for r in live],
            "moderation_room": moderation.pk if moderation else None}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.expo_setup")
    parser.add_argument("--roadshows", type=int, default=20)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    args.out.write_text(json.dumps(layout(args.roadshows)))


if __name__ == "__main__":
    main()
