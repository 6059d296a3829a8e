"""Every hall, booth and roadshow gets its rooms as soon as it is saved."""

from __future__ import annotations

from django.db.models.signals import post_save
from django.dispatch import receiver

from .models import Booth, Hall, Roadshow, Room


@receiver(post_save, sender=Hall)
def hall_rooms(sender, instance: Hall, created: bool, **kwargs) -> None:
    Room.objects.get_or_create(
        kind=Room.Kind.LOBBY, hall=instance, defaults={"title": f"{instance.name} lobby"}
    )
    Room.objects.get_or_create(
        kind=Room.Kind.MODERATION, hall=instance,
        defaults={"title": f"{instance.name} moderators"},
    )


@receiver(post_save, sender=Booth)
def booth_rooms(sender, instance: Booth, created: bool, **kwargs) -> None:
    Room.objects.get_or_create(
        kind=Room.Kind.BOOTH,
        booth=instance,
        defaults={"title": instance.name, "hall": instance.hall},
    )
    Room.objects.get_or_create(
        kind=Room.Kind.STAFF,
        booth=instance,
        defaults={"title": f"{instance.name} (staff)", "hall": instance.hall},
    )


@receiver(post_save, sender=Roadshow)
def roadshow_room(sender, instance: Roadshow, created: bool, **kwargs) -> None:
    Room.objects.get_or_create(
        kind=Room.Kind.ROADSHOW,
        roadshow=instance,
        defaults={"title": instance.title, "booth": instance.booth, "hall": instance.booth.hall},
    )
