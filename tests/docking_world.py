"""A small expo for the docking tests: the recruitment world, a project of booth A (staff
Alice and Arno), a project of Vera's own, an investor (Ida), and a grid-aligned day ahead."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from booths.models import Profile
from docking.models import InvestorProfile, Project
from docking.services import matching
from tests.recruitment_world import make_user, make_world


def day_ahead():
    """Tomorrow at the full hour (on the 5-minute grid), UTC."""
    return (timezone.now() + timedelta(days=1)).replace(minute=0, second=0, microsecond=0)


def make_docking_world() -> dict:
    world = make_world()
    world["ida"] = make_user("ida", "Ida Investor", Profile.Kind.VISITOR)
    InvestorProfile.objects.create(user=world["ida"], ticket_min=500_000, ticket_max=3_000_000,
                                   currency="EUR", stages=["growth", "first_revenue"],
                                   fields=["robotics", "logistics"], countries=["DE", "FR"])
    world["robot"] = Project.objects.create(
        booth=world["booth_a"], title="Warehouse robots", summary="Autonomous pickers",
        fields=["robotics", "logistics"], stage="growth", seeking=["investment", "partners"],
        amount_min=1_000_000, amount_max=2_000_000, currency="EUR", country="DE")
    world["vera_project"] = Project.objects.create(
        owner=world["vera"], title="Tea sensors", fields=["agritech"], stage="idea",
        seeking=["partners"], country="CN")
    matching.changed()
    world["day"] = day_ahead()
    return world
