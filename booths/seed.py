"""Demo data: a bilingual international talent-and-technology expo with live roadshows.

``seed_demo()`` builds one expo with six themed halls, a few dozen booths from companies,
universities, research institutes and investors of many countries, ten roadshows spread over
today (some ended, one live, the rest still to come) and a handful of demo accounts.

All names are invented; every link points at example.org. The data comes from a fixed
``random.Random(42)``, so two databases seeded with the same ``now`` hold the same expo.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from itertools import cycle

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Permission
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify

from .models import Booth, BoothStaff, Expo, Hall, Profile, Roadshow, Room

DEMO_EXPO_SLUG = "demo-expo"
BULK_BATCH = 1000
RANDOM_SEED = 42
ROADSHOWS_TODAY = 10
ROADSHOWS_ENDED = 3
STAFF_PASSWORD = "staff-demo"

CO, UNI, INST, INV = (
    Booth.Kind.COMPANY,
    Booth.Kind.UNIVERSITY,
    Booth.Kind.INSTITUTE,
    Booth.Kind.INVESTOR,
)


@dataclass(frozen=True)
class Scale:
    """How big a seeded expo is. Each table the generator fills has its size here, so a
    later table (people, jobs, projects) joins by adding a field and a step in
    :func:`seed_demo`.

    ``booths`` is the whole expo's, spread as evenly as possible over the halls (the first
    halls take one more when it does not divide); ``bulk`` writes booths and their rooms with
    ``bulk_create`` in batches of ``BULK_BATCH`` instead of one ``save()`` each."""

    name: str
    booths: int
    bulk: bool = False
    #: The conference (booths/conference.py): people, projects, jobs, résumés and four days
    #: of roadshows and forums besides the booths, every count times ``seed_demo(fraction=)``.
    conference: bool = False

    def booths_of_hall(self, position: int, halls: int) -> int:
        return self.booths // halls + (1 if position < self.booths % halls else 0)


SCALES = {
    "demo": Scale("demo", booths=12 * 6),
    "large": Scale("large", booths=5000, bulk=True),
    "conference": Scale("conference", booths=5000, bulk=True, conference=True),
}
"""``seed_demo --scale``: ``demo`` is the quick default, ``large`` a 5,000-booth expo,
``conference`` the whole conference (5,000 organisations, 60,000 people, 3,200 projects,
30,000 jobs, 90,000 résumés: booths/conference.py)."""
CONFERENCE_SEED = 1
"""The conference's default ``--seed`` (the matchmaking benchmark's)."""

Progress = Callable[[str, int, int], None]
"""``progress(step, done, total)``: called as a step of the seed goes on."""


@dataclass(frozen=True)
class DemoAccount:
    username: str
    password: str
    role: str


@dataclass
class SeedReport:
    expo_slug: str
    created: bool  # False: the demo expo already existed and nothing was written
    halls: int = 0
    booths: int = 0
    countries: int = 0
    roadshows: int = 0
    rooms: int = 0
    accounts: list[DemoAccount] = field(default_factory=list)
    #: The conference: rows written per kind and seconds per step (empty for the demo).
    counts: dict[str, int] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class _UserSpec:
    username: str
    password: str
    display_name: str
    kind: str
    role: str
    is_staff: bool = False
    is_superuser: bool = False


DEMO_USERS = [
    _UserSpec("visitor", "visitor-demo", "Vera Visitor", Profile.Kind.VISITOR, "Visitor"),
    _UserSpec("exhibitor", "exhibitor-demo", "Erik Exhibitor", Profile.Kind.EXHIBITOR, "Exhibitor"),
    _UserSpec(
        "moderator",
        "moderator-demo",
        "Mia Moderator",
        Profile.Kind.MODERATOR,
        "Moderator, can use /admin/",
        is_staff=True,
    ),
    _UserSpec(
        "admin",
        "admin-demo",
        "Ada Admin",
        Profile.Kind.MODERATOR,
        "Superuser",
        is_staff=True,
        is_superuser=True,
    ),
]
# The conference's demo investor (a generated investor, renamed): booths/conference.py.
INVESTOR_ACCOUNT = _UserSpec("investor", "investor-demo", "", Profile.Kind.VISITOR,
                             "Investor (matchmaking: projects for an investor)")

COUNTRY_NAMES = {
    "AU": "Australia",
    "CA": "Canada",
    "CH": "Switzerland",
    "CN": "China",
    "DE": "Germany",
    "DK": "Denmark",
    "FI": "Finland",
    "FR": "France",
    "GB": "the United Kingdom",
    "IL": "Israel",
    "IT": "Italy",
    "JP": "Japan",
    "KR": "South Korea",
    "NL": "the Netherlands",
    "NO": "Norway",
    "SE": "Sweden",
    "SG": "Singapore",
    "US": "the United States",
}

PEOPLE = {
    "AU": ["Sophie Nguyen", "Jack Wilson"],
    "CA": ["Chloé Tremblay", "Ryan MacDonald"],
    "CH": ["Lukas Meier", "Laura Keller"],
    "CN": ["Chen Yutong", "Wang Lei", "Zhang Min", "Liu Yang", "Zhao Xinyi"],
    "DE": ["Hannah Becker", "Jonas Weber"],
    "DK": ["Freja Nielsen", "Mads Hansen"],
    "FI": ["Aino Virtanen", "Mikko Laine"],
    "FR": ["Camille Laurent", "Julien Moreau"],
    "GB": ["Oliver Hughes", "Emma Clarke"],
    "IL": ["Noa Levi", "Amir Cohen"],
    "IT": ["Giulia Romano", "Marco Bianchi"],
    "JP": ["Aiko Tanaka", "Kenji Mori"],
    "KR": ["Park Ji-hoon", "Lee Soo-jin"],
    "NL": ["Sanne de Vries", "Bram Jansen"],
    "NO": ["Ingrid Solberg", "Henrik Dahl"],
    "SE": ["Elsa Lindqvist", "Oskar Berg"],
    "SG": ["Tan Wei Ming", "Priya Nair"],
    "US": ["Rachel Moore", "Daniel Brooks"],
}

KIND_SENTENCES = {
    CO: [
        "Headquartered in {country}, the company is looking for distributors, pilot customers "
        "and co-development partners.",
        "Based in {country}, the team is hiring engineers and is open to joint ventures and "
        "licensing deals.",
        "Founded in {country}, the company already serves customers on three continents and "
        "wants to grow in Asia-Pacific.",
    ],
    UNI: [
        "The university in {country} welcomes international students, visiting scholars and "
        "joint-lab proposals.",
        "Its campus in {country} offers English-taught master's and PhD programmes with "
        "industry placements.",
        "Based in {country}, the university is recruiting postdocs and signing new exchange "
        "agreements this year.",
    ],
    INST: [
        "The institute in {country} licenses its patents and co-develops prototypes with "
        "industrial partners.",
        "Based in {country}, the institute hosts visiting researchers and runs contract research "
        "for companies of every size.",
        "Its scientists in {country} are looking for partners to take pilot lines to volume "
        "production.",
    ],
    INV: [
        "The fund in {country} invests from seed to Series B and co-invests with local partners.",
        "Based in {country}, the team backs technical founders with cross-border ambitions.",
        "From its home in {country}, the investor holds open office hours for founders raising "
        "their next round.",
    ],
}

OFFERS = [
    "Drop by the booth chat to book a one-to-one meeting.",
    "Staff are online during expo hours and answer questions in English and Chinese.",
    "Check the roadshow schedule for a live demo and Q&A.",
    "Leave your contact details in the booth chat and the team will follow up after the expo.",
]

LINKS = {
    CO: [("Products", "products"), ("Careers", "careers")],
    UNI: [("Admissions", "admissions"), ("Scholarships", "scholarships")],
    INST: [("Publications", "publications"), ("Technology transfer", "licensing")],
    INV: [("Portfolio", "portfolio"), ("Pitch to us", "pitch")],
}

STAFF_TITLES = {
    CO: "Business development manager",
    UNI: "International admissions officer",
    INST: "Technology transfer officer",
    INV: "Investment manager",
}

ROADSHOW_TITLES = {
    CO: [
        "Live demo: what's new in {tag}",
        "{name}: {tag} roadmap and partner programme",
        "Meet the founders: bringing {tag} to new markets",
    ],
    UNI: ["Study at {name}: programmes in {tag}", "Scholarships and joint PhD places in {tag}"],
    INST: ["Tech transfer showcase: {tag}", "Open lab: licensing opportunities in {tag}"],
    INV: ["Pitch session: start-ups meet {name}", "Open office hours with {name}"],
}

# Invented place names for booths beyond the hand-written catalogue (booths_per_hall > 12).
# fmt: off
PLACES = [
    "Aldenmoor", "Brightwater", "Cedarline", "Eastbay", "Goldcrest", "Highpoint", "Jadeleaf",
    "Kingsbridge", "Lotus Bay", "Meridian", "Northwind", "Oakridge", "Pinehurst", "Riverside",
    "Silverlake", "Sunrise", "Westhaven", "Yellow Crane", "Zenith",
]
# fmt: on

OVERFLOW_NAMES = {
    CO: "{place} {theme} Technologies",
    UNI: "{place} College of {theme}",
    INST: "{place} Institute of {theme}",
    INV: "{place} {theme} Ventures",
}


@dataclass(frozen=True)
class _HallSpec:
    slug: str
    name: str
    name_zh: str
    color: str
    description: str
    themes: list[str]
    # (name, name_zh, kind, country, industry tags, what it does: a verb phrase)
    booths: list[tuple[str, str, str, str, list[str], str]]


# fmt: off
HALLS = [
    _HallSpec(
        "intelligent-manufacturing",
        "Intelligent Manufacturing",
        "智能制造馆",
        "#2563eb",
        "Robots, machine tools, industrial software and the factories that combine them. "
        "Meet the suppliers and labs behind the next generation of production lines.",
        ["Robotics", "Automation", "Motion", "Machining", "Smart Factory"],
        [
            ("Suzhou Lianhe Robotics", "苏州联合机器人", CO, "CN",
             ["robotics", "cobots", "electronics assembly"],
             "builds collaborative robot arms and vision-guided cells for electronics assembly"),
            ("Kessler Antriebstechnik GmbH", "凯斯勒驱动技术", CO, "DE",
             ["motion control", "servo drives"],
             "designs high-precision servo drives and motion controllers for machine-tool "
             "builders"),
            ("Hanamura Precision Works", "花村精密", CO, "JP",
             ["precision machining", "metrology"],
             "supplies ultra-precision spindles and in-line metrology for semiconductor "
             "equipment"),
            ("Songjiang Institute of Intelligent Equipment", "松江智能装备研究院", INST, "CN",
             ["digital twin", "industrial AI", "predictive maintenance"],
             "runs applied research on digital twins and predictive maintenance for heavy "
             "industry"),
            ("Lakeshore Additive", "湖岸增材制造", CO, "US",
             ["3D printing", "metal additive manufacturing"],
             "makes large-format metal 3D printers for aerospace and energy parts"),
            ("Nordvik University of Applied Sciences", "诺德维克应用科技大学", UNI, "FI",
             ["industrial automation", "private 5G"],
             "operates an open test factory where students and companies trial private 5G "
             "and edge automation"),
            ("Daejin Mechatronics", "大进机电", CO, "KR",
             ["autonomous mobile robots", "intralogistics"],
             "builds autonomous mobile robots and fleet software for warehouses and car plants"),
            ("Lyon Composites Technologies", "里昂复合材料技术", CO, "FR",
             ["composites", "lightweighting"],
             "engineers carbon-fibre composite parts and automated lay-up machines for "
             "lightweight vehicles"),
            ("Maasvlakte Port Automation", "", CO, "NL",
             ["logistics automation", "port technology"],
             "automates container terminals with remote-controlled cranes and scheduling "
             "software"),
            ("Ningbo Mould & Die Innovation Centre", "宁波模具创新中心", INST, "CN",
             ["mould making", "smart tooling"],
             "helps thousands of local mould makers adopt sensor-equipped smart tooling"),
            ("Alpine Sensorik AG", "阿尔卑斯传感", CO, "CH",
             ["sensors", "industrial IoT"],
             "produces rugged MEMS sensors and wireless gateways for condition monitoring"),
            ("Greenfield Industrial Ventures", "绿野产业创投", INV, "SG",
             ["hardware venture capital", "supply chain"],
             "invests in hardware start-ups that are moving from prototype to manufacturing"),
        ],
    ),
    _HallSpec(
        "biomedicine-health",
        "Biomedicine & Health",
        "生物医药与健康馆",
        "#dc2626",
        "New medicines, diagnostics, medical devices and digital health. "
        "Pharma partners, clinical researchers and life-science investors under one roof.",
        ["Biotech", "Genomics", "MedTech", "Therapeutics", "Diagnostics"],
        [
            ("Hangzhou Xinkang Biotech", "杭州新康生物", CO, "CN",
             ["antibodies", "oncology"],
             "develops bispecific antibodies for solid tumours, with two candidates in phase II"),
            ("Rhine Valley Diagnostics", "莱茵谷诊断", CO, "DE",
             ["diagnostics", "point of care"],
             "makes point-of-care PCR analysers that return results in under twenty minutes"),
            ("Norrland Institute for Regenerative Medicine", "诺尔兰再生医学研究所", INST, "SE",
             ["stem cells", "regenerative medicine"],
             "grows lab-engineered cartilage and corneal tissue from patients' own stem cells"),
            ("Haifa Bio-Devices", "海法生物器械", CO, "IL",
             ["medical devices", "cardiology"],
             "develops implantable heart monitors with on-device arrhythmia detection"),
            ("Osaka Cell Therapeutics", "大阪细胞治疗", CO, "JP",
             ["cell therapy", "iPSC"],
             "turns induced pluripotent stem cells into off-the-shelf cell therapies"),
            ("Boston Harbor Genomics", "波士顿港基因组", CO, "US",
             ["genomics", "sequencing"],
             "offers long-read sequencing services and rare-disease diagnosis pipelines"),
            ("Jinjiang Medical University", "锦江医科大学", UNI, "CN",
             ["clinical research", "traditional Chinese medicine"],
             "combines a 3,000-bed teaching hospital with research on integrative medicine"),
            ("Lion City MedTech Accelerator", "狮城医疗科技加速器", INV, "SG",
             ["medtech", "accelerator"],
             "runs a six-month programme that takes medtech teams to their first clinical "
             "pilot"),
            ("Thames BioAnalytics", "泰晤士生物分析", CO, "GB",
             ["bioinformatics", "AI drug discovery"],
             "uses machine learning on protein structures to shortlist drug candidates"),
            ("Three Borders Biologics", "三境生物制剂", CO, "CH",
             ["biologics CDMO", "manufacturing"],
             "manufactures clinical and commercial batches of biologics for other drug makers"),
            ("Seoul Digital Health Lab", "首尔数字健康实验室", INST, "KR",
             ["digital health", "wearables"],
             "validates wearable sensors and health apps in hospital-grade clinical studies"),
            ("Maple Leaf Life Sciences Fund", "枫叶生命科学基金", INV, "CA",
             ["life sciences venture capital", "cross-border"],
             "backs therapeutics companies with programmes in both North America and Asia"),
        ],
    ),
    _HallSpec(
        "new-generation-it",
        "New-Generation IT",
        "新一代信息技术馆",
        "#7c3aed",
        "Chips, AI, cloud, quantum and photonics: the technologies under every other hall. "
        "Find engineering partners, platform providers and research collaborators.",
        ["Semiconductor", "AI", "Cloud", "Photonics", "Software"],
        [
            ("Shenzhen Qiyun Semiconductor", "深圳启云半导体", CO, "CN",
             ["RISC-V", "chips"],
             "designs low-power RISC-V processors for smart devices and vehicles"),
            ("Aurora Quantum Systems", "极光量子系统", CO, "FI",
             ["quantum computing", "cryogenics"],
             "builds superconducting quantum processors and the cryostats that cool them"),
            ("Bay Circuit AI", "湾区电路智能", CO, "US",
             ["large language models", "edge AI"],
             "compresses large language models so they run on phones and factory gateways"),
            ("Guanggu Optoelectronics Institute", "光谷光电子研究院", INST, "CN",
             ["photonics", "optical networks"],
             "develops silicon-photonics transceivers for data-centre networks"),
            ("Kanto Display Technologies", "关东显示技术", CO, "JP",
             ["micro-LED", "displays"],
             "manufactures micro-LED panels for AR glasses and automotive dashboards"),
            ("Carmel Cyber Defence", "卡梅尔网络安全", CO, "IL",
             ["cybersecurity", "zero trust"],
             "protects industrial control systems with zero-trust network segmentation"),
            ("University of Eastmoor", "", UNI, "GB",
             ["computer science", "high-performance computing"],
             "hosts a national supercomputing centre and a top-ranked computer science school"),
            ("Brabant Photonics", "布拉班特光子", CO, "NL",
             ["integrated photonics", "lidar"],
             "puts lidar and optical sensing on indium-phosphide photonic chips"),
            ("Pangyo Cloud Networks", "板桥云网络", CO, "KR",
             ["cloud", "6G"],
             "builds cloud-native radio access software for 5G-Advanced and 6G trials"),
            ("Seine Data Systems", "塞纳数据系统", CO, "FR",
             ["data platforms", "open source"],
             "maintains an open-source analytics database used by banks and telecom operators"),
            ("Beihu Software Park Fund", "北湖软件园基金", INV, "CN",
             ["software venture capital", "AI"],
             "invests in enterprise software and AI start-ups moving into the software park"),
            ("Southern Cross Spatial", "南十字空间", CO, "AU",
             ["geospatial", "satellite data"],
             "turns satellite imagery into crop, mining and bushfire analytics"),
        ],
    ),
    _HallSpec(
        "energy-environment",
        "Energy & Environment",
        "能源与环境馆",
        "#16a34a",
        "Solar, wind, hydrogen, storage and the technologies that clean water, air and soil. "
        "Meet the teams working on the energy transition.",
        ["Solar", "Hydrogen", "Battery", "Water", "Carbon"],
        [
            ("Jiangsu Helios New Energy", "江苏赫利俄斯新能源", CO, "CN",
             ["solar", "perovskite"],
             "produces perovskite-silicon tandem solar cells on a pilot line near Changzhou"),
            ("Baltic Wind Engineering", "波罗的海风电工程", CO, "DK",
             ["offshore wind", "floating foundations"],
             "designs floating foundations for offshore wind farms in deep water"),
            ("Hokkaido Hydrogen Works", "北海道氢能", CO, "JP",
             ["hydrogen", "fuel cells"],
             "builds fuel-cell power units for buses, ferries and backup power"),
            ("Qaidam Battery Materials Institute", "柴达木电池材料研究所", INST, "CN",
             ["lithium", "battery materials"],
             "researches brine lithium extraction and sodium-ion cathode materials"),
            ("Nordvest Carbon Capture", "西北碳捕集", CO, "NO",
             ["carbon capture", "CCUS"],
             "captures CO2 from cement kilns and stores it under the North Sea"),
            ("Grid Harmony Systems", "电网和谐系统", CO, "US",
             ["grid storage", "virtual power plants"],
             "aggregates home batteries and EV chargers into virtual power plants"),
            ("Polder Water Technologies", "圩田水务技术", CO, "NL",
             ["water treatment", "desalination"],
             "delivers low-energy desalination and wastewater reuse plants"),
            ("Negev Solar Thermal", "内盖夫光热", CO, "IL",
             ["solar thermal", "heat storage"],
             "stores solar heat in molten salt to supply factories around the clock"),
            ("Lemanic Institute for Sustainable Materials", "莱芒可持续材料研究所", INST, "CH",
             ["circular economy", "bioplastics"],
             "develops compostable packaging and recycling processes for mixed plastics"),
            ("Outback Green Hydrogen", "澳洲内陆绿氢", CO, "AU",
             ["green hydrogen", "ammonia"],
             "plans solar-powered green ammonia plants for export to Asian ports"),
            ("Taihu University of Environmental Science", "太湖环境科技大学", UNI, "CN",
             ["environmental engineering", "lake restoration"],
             "leads long-term lake restoration projects and trains environmental engineers"),
            ("Verdant Climate Capital", "翠绿气候资本", INV, "GB",
             ["climate tech", "energy transition"],
             "invests in climate technology companies from first revenue to scale-up"),
        ],
    ),
    _HallSpec(
        "education-talent",
        "Education & Talent",
        "教育与人才馆",
        "#ea580c",
        "Universities, training providers and talent services from around the world. "
        "Find study programmes, research posts, scholarships and career support.",
        ["Learning", "Talent", "Engineering", "Design", "Science"],
        [
            ("Pearl River Overseas Talent Service Centre", "珠江海外人才服务中心", INST, "CN",
             ["talent programmes", "work permits"],
             "helps overseas professionals with work permits, housing and start-up grants"),
            ("Isar Technical University", "伊萨尔工业大学", UNI, "DE",
             ["engineering", "dual study"],
             "combines engineering degrees with paid placements at partner companies"),
            ("Setouchi University", "濑户内大学", UNI, "JP",
             ["materials science", "exchange programmes"],
             "is known for materials science and runs exchange programmes with 40 partners"),
            ("Great Lakes Polytechnic University", "五大湖理工大学", UNI, "US",
             ["STEM", "joint PhD"],
             "offers joint PhD programmes with universities in China, Korea and Germany"),
            ("University of Northgate", "诺斯盖特大学", UNI, "GB",
             ["business school", "MBA"],
             "runs a one-year international MBA with a technology-management track"),
            ("Merlion Institute of Technology", "鱼尾狮理工学院", UNI, "SG",
             ["applied AI", "industry attachments"],
             "teaches applied AI with mandatory six-month attachments in industry"),
            ("Ecole d'Ingenieurs de la Garonne", "加龙工程师学院", UNI, "FR",
             ["engineering", "double degree"],
             "offers double engineering degrees with aerospace and energy specialisations"),
            ("Coral Coast University", "珊瑚海岸大学", UNI, "AU",
             ["marine science", "scholarships"],
             "leads reef and marine science research and funds international scholarships"),
            ("Fraser Delta University", "弗雷泽三角洲大学", UNI, "CA",
             ["computer science", "co-op programmes"],
             "runs co-op programmes in computer science and clean technology"),
            ("Zhiqiao Talent Technologies", "智桥人才科技", CO, "CN",
             ["HR technology", "recruiting"],
             "matches international researchers with employers through a bilingual platform"),
            ("Politecnico di Valdarno", "瓦尔达诺理工学院", UNI, "IT",
             ["industrial design", "automotive engineering"],
             "teaches industrial design and automotive engineering in studio-based courses"),
            ("EduNorth Learning", "北方教育科技", CO, "FI",
             ["edtech", "teacher training"],
             "trains teachers and publishes a maths-learning app used in 30 countries"),
        ],
    ),
    _HallSpec(
        "investment-finance",
        "Investment & Finance",
        "投资与金融馆",
        "#b45309",
        "Venture capital, corporate investors, banks and technology-transfer offices. "
        "Bring your pitch deck: investors hold open office hours all day.",
        ["Fintech", "Growth", "Deep Tech", "Impact", "Frontier"],
        [
            ("Qianhai Cross-Border Innovation Fund", "前海跨境创新基金", INV, "CN",
             ["cross-border venture capital", "deep tech"],
             "helps overseas deep-tech teams set up and raise capital in the Greater Bay Area"),
            ("Alpenrose Capital Partners", "阿尔彭罗斯资本", INV, "CH",
             ["growth equity", "industrial technology"],
             "takes minority stakes in profitable industrial-technology companies"),
            ("Redwood Crossing Ventures", "红木渡创投", INV, "US",
             ["seed", "AI"],
             "writes first cheques for AI and developer-tools start-ups"),
            ("Marina Bay Family Office Network", "滨海湾家族办公室联盟", INV, "SG",
             ["family offices", "impact investing"],
             "connects family offices across Southeast Asia with impact-focused founders"),
            ("Hanse Technology Bank", "汉萨科技银行", CO, "DE",
             ["venture debt", "technology banking"],
             "provides venture debt and export finance to technology companies"),
            ("Dishui Lake Fintech Lab", "滴水湖金融科技实验室", INST, "CN",
             ["fintech", "digital payments"],
             "tests cross-border payment and trade-finance pilots with partner banks"),
            ("Han River Growth Partners", "汉江成长伙伴", INV, "KR",
             ["Series B", "semiconductors"],
             "leads Series B rounds in semiconductor and battery supply-chain companies"),
            ("Amstel Impact Investors", "阿姆斯特尔影响力投资", INV, "NL",
             ["impact investing", "ESG"],
             "invests in companies with measurable climate and health outcomes"),
            ("Albion Angels Network", "阿尔比恩天使投资网络", INV, "GB",
             ["angel network", "university spin-outs"],
             "brings 200 angel investors together to fund university spin-outs"),
            ("Galilee Deep Tech Fund", "加利利深科技基金", INV, "IL",
             ["deep tech", "cybersecurity"],
             "invests in deep-tech and cybersecurity founders from their first prototype"),
            ("Marunouchi Corporate Ventures", "丸之内企业创投", INV, "JP",
             ["corporate venture capital", "open innovation"],
             "is the venture arm of an industrial group looking for open-innovation partners"),
            ("Southbank IP Exchange", "南岸知识产权交易所", CO, "AU",
             ["IP licensing", "technology transfer"],
             "runs a marketplace where universities license patents to companies"),
        ],
    ),
]
# fmt: on


@transaction.atomic
def seed_demo(now: datetime | None = None, booths_per_hall: int | None = None,
              scale: str | Scale = "demo", progress: Progress | None = None,
              seed: int | None = None, fraction: float = 1.0) -> SeedReport:
    """Create the demo expo, its halls, booths, roadshows and demo accounts.

    ``now`` (default: ``timezone.now()``) fixes "today": the expo runs from yesterday to the
    day after tomorrow and the roadshows are all scheduled today, in the current time zone.
    ``scale`` (a name in ``SCALES`` or a :class:`Scale`) sets how many booths there are;
    ``booths_per_hall``, when given, overrides it with that many in each hall. Booths come
    from each hall's hand-written catalogue first, then invented ones (deterministically).
    ``progress`` hears how the booths step goes (for a progress line).
    ``seed`` (default 42 for the demo, :data:`CONFERENCE_SEED` for the conference) fixes the
    random choices; ``fraction`` (conference only) scales every count of the conference.

    Idempotent by expo slug: if the demo expo (``DEMO_EXPO_SLUG``) already exists nothing is
    written and the report has ``created=False`` with the counts found in the database.
    Users with a demo username that already exist are left as they are (password included);
    they only get a profile if they have none and, for exhibitor/staff, their booth role.
    Everything runs in one transaction.
    """
    if isinstance(scale, str):
        if scale not in SCALES:
            raise ValueError(f"unknown scale {scale!r} (one of {', '.join(SCALES)})")
        scale = SCALES[scale]
    if fraction != 1.0 and not scale.conference:
        raise ValueError("fraction applies to the conference scale only")
    if booths_per_hall is not None:
        if scale.conference:
            raise ValueError("the conference's booths come with its people: use fraction")
        if booths_per_hall < 1:
            raise ValueError("booths_per_hall must be at least 1")
        scale = Scale(scale.name, booths=booths_per_hall * len(HALLS), bulk=scale.bulk)
    expo = Expo.objects.filter(slug=DEMO_EXPO_SLUG).first()
    if expo is not None:
        return _report(expo, created=False)

    now = now or timezone.now()
    today = timezone.localdate(now)
    rng = random.Random(RANDOM_SEED if seed is None else seed)
    report = progress or (lambda step, done, total: None)
    if scale.conference:
        from .conference import conference_size

        conference_size(fraction)  # refuses a fraction out of range before writing

    expo = Expo.objects.create(
        slug=DEMO_EXPO_SLUG,
        name=f"Global Exchange Conference on Talent & Technology {today.year}",
        name_zh=f"{today.year}全球人才与技术交流大会",
        tagline="Talent, technology and capital from around the world, live, hall by hall.",
        starts_on=today - timedelta(days=1),
        ends_on=today + timedelta(days=2),
    )
    if scale.conference:
        return _seed_conference(expo, now, report,
                                CONFERENCE_SEED if seed is None else seed, fraction)
    booths_by_hall: list[list[Booth]] = []
    done = 0
    report("booths", 0, scale.booths)
    for position, spec in enumerate(HALLS):
        # .save() (not bulk_create) so the post_save signals create the rooms.
        hall = Hall.objects.create(
            expo=expo,
            slug=spec.slug,
            name=spec.name,
            name_zh=spec.name_zh,
            description=spec.description,
            color=spec.color,
            position=position,
        )
        rows = _booth_rows(spec, scale.booths_of_hall(position, len(HALLS)), rng)
        if scale.bulk:
            for batch in _batches((_booth(hall, *row, rng=rng) for row in rows), BULK_BATCH):
                _bulk_booths(hall, batch)
                done += len(batch)
                report("booths", done, scale.booths)
        else:
            for row in rows:
                _booth(hall, *row, rng=rng).save()
                done += 1
            report("booths", done, scale.booths)
        # In the model's (and so the UI's) order: the "first booth" is the one listed first.
        booths_by_hall.append(list(hall.booths.all()))

    users = _create_users(booths_by_hall, rng)
    _schedule_roadshows(booths_by_hall, users, now, rng)
    from docking.seed import seed_docking  # project docking: projects, an investor

    seed_docking(booths_by_hall, users, RANDOM_SEED)
    from search.services.index import rebuild  # bulk-created booths skip the search hooks

    rebuild()
    return _report(expo, created=True)


def _seed_conference(expo: Expo, now: datetime, report: Progress, seed: int,
                     fraction: float) -> SeedReport:
    from .conference import seed_conference

    halls = [Hall.objects.create(expo=expo, slug=spec.slug, name=spec.name,
                                 name_zh=spec.name_zh, description=spec.description,
                                 color=spec.color, position=position)
             for position, spec in enumerate(HALLS)]
    passwords = {s.username: s.password for s in [*DEMO_USERS, INVESTOR_ACCOUNT]}
    result = seed_conference(expo, halls, seed=seed, fraction=fraction, now=now, report=report,
                             demo_users=passwords)
    out = _report(expo, created=True)
    out.counts, out.timings = result.counts, result.timings
    return out


def _batches(items, size: int):
    batch: list = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _bulk_booths(hall: Hall, booths: list[Booth]) -> None:
    """Write ``booths`` and the rooms the post_save signal would give each (booths/signals.py),
    a few statements for the whole batch."""
    Booth.objects.bulk_create(booths)
    if any(b.pk is None for b in booths):  # a database that does not return the new ids
        ids = dict(Booth.objects.filter(hall=hall, name__in=[b.name for b in booths])
                   .values_list("name", "pk"))
        for b in booths:
            b.pk = ids[b.name]
    Room.objects.bulk_create(
        room
        for b in booths
        for room in (Room(kind=Room.Kind.BOOTH, booth=b, hall=hall, title=b.name),
                     Room(kind=Room.Kind.STAFF, booth=b, hall=hall, title=f"{b.name} (staff)"))
    )


def _booth_rows(spec: _HallSpec, count: int, rng: random.Random):
    """The hall's catalogue rows, then invented ones if ``count`` asks for more."""
    yield from spec.booths[:count]
    names = {row[0] for row in spec.booths}
    for i in range(len(spec.booths), count):
        kind = spec.booths[i % len(spec.booths)][2]
        theme = rng.choice(spec.themes)
        name = OVERFLOW_NAMES[kind].format(place=rng.choice(PLACES), theme=theme)
        if name in names:
            name = f"{name} {i + 1}"
        names.add(name)
        tags = [theme.lower(), rng.choice(rng.choice(spec.booths)[4])]
        does = f"specialises in {theme.lower()} and exhibits at the expo for the first time"
        yield name, "", kind, rng.choice(sorted(COUNTRY_NAMES)), tags, does


