"""The matchmaking benchmark's generator lives in :mod:`booths.matchgen`, where the conference
seed (``seed_demo --scale conference``) uses it too; this name stays for the benchmark."""

from booths.matchgen import (  # noqa: F401
    COUNTRIES,
    COUNTRY_REGION,
    GENERIC,
    PROFESSIONS,
    REGIONS,
    SECTORS,
    SIZES,
    STAGES,
    Generator,
    World,
    good_job,
    good_project,
)
