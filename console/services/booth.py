"""Booth editing from the console: texts per language, tags, links, logo, staff."""

from __future__ import annotations

import io
import secrets
import warnings
from pathlib import Path
from typing import Annotated

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from PIL import Image, UnidentifiedImageError
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from booths.models import Booth, BoothStaff, Profile
from booths.services.identity import display_name
from booths.services.rooms import directory

from ..models import BoothTexts
from . import ConsoleError

#: The UI's languages (frontend/i18n.js); English is what every other falls back to.
LANGUAGES = ("en", "zh", "ru", "de")
FALLBACK = "en"
LOGO_FORMATS = {"PNG", "JPEG", "GIF", "WEBP"}

Short = Annotated[str, StringConstraints(strip_whitespace=True, max_length=160)]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]


class Texts(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Short = ""
    tagline: Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)] = ""
    description: Annotated[str, StringConstraints(strip_whitespace=True, max_length=5000)] = ""


class Link(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                            max_length=80)]
    url: Annotated[str, StringConstraints(strip_whitespace=True, max_length=300,
                                          pattern=r"^https?://[^\s<>\"']+$")]


class BoothEdit(BaseModel):
    """What staff may change: texts per language (English needs a name), tags, links."""

    model_config = ConfigDict(extra="forbid")

    texts: dict[str, Texts]
    tags: Annotated[list[Tag], Field(max_length=20)] = []
    links: Annotated[list[Link], Field(max_length=10)] = []


def _texts_row(booth: Booth) -> BoothTexts:
    row, _ = BoothTexts.objects.get_or_create(booth=booth)
    return row


def stored_texts(booth: Booth) -> dict[str, dict]:
    """The texts as edited; booths never edited here start from their admin fields."""
    texts = dict(_texts_row(booth).texts)
    texts.setdefault("en", {"name": booth.name, "tagline": "",
                            "description": booth.description})
    if booth.name_zh:
        texts.setdefault("zh", {"name": booth.name_zh, "tagline": "", "description": ""})
    return texts


def resolve(texts: dict[str, dict], lang: str) -> dict:
    """Each field in ``lang``, else in English, else the first language that has it."""
    order = [lang, FALLBACK, *sorted(texts)]
    out = {}
    for key in ("name", "tagline", "description"):
        out[key] = next((texts[code][key] for code in order
                         if code in texts and texts[code].get(key)), "")
    return out


def booth_data(booth: Booth, lang: str = FALLBACK) -> dict:
    texts = stored_texts(booth)
    return {"id": booth.pk, "hall": booth.hall_id, "lang": lang, **resolve(texts, lang),
            "texts": texts, "tags": booth.industry_tags, "links": booth.links,
            "logo_url": booth.logo_url, "languages": list(LANGUAGES)}


def edit(booth: Booth, data: BoothEdit) -> dict:
    unknown = sorted(set(data.texts) - set(LANGUAGES))
    if unknown:
        raise ConsoleError("booth.bad_language",
                           f"Languages are {', '.join(LANGUAGES)}; not {', '.join(unknown)}.")
    if not data.texts.get(FALLBACK) or not data.texts[FALLBACK].name:
        raise ConsoleError("booth.invalid", "The booth needs a name in English.")
    texts = {code: t.model_dump() for code, t in data.texts.items()}
    with transaction.atomic():
        row = _texts_row(booth)
        row.texts = texts
        row.save(update_fields=["texts"])
        booth.name = texts[FALLBACK]["name"]
        booth.name_zh = texts.get("zh", {}).get("name", "")
        booth.description = texts[FALLBACK]["description"]
        booth.industry_tags = list(dict.fromkeys(data.tags))
        booth.links = [link.model_dump() for link in data.links]
        booth.save(update_fields=["name", "name_zh", "description", "industry_tags", "links"])
    return booth_data(booth)


# --- logo -----------------------------------------------------------------------------------------

