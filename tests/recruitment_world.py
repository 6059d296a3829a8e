"""A small expo for the recruitment tests: two booths with a staff member each, visitors, a
guest, and a real PDF maker."""

from __future__ import annotations

from datetime import date

from django.contrib.auth import get_user_model

from booths.models import Booth, BoothStaff, Expo, Hall, Profile

PASSWORD = "a-long-enough-pass-42"


def make_user(username: str, name: str, kind=Profile.Kind.VISITOR):
    user = get_user_model().objects.create_user(username=username, password=PASSWORD)
    Profile.objects.create(user=user, display_name=name, kind=kind)
    return user


def make_world() -> dict:
    expo = Expo.objects.create(name="Expo", slug="expo", starts_on=date(2026, 1, 1),
                               ends_on=date(2027, 1, 1))
    hall = Hall.objects.create(expo=expo, name="Hall", slug="hall")
    booth_a = Booth.objects.create(hall=hall, name="Acme Labs", country="DE",
                                   kind=Booth.Kind.COMPANY)
    booth_b = Booth.objects.create(hall=hall, name="Beta University", country="CN",
                                   kind=Booth.Kind.UNIVERSITY)
    staff_a = make_user("staff_a", "Alice Staff", Profile.Kind.EXHIBITOR)
    staff_a2 = make_user("staff_a2", "Arno Staff", Profile.Kind.EXHIBITOR)
    staff_b = make_user("staff_b", "Bert Staff", Profile.Kind.EXHIBITOR)
    BoothStaff.objects.create(booth=booth_a, user=staff_a)
    BoothStaff.objects.create(booth=booth_a, user=staff_a2)
    BoothStaff.objects.create(booth=booth_b, user=staff_b)
    return {"booth_a": booth_a, "booth_b": booth_b, "staff_a": staff_a, "staff_a2": staff_a2,
            "staff_b": staff_b, "vera": make_user("vera", "Vera Visitor"),
            "walt": make_user("walt", "Walt Visitor"),
            "guest": make_user("guest-abc", "Gus Guest", Profile.Kind.GUEST)}


def make_pdf(text: str = "Rust engineer with ten years of Django") -> bytes:
    """A small, valid one-page PDF whose page shows ``text`` (ASCII)."""
    safe = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    stream = f"BT /F1 12 Tf 72 720 Td ({safe}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    return bytes(out)