def _booth(hall, name, name_zh, kind, country, tags, does, *, rng: random.Random) -> Booth:
    kind_sentence = rng.choice(KIND_SENTENCES[kind]).format(country=COUNTRY_NAMES[country])
    slug = slugify(name)
    label, path = rng.choice(LINKS[kind])
    return Booth(
        hall=hall,
        name=name,
        name_zh=name_zh,
        kind=kind,
        country=country,
        industry_tags=list(tags),
        description=f"{name} {does}. {kind_sentence} {rng.choice(OFFERS)}",
        links=[
            {"label": "Website", "url": f"https://example.org/{slug}/"},
            {"label": label, "url": f"https://example.org/{slug}/{path}"},
        ],
    )


def _create_users(booths_by_hall: list[list[Booth]], rng: random.Random) -> dict:
    """Demo accounts plus one extra staff member for the first booth of every other hall."""
    exhibitor_booth = booths_by_hall[0][0]
    specs = list(DEMO_USERS)
    roles = {"exhibitor": (exhibitor_booth, "Sales lead")}
    for n, booths in enumerate(booths_by_hall[1:], start=1):
        booth = booths[0]
        username = f"staff{n}"
        specs.append(
            _UserSpec(
                username,
                STAFF_PASSWORD,
                rng.choice(PEOPLE[booth.country]),
                Profile.Kind.EXHIBITOR,
                "Booth staff",
            )
        )
        roles[username] = (booth, STAFF_TITLES[booth.kind])

    User = get_user_model()
    existing = set(
        User.objects.filter(username__in=[s.username for s in specs]).values_list(
            "username", flat=True
        )
    )
    new = [s for s in specs if s.username not in existing]
    # Hash each distinct password once: hashing dominates the cost of seeding.
    hashes = {password: make_password(password) for password in {s.password for s in new}}
    User.objects.bulk_create(
        User(
            username=s.username,
            password=hashes[s.password],
            is_staff=s.is_staff,
            is_superuser=s.is_superuser,
        )
        for s in new
    )
    users = User.objects.in_bulk([s.username for s in specs], field_name="username")

    with_profile = set(
        Profile.objects.filter(user__in=users.values()).values_list("user_id", flat=True)
    )
    Profile.objects.bulk_create(
        Profile(
            user=users[s.username],
            display_name=s.display_name,
            kind=s.kind,
            organisation=roles[s.username][0].name if s.username in roles else "",
        )
        for s in specs
        if users[s.username].pk not in with_profile
    )
    BoothStaff.objects.bulk_create(
        BoothStaff(booth=booth, user=users[username], title=title)
        for username, (booth, title) in roles.items()
    )
    if "moderator" not in existing:
        # Enough to moderate chat in /admin/ and look at everything else.
        users["moderator"].user_permissions.add(
            *Permission.objects.filter(content_type__app_label="booths").filter(
                Q(codename__startswith="view_")
                | Q(codename__in=["change_chatmessage", "delete_chatmessage", "change_room"])
            )
        )
    return users