def logo_dir() -> Path:
    return Path(settings.LIVE_VIDEO["MEDIA_DIR"]) / "logos"


def logo_path(booth: Booth) -> Path | None:
    row = BoothTexts.objects.filter(booth=booth).first()
    if row is None or not row.logo:
        return None
    path = logo_dir() / row.logo
    return path if path.is_file() else None


def save_logo(booth: Booth, upload, size: int) -> dict:
    """Check the upload is an image (decoded by Pillow, not judged by its name), shrink it to
    ``CONSOLE["LOGO_MAX_PIXELS"]`` and store it as PNG."""
    limit = settings.CONSOLE["LOGO_MAX_BYTES"]
    if size > limit:
        raise ConsoleError("logo.too_large",
                           f"The logo has {size} bytes; at most {limit} are accepted.", 413)
    raw = upload.read(limit + 1)
    if len(raw) > limit:
        raise ConsoleError("logo.too_large", f"At most {limit} bytes are accepted.", 413)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(raw)) as probe:
                probe.verify()
            image = Image.open(io.BytesIO(raw))
            if image.format not in LOGO_FORMATS:
                raise ConsoleError("logo.not_image",
                                   "The logo must be a PNG, JPEG, GIF or WebP image.", 415)
            image.load()
    except ConsoleError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError,
            Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ConsoleError("logo.not_image",
                           "That file is not an image we can read (PNG, JPEG, GIF or WebP).",
                           415) from None
    side = settings.CONSOLE["LOGO_MAX_PIXELS"]
    image = image.convert("RGBA")
    image.thumbnail((side, side))
    token = secrets.token_hex(8)
    name = f"{booth.pk}-{token}.png"
    folder = logo_dir()
    folder.mkdir(parents=True, exist_ok=True)
    image.save(folder / name, format="PNG", optimize=True)
    with transaction.atomic():
        row = _texts_row(booth)
        old = row.logo
        row.logo = name
        row.save(update_fields=["logo"])
        booth.logo_url = f"/api/booths/{booth.pk}/logo?v={token}"
        booth.save(update_fields=["logo_url"])
    if old:
        (folder / old).unlink(missing_ok=True)
    return {"logo_url": booth.logo_url, "width": image.width, "height": image.height}


# --- staff ----------------------------------------------------------------------------------------

def staff_list(booth: Booth) -> list[dict]:
    rows = BoothStaff.objects.filter(booth=booth).select_related("user__profile").order_by("id")
    return [{"id": s.user_id, "username": s.user.get_username(), "name": display_name(s.user),
             "title": s.title} for s in rows]


def invite(booth: Booth, username: str, title: str = "") -> list[dict]:
    user = get_user_model().objects.filter(username=username.strip()).first()
    if user is None:
        raise ConsoleError("user.not_found",
                           f"No registered user {username.strip()!r}; they must sign up first.",
                           404)
    profile = Profile.objects.filter(user=user).first()
    if profile is not None and profile.kind == Profile.Kind.GUEST:
        raise ConsoleError("staff.guest", "Guests cannot staff a booth; they must sign up.", 409)
    if BoothStaff.objects.filter(booth=booth, user=user).exists():
        raise ConsoleError("staff.exists", f"{username} staffs this booth already.", 409)
    BoothStaff.objects.create(booth=booth, user=user, title=title.strip()[:120])
    directory.invalidate()
    return staff_list(booth)


def remove(booth: Booth, user_id: int) -> list[dict]:
    with transaction.atomic():
        rows = list(BoothStaff.objects.select_for_update().filter(booth=booth))
        if not any(r.user_id == user_id for r in rows):
            raise ConsoleError("staff.not_found", f"User {user_id} does not staff this booth.",
                               404)
        if len(rows) == 1:
            raise ConsoleError("staff.last", "A booth keeps at least one staff member.", 409)
        BoothStaff.objects.filter(booth=booth, user_id=user_id).delete()
    directory.invalidate()
    return staff_list(booth)
