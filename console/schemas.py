"""What the console's endpoints answer, for the OpenAPI document (docs/api.md has the same
shapes in prose). The services build plain dicts; django-ninja checks them against these.

Inbox sources and their statuses are strings, and unread counts a mapping by source, so a
source registered in ``console.services.inbox.SOURCES`` (meeting requests, for one) needs no
change here."""

from __future__ import annotations

from ninja import Schema


class BoothName(Schema):
    id: int
    name: str


class Consoles(Schema):
    """The booths the caller staffs (the console's switcher) and whether they organise."""

    booths: list[BoothName]
    organiser: bool


# --- inbox ------------------------------------------------------------------------------------

class Person(Schema):
    id: int | None
    name: str


class MeetingFacts(Schema):
    to: Person | None = None
    project: int | None = None
    starts_at: str | None = None
    ends_at: str | None = None
    proposed_by: int | None = None


class InboxItem(Schema):
    source: str
    ref: int
    at: str  # ISO 8601
    who: Person
    title: str
    text: str
    contact: str
    status: str
    read: bool
    note: str
    # Meeting requests only: whom it was asked of, the project, the slot and who proposed it.
    meeting: MeetingFacts | None = None


class InboxCounts(Schema):
    """Items nobody of the booth's team has opened yet, per source and in total."""

    booth: int
    sources: dict[str, int]
    total: int


class InboxPage(Schema):
    source: str
    items: list[InboxItem]
    statuses: list[str]
    unread: InboxCounts


class InboxChanged(Schema):
    item: InboxItem
    unread: InboxCounts


# --- booth editing ----------------------------------------------------------------------------

class TextsOut(Schema):
    name: str = ""
    tagline: str = ""
    description: str = ""


class LinkOut(Schema):
    label: str
    url: str


class BoothTextsOut(Schema):
    """The booth's texts resolved in ``lang`` (falling back to English), every language's
    texts as stored, tags, links and logo."""

    id: int
    hall: int | None
    lang: str
    name: str
    tagline: str
    description: str
    texts: dict[str, TextsOut]
    tags: list[str]
    links: list[LinkOut]
    logo_url: str
    languages: list[str]


class LogoOut(Schema):
    logo_url: str
    width: int
    height: int


class StaffMember(Schema):
    id: int
    username: str
    name: str
    title: str


class StaffList(Schema):
    staff: list[StaffMember]


# --- bookmarks --------------------------------------------------------------------------------

class Bookmarks(Schema):
    """Ids of the roadshows the caller bookmarked."""

    roadshows: list[int]
