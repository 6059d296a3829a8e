"""Project docking in the demo expo (``hallserver manage seed_demo``): a project for most
booths, and an investor profile for the demo visitor with good matches planted among them.

Planted good matches, as the benchmark defines them (bench/matchgen.py): in the investor's
fields, at a stage they fund, in one of their countries, asking an amount their ticket meets in
their currency, and seeking investment. Near misses share the fields but not the rest.
"""

from __future__ import annotations

import random

from .models import InvestorProfile, Project

STAGES = ["idea", "prototype", "first_revenue", "growth"]
ASKS = {"idea": (50_000, 250_000), "prototype": (200_000, 1_000_000),
        "first_revenue": (1_000_000, 3_000_000), "growth": (3_000_000, 10_000_000)}
CURRENCY = {"CN": "CNY", "US": "USD", "GB": "USD", "JP": "USD", "SG": "USD"}


def seed_docking(booths_by_hall: list[list], users: dict, seed: int) -> int:
    """Write the demo's projects and investor profile; the number of projects."""
    rng = random.Random(seed)
    # The demo visitor invests in the first hall's fields, in growing companies of
    # the first hall's countries.
    first = [b for b in booths_by_hall[0] if b.kind != "investor"]
    fields = sorted({tag for b in first[:4] for tag in b.industry_tags})
    countries = sorted({b.country for b in first[:4]})
    InvestorProfile.objects.update_or_create(user=users["visitor"], defaults={
        "ticket_min": 1_000_000, "ticket_max": 5_000_000, "currency": "EUR",
        "stages": ["first_revenue", "growth"], "fields": fields, "countries": countries,
        "thesis": "Growth capital for companies with first customers."})
    projects = []
    for n, booth in enumerate(b for hall in booths_by_hall for b in hall):
        if booth.kind == "investor":
            continue
        planted = booth in first[:4]
        stage = rng.choice(["first_revenue", "growth"]) if planted else rng.choice(STAGES)
        lo, hi = (1_500_000, 4_000_000) if planted else ASKS[stage]
        currency = "EUR" if planted else CURRENCY.get(booth.country, "EUR")
        seeking = ["investment", "partners"] if planted or rng.random() < 0.7 else ["partners"]
        projects.append(Project(
            booth=booth, title=f"{booth.name}: {booth.industry_tags[0]}" if booth.industry_tags
            else booth.name, summary=booth.description[:300], fields=list(booth.industry_tags),
            stage=stage, seeking=seeking, amount_min=lo, amount_max=hi, currency=currency,
            country=booth.country))
        if n % 5 == 0 and booth.industry_tags:  # a second, earlier-stage one: a near miss
            projects.append(Project(
                booth=booth, title=f"{booth.name}: early research", fields=list(
                    booth.industry_tags), stage="idea", seeking=["investment"],
                amount_min=50_000, amount_max=200_000, currency="EUR", country=booth.country))
    Project.objects.bulk_create(projects)
    return len(projects)
