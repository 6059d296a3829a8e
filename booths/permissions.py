"""The permission matrix: which role may do what. docs/permissions.md is rendered from it
(tests/test_moderation.py and tests/test_live_permissions.py check they agree and try every
role on the guarded actions).

A person's role depends on where they act: booth staff are staff in their own booth's rooms
only, a hall moderator is a moderator in the rooms of their hall only; elsewhere both are
ordinary registered visitors.

Live video (:data:`LIVE`: booth calls, leads, roadshows) is judged *at a booth*: the booth's
staff, and a roadshow's named presenter for that roadshow, act as its staff whatever else they
are; everyone else has their expo-wide role there. Every action checks :func:`can` (or
:func:`may_enter`) before it changes anything.
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
    "roadshow.end": (_ROOM_KEEPERS, "end a live roadshow (also its named presenter)"),
    "mod.console": (_ROOM_KEEPERS, "use the moderator console (for the rooms they keep)"),
    "mod.audit": (_HALL_KEEPERS, "read the audit log (of the rooms they keep)"),
    "mod.mute_expo": (_EXPO_KEEPERS, "mute a user in the whole expo"),
    "mod.ban": (_EXPO_KEEPERS, "ban a user from the expo, and lift bans"),
    "mod.announce_expo": (_EXPO_KEEPERS, "send an announcement to the whole expo"),
}

_BOOTH_STAFF = frozenset({Role.STAFF})
_NOT_THE_BOOTH = _PEOPLE - {Role.STAFF}

#: Live video: permission → (roles allowed, what it means), judged at the booth concerned
#: (``can(..., booth=...)``): "staff" are the booth's staff (and, for a roadshow, its named
#: presenter). Actions on one's own knock or call (cancel, signal, hang up, resume, leave) are
#: open to the roles below and further limited to that knock's or call's own parties.
LIVE: dict[str, tuple[frozenset[Role], str]] = {
    "call.config": (_EVERYONE, "get the ICE servers (TURN credentials) for WebRTC"),
    "call.listen": (_BOOTH_STAFF, "take the booth's calls: its knock queue, open calls, leads"),
    "call.knock": (_NOT_THE_BOOTH, "knock at a booth for a video call (not at one's own)"),
    "call.cancel": (_PEOPLE, "withdraw one's own knock"),
    "call.accept": (_BOOTH_STAFF, "accept a knock at the booth, or take it into one's call"),
    "call.join": (_BOOTH_STAFF, "join a call of the booth in progress"),
    "call.decline": (_BOOTH_STAFF, "decline a knock at the booth"),
    "call.signal": (_PEOPLE, "send WebRTC signalling to the others in one's call"),
    "call.hangup": (_PEOPLE, "leave one's call"),
    "call.resume": (_PEOPLE, "take one's call over on a new connection"),
    "lead.create": (_PEOPLE, "leave a contact request at a booth"),
    "lead.list": (_BOOTH_STAFF, "read the booth's leads"),
    "roadshow.start": (_BOOTH_STAFF, "take the booth's roadshow live"),
    "roadshow.publish": (_BOOTH_STAFF, "present (send the video of) the booth's live roadshow"),
    "roadshow.view": (_EVERYONE, "watch a live roadshow"),
    "roadshow.leave": (_EVERYONE, "stop presenting or watching a roadshow"),
    "roadshow.react": (_PEOPLE, "send a reaction to a live roadshow"),
    "roadshow.recordings": (_EVERYONE, "list a roadshow's recordings for replay"),
}
PERMISSIONS = {**MATRIX, **LIVE}


def role_of(visitor: Visitor | None, room: RoomInfo | None = None,
            hall_id: int | None = None, *, booth: int | None = None,
            presenter: int | None = None) -> Role:
    """The role ``visitor`` has in ``room`` (or in hall ``hall_id``, or expo-wide); at
    ``booth`` for live video. ``presenter``, a roadshow's presenter, counts as its booth's
    staff (in the roadshow's room, and at its booth)."""
    if visitor is None:
        return Role.ANONYMOUS
    if booth is not None:
        if booth in visitor.staff_of or visitor.id == presenter:
            return Role.STAFF
        return role_of(visitor, None, hall_id)
    if presenter is not None and visitor.id == presenter:
        role = role_of(visitor, room, hall_id)
        return Role.STAFF if role in (Role.GUEST, Role.VISITOR) else role
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
    return role in PERMISSIONS[permission][0]


def can(visitor: Visitor | None, permission: str, room: RoomInfo | None = None,
        hall_id: int | None = None, *, booth: int | None = None,
        presenter: int | None = None) -> bool:
    """Whether ``visitor`` has ``permission`` in ``room`` (or hall, or expo-wide; at ``booth``
    for live video; ``presenter``: the roadshow's, who counts as its booth's staff)."""
    return allowed(permission, role_of(visitor, room, hall_id, booth=booth,
                                       presenter=presenter))


def may_enter(visitor: Visitor | None, room: RoomInfo) -> bool:
    """Whether ``visitor`` may join ``room``."""
    if room.kind == "staff":
        return can(visitor, "room.enter_staff", room)
    if room.kind == "moderation":
        if room.hall_id is None:
            return can(visitor, "room.enter_expo_moderation")
        return can(visitor, "room.enter_moderation", room)
    return can(visitor, "room.enter", room)


def markdown_table(matrix: dict[str, tuple[frozenset[Role], str]] = MATRIX) -> str:
    """A matrix (:data:`MATRIX` by default, or :data:`LIVE`) as its Markdown table in
    docs/permissions.md."""
    head = "| permission | what it allows | " + " | ".join(r.value for r in ROLES) + " |"
    rule = "|---|---|" + "---|" * len(ROLES)
    rows = [
        f"| `{name}` | {text} | " + " | ".join("✓" if r in roles else " " for r in ROLES) + " |"
        for name, (roles, text) in matrix.items()
    ]
    return "\n".join([head, rule, *rows])
