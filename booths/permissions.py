"""The permission matrix: which role may do what. docs/permissions.md is rendered from it
(tests/test_permissions.py checks they agree and enumerates every role and permission).

A person's role depends on where they act: booth staff are staff in their own booth's rooms
only, a hall moderator is a moderator in the rooms of their hall only; elsewhere both are
ordinary registered visitors.
"""

from __future__ import annotations

from enum import StrEnum

from .services.identity import Visitor
from .services.rooms import RoomInfo


class Role(StrEnum):
    ANONYMOUS = "anonymous"
    GUEST = "guest"
    VISITOR = "visitor"
    STAFF = "staff"
    HALL_MODERATOR = "hall moderator"
    MODERATOR = "moderator"
    ADMIN = "admin"


ROLES = list(Role)
_EVERYONE = frozenset(Role)
_PEOPLE = _EVERYONE - {Role.ANONYMOUS}
_ROOM_KEEPERS = frozenset({Role.STAFF, Role.HALL_MODERATOR, Role.MODERATOR, Role.ADMIN})
_HALL_KEEPERS = frozenset({Role.HALL_MODERATOR, Role.MODERATOR, Role.ADMIN})
_EXPO_KEEPERS = frozenset({Role.MODERATOR, Role.ADMIN})

#: permission → (roles allowed, what it means). Room-level permissions are judged with the
#: role the person has in that room.
MATRIX: dict[str, tuple[frozenset[Role], str]] = {
    "room.enter": (_EVERYONE, "enter public rooms: hall lobbies, booths, roadshows"),
    "room.enter_staff": (_ROOM_KEEPERS, "enter a booth's staff room"),
    "room.enter_moderation": (_HALL_KEEPERS, "enter the moderators' room of a hall"),
    "room.enter_expo_moderation": (_EXPO_KEEPERS, "enter the expo-wide moderators' room"),
    "chat.send": (_PEOPLE, "send chat messages"),
    "chat.report": (_PEOPLE, "report a message to the moderators"),
    "chat.bypass_limits": (_ROOM_KEEPERS, "chat in read-only rooms and past slow mode"),
    "chat.delete": (_ROOM_KEEPERS, "delete any message of the room"),
    "qa.ask": (_PEOPLE, "ask and upvote roadshow questions"),
    "qa.moderate": (_ROOM_KEEPERS, "see, approve, reject and answer questions"),
    "mod.mute_room": (_ROOM_KEEPERS, "mute a user in the room"),
    "mod.kick": (_ROOM_KEEPERS, "kick a user out of the room"),
    "mod.slow_mode": (_ROOM_KEEPERS, "set slow mode in the room"),
    "mod.pin": (_ROOM_KEEPERS, "pin a message in the room"),
    "mod.announce_room": (_ROOM_KEEPERS, "send an announcement to the room"),
    "mod.lock": (_HALL_KEEPERS, "lock the room read-only"),
    "mod.announce_hall": (_HALL_KEEPERS, "send an announcement to a whole hall"),
    "roadshow.end": (_ROOM_KEEPERS, "end a live roadshow"),
    "mod.console": (_ROOM_KEEPERS, "use the moderator console (for the rooms they keep)"),
    "mod.audit": (_HALL_KEEPERS, "read the audit log (of the rooms they keep)"),
    "mod.mute_expo": (_EXPO_KEEPERS, "mute a user in the whole expo"),
    "mod.ban": (_EXPO_KEEPERS, "ban a user from the expo, and lift bans"),
    "mod.announce_expo": (_EXPO_KEEPERS, "send an announcement to the whole expo"),
}


def role_of(visitor: Visitor | None, room: RoomInfo | None = None,
            hall_id: int | None = None) -> Role:
    """The role ``visitor`` has in ``room`` (or in hall ``hall_id``, or expo-wide)."""
    if visitor is None:
        return Role.ANONYMOUS
    if visitor.is_admin:
        return Role.ADMIN
    if visitor.is_moderator:
        if visitor.moderated_hall is None:
            return Role.MODERATOR
        hall = room.hall_id if room is not None else hall_id
        if hall is not None and hall == visitor.moderated_hall:
            return Role.HALL_MODERATOR
    if room is not None and room.booth_id is not None and room.booth_id in visitor.staff_of:
        return Role.STAFF
    return Role.GUEST if visitor.kind == "guest" else Role.VISITOR


def allowed(permission: str, role: Role) -> bool:
    return role in MATRIX[permission][0]


def can(visitor: Visitor | None, permission: str, room: RoomInfo | None = None,
        hall_id: int | None = None) -> bool:
    """Whether ``visitor`` has ``permission`` in ``room`` (or hall, or expo-wide)."""
    return allowed(permission, role_of(visitor, room, hall_id))


def may_enter(visitor: Visitor | None, room: RoomInfo) -> bool:
    """Whether ``visitor`` may join ``room``."""
    if room.kind == "staff":
        return can(visitor, "room.enter_staff", room)
    if room.kind == "moderation":
        if room.hall_id is None:
            return can(visitor, "room.enter_expo_moderation")
        return can(visitor, "room.enter_moderation", room)
    return can(visitor, "room.enter", room)


def markdown_table() -> str:
    """The matrix as the Markdown table in docs/permissions.md."""
    head = "| permission | what it allows | " + " | ".join(r.value for r in ROLES) + " |"
    rule = "|---|---|" + "---|" * len(ROLES)
    rows = [
        f"| `{name}` | {text} | " + " | ".join("✓" if r in roles else " " for r in ROLES) + " |"
        for name, (roles, text) in MATRIX.items()
    ]
    return "\n".join([head, rule, *rows])
