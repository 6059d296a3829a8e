"""The matchmaking expo: a deterministic generator (by seed) of organisations,
projects, investors, jobs and résumés, with the latent facts the data was drawn from kept aside
so that good matches can be judged the way a person would judge them.

What a good match is (docs/benchmarks.md, "Matchmaking"):

- project ↔ investor: the project is in the investor's sector (the latent sector, not its tags),
  at a stage the investor funds, in a country of the investor's region, asking an amount that
  meets the investor's ticket (same currency), and it seeks investment;
- job ↔ candidate: the same profession (latent), a job type the candidate wants, every language
  the job asks for spoken by the candidate, and a place that works (remote, or the candidate's
  country); the candidate opted in to talent search (for the job-side lists).

The observed data is noisy the way real profiles are: people pick a few of their sector's tags
(so two good matches may share one tag), everybody adds a few generic tags ("ai", "software"),
neighbouring sectors share some tags, and for every investor the generator also plants
near misses: projects with the investor's very tags that fail one of the other criteria.
Planted good matches guarantee each investor 5-15 of them; every other pair that happens to
meet the criteria counts as good too (the truth is the rule over all pairs, not the plant).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

SECTORS = {
    "robotics": ["robotics", "automation", "computer-vision", "industrial-iot", "drones",
                 "motion-control", "sensors", "logistics"],
    "energy": ["solar", "batteries", "hydrogen", "grid", "wind", "energy-storage",
               "ev-charging", "carbon-capture"],
    "health": ["medtech", "diagnostics", "digital-health", "genomics", "biotech",
               "medical-imaging", "wearables", "telemedicine"],
    "fintech": ["payments", "lending", "insurtech", "regtech", "blockchain", "wealthtech",
                "fraud-detection", "banking"],
    "agritech": ["agritech", "precision-farming", "vertical-farming", "food-tech",
                 "aquaculture", "sensors", "crop-genetics", "farm-robotics"],
    "mobility": ["mobility", "autonomous-driving", "logistics", "fleet", "micromobility",
                 "rail", "aviation", "shipping"],
    "materials": ["materials", "chemistry", "nanotech", "composites", "coatings", "polymers",
                  "recycling", "batteries"],
    "edtech": ["edtech", "e-learning", "language-learning", "tutoring", "vocational",
               "assessment", "classroom", "mooc"],
    "security": ["cybersecurity", "identity", "encryption", "threat-detection", "privacy",
                 "zero-trust", "iot-security", "forensics"],
    "semis": ["semiconductors", "photonics", "quantum", "chip-design", "mems", "optics",
              "lidar", "rf"],
    "retail": ["e-commerce", "retail", "marketplace", "supply-chain", "consumer", "d2c",
               "loyalty", "recycling"],
    "space": ["space", "satellites", "earth-observation", "launch", "geospatial",
              "remote-sensing", "lidar", "telecom"],
}
GENERIC = ["ai", "software", "hardware", "b2b", "saas", "sustainability", "platform", "data",
           "iot", "deeptech"]
STAGES = ["idea", "prototype", "first_revenue", "growth"]
REGIONS = [
    (["DE", "AT", "CH"], "EUR"), (["FR", "BE", "NL", "LU"], "EUR"), (["IT", "ES", "PT"], "EUR"),
    (["SE", "DK", "NO", "FI"], "EUR"), (["PL", "CZ", "HU"], "EUR"), (["US", "CA"], "USD"),
    (["CN", "HK"], "CNY"), (["JP", "KR", "SG"], "USD"), (["GB", "IE"], "USD"),
    (["IL", "AE"], "USD"),
]
COUNTRY_REGION = {c: i for i, (cs, _) in enumerate(REGIONS) for c in cs}
COUNTRIES = sorted(COUNTRY_REGION)
BANDS = [(50_000, 250_000), (250_000, 1_000_000), (1_000_000, 5_000_000),
         (5_000_000, 20_000_000)]
STAGE_BANDS = {"idea": [0], "prototype": [0, 1], "first_revenue": [1, 2], "growth": [2, 3]}

FAMILIES = ["software", "data", "mechanical", "electrical", "chemistry", "biology", "finance",
            "sales", "design", "operations"]
PROFESSIONS = {f"{fam}-{k}": fam for fam in FAMILIES for k in range(4)}
GENERIC_SKILLS = ["communication", "teamwork", "excel", "project-management", "python",
                  "presentation", "english-writing", "leadership"]
JOB_TYPES = ["full_time", "part_time", "internship", "postdoc", "contract"]
JOB_TYPE_WEIGHTS = [0.55, 0.1, 0.15, 0.1, 0.1]
LANGUAGES = ["en", "de", "zh", "fr", "es", "ja"]


def profession_skills(profession: str) -> list[str]:
    return [f"{profession}.{k}" for k in range(7)]


def family_skills(family: str) -> list[str]:
    return [f"{family}.core{k}" for k in range(4)]


#: ``firms`` investment firms among the organisations, ``partners`` of each taking meetings,
#: ``angels`` individual investors among the people (docs/benchmarks.md, "Investors": 5 % of
#: the organisations are investment firms, three partners each; 2 % of the 60,000 people are
#: angels). ``planted``: how many investors get planted good matches and near misses.
SIZES = {
    "small": {"booths": 60, "projects": 240, "firms": 3, "partners": 3, "angels": 15,
              "planted": 10, "jobs": 600, "resumes": 1500, "owners": 40},
    "conference": {"booths": 5000, "projects": 3200, "firms": 250, "partners": 3,
                   "angels": 1200, "planted": 160, "jobs": 30_000, "resumes": 90_000,
                   "owners": 1000},
}


@dataclass
class World:
    investors: list[dict] = field(default_factory=list)
    projects: list[dict] = field(default_factory=list)
    jobs: list[dict] = field(default_factory=list)
    resumes: list[dict] = field(default_factory=list)


class Generator:
    def __init__(self, seed: int, size: dict) -> None:
        self.rng = random.Random(seed)
        self.size = size

    def _generic(self, lo: int, hi: int, pool=GENERIC) -> list[str]:
        return self.rng.sample(pool, self.rng.randint(lo, hi))

    def _ask(self, stage: str) -> tuple[int, int]:
        lo, hi = BANDS[self.rng.choice(STAGE_BANDS[stage])]
        low = int(self.rng.uniform(lo, hi * 0.8))
        return low, int(low * self.rng.uniform(1.5, 3))

    def _investor(self, sector: str, stages: list[str], region: int, band: int,
                  kind: str) -> dict:
        countries, currency = REGIONS[region]
        lo, hi = BANDS[band]
        return {"kind": kind, "sector": sector, "stages": stages, "countries": list(countries),
                "currency": currency, "ticket_min": lo, "ticket_max": hi,
                "fields": (self.rng.sample(SECTORS[sector], self.rng.randint(3, 5))
                           + self._generic(1, 3))}

    def firm(self, partners: int) -> list[dict]:
        """An investment firm's partners: one mandate (stages, region, ticket), each partner
        covering a sector of their own."""
        rng = self.rng
        first = rng.randrange(len(STAGES) - 1)
        stages = STAGES[first:first + 2]
        region = rng.randrange(len(REGIONS))
        band = rng.choice(STAGE_BANDS[stages[-1]])
        return [self._investor(rng.choice(list(SECTORS)), stages, region, band, "firm")
                for _ in range(partners)]

    def angel(self) -> dict:
        """An individual investor: early stages, small tickets, their home region."""
        rng = self.rng
        first = rng.randrange(2)
        return self._investor(rng.choice(list(SECTORS)), STAGES[first:first + 2],
                              rng.randrange(len(REGIONS)), 0, "angel")

    def project(self, sector=None, stage=None, country=None, invest=None, fields=None,
                ask=None) -> dict:
        rng = self.rng
        sector = sector or rng.choice(list(SECTORS))
        stage = stage or rng.choice(STAGES)
        country = country or rng.choice(COUNTRIES)
        currency = REGIONS[COUNTRY_REGION[country]][1]
        lo, hi = ask or self._ask(stage)
        invest = rng.random() < 0.8 if invest is None else invest
        seeking = (["investment"] if invest else []) + rng.sample(
            ["partners", "licensing", "talent"], rng.randint(0 if invest else 1, 2))
        fields = fields or rng.sample(SECTORS[sector], rng.randint(2, 4)) + self._generic(0, 2)
        return {"sector": sector, "stage": stage, "country": country, "currency": currency,
                "amount_min": lo, "amount_max": hi, "seeking": seeking, "fields": fields}

    def planted_for(self, inv: dict) -> list[dict]:
        rng = self.rng
        good = []
        for _ in range(rng.randint(5, 15)):
            lo = int(rng.uniform(inv["ticket_min"] * 0.5, inv["ticket_max"] * 0.9))
            good.append(self.project(
                sector=inv["sector"], stage=rng.choice(inv["stages"]),
                country=rng.choice(inv["countries"]), invest=True,
                ask=(lo, int(lo * rng.uniform(1.3, 2.5)))))
        near = []
        for _ in range(rng.randint(3, 8)):
            # The investor's own tags, but one thing a person would not accept.
            tags = rng.sample(inv["fields"], min(len(inv["fields"]), rng.randint(3, 5)))
            miss = rng.choice(["stage", "country", "ask", "invest"])
            stage = (rng.choice([s for s in STAGES if s not in inv["stages"]])
                     if miss == "stage" else rng.choice(inv["stages"]))
            country = (rng.choice([c for c in COUNTRIES if c not in inv["countries"]])
                       if miss == "country" else rng.choice(inv["countries"]))
            lo = inv["ticket_max"] * rng.uniform(4, 20) if miss == "ask" else inv["ticket_min"]
            near.append(self.project(sector=inv["sector"], stage=stage, country=country,
                                     invest=miss != "invest", fields=tags,
                                     ask=(int(lo), int(lo * 2))))
        return good + near

    def job(self) -> dict:
        rng = self.rng
        profession = rng.choice(list(PROFESSIONS))
        family = PROFESSIONS[profession]
        langs = ["en"] if rng.random() < 0.7 else []
        if rng.random() < 0.4 or not langs:
            langs.append(rng.choice(LANGUAGES[1:]))
        return {"profession": profession, "job_type": rng.choices(JOB_TYPES, JOB_TYPE_WEIGHTS)[0],
                "fields": (rng.sample(profession_skills(profession), rng.randint(2, 4))
                           + rng.sample(family_skills(family), rng.randint(1, 2))
                           + self._generic(0, 2, GENERIC_SKILLS)),
                "languages": sorted(set(langs)), "country": rng.choice(COUNTRIES),
                "remote": rng.random() < 0.2}

    def resume(self) -> dict:
        rng = self.rng
        profession = rng.choice(list(PROFESSIONS))
        family = PROFESSIONS[profession]
        langs = {"en"} if rng.random() < 0.8 else set()
        langs.update(rng.sample(LANGUAGES[1:], rng.randint(0 if langs else 1, 2)))
        return {"profession": profession,
                "skills": (rng.sample(profession_skills(profession), rng.randint(3, 6))
                           + rng.sample(family_skills(family), rng.randint(1, 3))
                           + self._generic(1, 3, GENERIC_SKILLS)),
                "job_types": sorted(set(rng.choices(JOB_TYPES, JOB_TYPE_WEIGHTS,
                                                    k=rng.randint(1, 2)))),
                "languages": sorted(langs), "country": rng.choice(COUNTRIES),
                "talent_search": rng.random() < 0.6}

    def world(self) -> World:
        size = self.size
        w = World()
        for _ in range(size["firms"]):
            w.investors.extend(self.firm(size["partners"]))
        w.investors.extend(self.angel() for _ in range(size["angels"]))
        self.rng.shuffle(w.investors)
        for inv in w.investors[:size["planted"]]:
            inv["planted"] = True
            w.projects.extend(self.planted_for(inv))
        while len(w.projects) < size["projects"]:
            w.projects.append(self.project())
        self.rng.shuffle(w.projects)
        w.jobs = [self.job() for _ in range(size["jobs"])]
        w.resumes = [self.resume() for _ in range(size["resumes"])]
        return w


def good_project(inv: dict, p: dict) -> bool:
    """A project the investor would call a match (the rule of the module docstring)."""
    return (p["sector"] == inv["sector"] and p["stage"] in inv["stages"]
            and p["country"] in inv["countries"] and "investment" in p["seeking"]
            and p["currency"] == inv["currency"] and p["amount_min"] <= inv["ticket_max"]
            and p["amount_max"] >= inv["ticket_min"])


def good_job(r: dict, j: dict) -> bool:
    """A job the candidate (and the recruiter) would call a match."""
    return (j["profession"] == r["profession"] and j["job_type"] in r["job_types"]
            and set(j["languages"]) <= set(r["languages"])
            and (j["remote"] or j["country"] == r["country"]))