def _today_slots(now: datetime, rng: random.Random) -> list[tuple[datetime, datetime, str]]:
    """Hourly slots starting today: some ended, one live at ``now``, the rest scheduled.

    The live slot starts on the half hour at or before ``now`` and lasts 45 minutes, so it
    always covers ``now``. Slots that would start on another day are not used; the missing
    ones are taken from the other side of ``now`` instead.
    """
    tz = timezone.get_current_timezone()
    local = timezone.localtime(now, tz)
    day_start = datetime.combine(local.date(), time.min, tzinfo=tz)
    day_end = datetime.combine(local.date() + timedelta(days=1), time.min, tzinfo=tz)
    live = local.replace(minute=local.minute // 30 * 30, second=0, microsecond=0).astimezone(UTC)
    hour = timedelta(hours=1)
    before = [live - k * hour for k in range(1, 25) if live - k * hour >= day_start]
    after = [live + k * hour for k in range(1, 25) if live + k * hour < day_end]
    n_after = min(ROADSHOWS_TODAY - 1 - min(ROADSHOWS_ENDED, len(before)), len(after))
    n_before = min(ROADSHOWS_TODAY - 1 - n_after, len(before))

    slots = [(live, live + 0.75 * hour, Roadshow.State.LIVE)]
    for start in after[:n_after]:
        minutes = timedelta(minutes=rng.choice([30, 45]))
        slots.append((start, start + minutes, Roadshow.State.SCHEDULED))
    for start in reversed(before[:n_before]):
        minutes = timedelta(minutes=rng.choice([30, 45]))
        slots.append((start, start + minutes, Roadshow.State.ENDED))
    return slots


def _schedule_roadshows(booths_by_hall, users, now: datetime, rng: random.Random) -> None:
    """Roadshows for today. The live one and the exhibitor's upcoming one have presenters."""
    staff_of = {
        s.booth_id: s.user
        for s in BoothStaff.objects.filter(user__in=users.values()).select_related("user__profile")
    }
    exhibitor_booth = booths_by_hall[0][0]
    staffed = [booths[0] for booths in booths_by_hall[1:]]
    rest = [b for booths in booths_by_hall for b in booths[1:]]
    slots = _today_slots(now, rng)
    # Slot order: live, the next scheduled ones, then the ended ones. The exhibitor's booth
    # takes the first scheduled slot, or the live one late in the evening, when no slot
    # starts later today: the demo exhibitor always has a roadshow to start.
    first = [*staffed[:1], exhibitor_booth]
    if not any(state == Roadshow.State.SCHEDULED for *_, state in slots):
        first.reverse()
    picks = cycle([*first, *staffed[1:], *rng.sample(rest, len(rest))])
    for starts_at, ends_at, state in slots:
        booth = next(picks)
        presenter = staff_of.get(booth.pk)
        tag = booth.industry_tags[0] if booth.industry_tags else booth.hall.name
        title = rng.choice(ROADSHOW_TITLES[booth.kind]).format(name=booth.name, tag=tag)
        presenter_name = (
            presenter.profile.display_name if presenter else rng.choice(PEOPLE[booth.country])
        )
        minutes = int((ends_at - starts_at).total_seconds() // 60)
        Roadshow(
            booth=booth,
            title=title[:200],
            description=f"{presenter_name} of {booth.name} presents for {minutes} minutes, "
            "followed by live Q&A in the roadshow chat.",
            presenter=presenter,
            presenter_name=presenter_name,
            starts_at=starts_at,
            ends_at=ends_at,
            state=state,
        ).save()


def _report(expo: Expo, *, created: bool) -> SeedReport:
    booths = Booth.objects.filter(hall__expo=expo)
    staff = {
        s.user.username: s
        for s in BoothStaff.objects.filter(booth__hall__expo=expo).select_related("user", "booth")
    }
    accounts = []
    User = get_user_model()
    investor = User.objects.filter(username=INVESTOR_ACCOUNT.username,
                                   investor__isnull=False).exists()
    for spec in [*DEMO_USERS, *([INVESTOR_ACCOUNT] if investor else [])]:
        role = spec.role
        if spec.username in staff:
            role = f"{role}: {staff[spec.username].title}, {staff[spec.username].booth.name}"
        accounts.append(DemoAccount(spec.username, spec.password, role))
    for username in sorted(u for u in staff if u.startswith("staff") and u[5:].isdigit()):
        member = staff[username]
        role = f"Booth staff: {member.title}, {member.booth.name}"
        accounts.append(DemoAccount(username, STAFF_PASSWORD, role))
    return SeedReport(
        expo_slug=expo.slug,
        created=created,
        halls=expo.halls.count(),
        booths=booths.count(),
        countries=booths.values("country").distinct().count(),
        roadshows=Roadshow.objects.filter(booth__hall__expo=expo).count(),
        rooms=Room.objects.filter(hall__expo=expo).count(),
        accounts=accounts,
    )
