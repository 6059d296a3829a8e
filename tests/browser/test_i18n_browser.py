"""The UI's languages in Chromium: every language has every key (checked on the real
frontend/i18n.js as the browser loads it), plurals by Intl.PluralRules, the language picker and
its default, and pages that fit a phone's width in every language.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from .conftest import api_get
from .test_chat_browser import send

pytestmark = pytest.mark.browser

LANGS = ["en", "zh-Hans", "ru", "de"]

# Texts that are rightly the same as the English one in a language (names, loanwords, a bare
# placeholder pattern). Anything else identical to English counts as untranslated.
SAME_AS_ENGLISH = {
    "zh-Hans": {"app.name", "lobby.dates"},
    "ru": {"app.name", "lobby.dates"},
    "de": {
        "app.name", "lobby.dates", "conn.closed", "user.kind.moderator", "lobby.roadshows",
        "booth.roadshows", "kind.investor", "roadshow.state.live", "chat.title",
        "mod.kind.roadshow", "mod.slow.seconds", "mod.feed.filter", "mod.announce.text",
        "recruit.organisation", "dock.kind.roadshow",
    },
}

# Runs in the page: compares every language's table with English and returns what is wrong.
# A plural entry is an object of forms; it must have exactly the categories Intl.PluralRules
# gives for that language, and every form the placeholders of the English "other" form.
CHECK_TABLES = """
(tables) => {
  const names = (text) => [...text.matchAll(/\\{(\\w+)\\}/g)].map((m) => m[1]).sort().join(",");
  const en = tables.en;
  const report = {};
  for (const [code, table] of Object.entries(tables)) {
    const categories = new Intl.PluralRules(code).resolvedOptions().pluralCategories.slice().sort();
    const problems = {
      missing: [], extra: [], shape: [], placeholders: [], categories: [], empty: [], same: [],
    };
    for (const key of Object.keys(en)) if (!(key in table)) problems.missing.push(key);
    for (const key of Object.keys(table)) if (!(key in en)) problems.extra.push(key);
    for (const [key, value] of Object.entries(table)) {
      const base = en[key];
      if (base === undefined) continue;
      if (typeof value !== typeof base || value === null) {
        problems.shape.push(key);
        continue;
      }
      const want = names(typeof base === "object" ? base.other ?? "" : base);
      const forms = typeof value === "object" ? Object.values(value) : [value];
      if (typeof value === "object") {
        const have = Object.keys(value).sort();
        if (have.join(",") !== categories.join(",")) problems.categories.push(`${key}: ${have}`);
      }
      for (const form of forms) {
        if (typeof form !== "string" || !form.trim()) problems.empty.push(key);
        else if (names(form) !== want) problems.placeholders.push(`${key}: ${form}`);
      }
      if (code !== "en" && JSON.stringify(value) === JSON.stringify(base)) problems.same.push(key);
    }
    report[code] = problems;
  }
  return report;
}
"""


def _russian_category(n: int) -> str:
    """CLDR's Russian plural rule for integers, written out independently of the browser."""
    if n % 10 == 1 and n % 100 != 11:
        return "one"
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return "few"
    return "many"


# 5 March 2026, 14:30 local time, as the UI writes a date and time.
MARCH_5 = """async () =>
    (await import("/static/app/i18n.js")).formatDateTime(new Date(2026, 2, 5, 14, 30))"""

RU_VISITORS = {"one": "посетитель", "few": "посетителя", "many": "посетителей"}
RU_BOOTHS = {"one": "стенд", "few": "стенда", "many": "стендов"}


@pytest.fixture(scope="module")
def own_booth(live_server_url, quiet_booths) -> dict:
    """A booth without staff that no other test module uses (they share quiet_booths, and
    some count the messages or people in them)."""
    taken = {b["id"] for b in quiet_booths}
    for summary in api_get(live_server_url, "/api/booths?limit=100")["results"]:
        if summary["id"] in taken:
            continue
        detail = api_get(live_server_url, f"/api/booths/{summary['id']}")
        if not detail["staff"]:
            return detail
    raise AssertionError("the demo seed should have more booths without staff")


def _tables_report(page: Page, mutate: str = "") -> dict:
    return page.evaluate(
        f"""async () => {{
            const {{ _tables }} = await import("/static/app/i18n.js");
            const tables = structuredClone(_tables);
            {mutate}
            return ({CHECK_TABLES})(tables);
        }}"""
    )


def test_every_language_has_every_key_and_plural_form(visitor):
    page = visitor().goto("/")
    codes = page.evaluate(
        """async () => {
            const { LANGUAGES, _tables } = await import("/static/app/i18n.js");
            return [LANGUAGES.map((l) => l.code), Object.keys(_tables)];
        }"""
    )
    assert codes == [LANGS, LANGS]
    report = _tables_report(page)
    for code in LANGS:
        problems = report[code]
        same = set(problems.pop("same"))
        assert same <= SAME_AS_ENGLISH.get(code, set()), f"{code}: left in English: {same}"
        assert problems == {k: [] for k in problems}, f"{code}: {problems}"


def test_the_key_check_catches_each_kind_of_fault(visitor):
    """The check above is not vacuous: each kind of fault, planted in a copy, is reported."""
    page = visitor().goto("/")
    report = _tables_report(
        page,
        """
        delete tables.ru["chat.send"];
        tables.de["no.such.key"] = "x";
        tables.de["chat.send"] = "Senden {name}";
        delete tables.ru["lobby.booth_count"].few;
        tables["zh-Hans"]["chat.title"] = { other: "聊天" };
        tables.de["lobby.booths"] = tables.en["lobby.booths"];
        """,
    )
    assert report["ru"]["missing"] == ["chat.send"]
    assert report["ru"]["categories"] == ["lobby.booth_count: many,one,other"]
    assert report["de"]["extra"] == ["no.such.key"]
    assert report["de"]["placeholders"] == ["chat.send: Senden {name}"]
    assert "lobby.booths" in report["de"]["same"]
    assert report["zh-Hans"]["shape"] == ["chat.title"]


def test_russian_and_german_pages_and_plurals(visitor, live_server_url, own_booth):
    expo = api_get(live_server_url, "/api/expo")
    hall = expo["halls"][0]
    booth = own_booth

    # A Russian browser gets Russian without choosing.
    v = visitor(locale="ru-RU")
    page = v.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    expect(page.get_by_test_id("connection-state")).to_have_text("Подключено")
    expect(page.get_by_test_id("lang-select")).to_have_value("ru")
    card = page.locator(f"[data-testid=hall-card][data-hall-id='{hall['id']}']")
    n = hall["booth_count"]
    expect(card).to_contain_text(f"{n} {RU_BOOTHS[_russian_category(n)]}")

    # Someone in a booth of that hall: the hall's live count is a Russian count phrase.
    guest = visitor()
    guest.enter_as_guest("Гость Гостев", f"/booth/{booth['id']}")
    live = page.locator(
        f"[data-testid=hall-card][data-hall-id='{booth['hall']}'] [data-testid=hall-count]"
    )
    expect(live).to_have_text(re.compile(r"^\s*[1-9]\d* \S+\s*$"))
    shown = int(live.inner_text().split()[0])
    expect(live).to_have_text(re.compile(rf"{shown} {RU_VISITORS[_russian_category(shown)]}"))

    def phrases(numbers: list[float]) -> list[str]:
        return page.evaluate(
            """async (numbers) => {
                const { plural } = await import("/static/app/i18n.js");
                return numbers.map((n) => plural("lobby.here_now", n));
            }""",
            numbers,
        )

    assert phrases([1, 3, 5, 21, 11, 22, 112]) == [
        "1 посетитель", "3 посетителя", "5 посетителей", "21 посетитель",
        "11 посетителей", "22 посетителя", "112 посетителей",
    ]
    assert phrases([1.5]) == ["1,5 посетителя"]  # "other": fractions
    month = page.evaluate(MARCH_5)
    assert "мар" in month and "14:30" in month

    # The booth page in Russian.
    page.goto(f"{live_server_url}/booth/{booth['id']}")
    v.wait_joined()
    expect(page.get_by_test_id("chat-anonymous")).to_contain_text("Вы наблюдаете анонимно")

    # Switch to German with the picker: the page follows, and the choice outlives a reload.
    page.get_by_test_id("lang-select").select_option("de")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.get_by_test_id("connection-state")).to_have_text("Verbunden")
    expect(page.get_by_test_id("chat-anonymous")).to_contain_text("Sie sehen anonym zu")
    assert phrases([1, 3, 5, 21]) == [
        "1 Person da", "3 Personen da", "5 Personen da", "21 Personen da",
    ]
    month = page.evaluate(MARCH_5)
    assert "März" in month and "14:30" in month
    page.goto(live_server_url + "/")
    v.wait_connected()
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.locator(f"[data-testid=hall-card][data-hall-id='{hall['id']}']")).to_contain_text(
        f"{n} Stände" if n != 1 else "1 Stand"
    )


def test_unknown_browser_language_falls_back_to_english(visitor):
    page = visitor(locale="fr-FR").goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_test_id("connection-state")).to_have_text("Connected")


PHONE = {"width": 390, "height": 844}


def _fits_phone(page: Page, what: str, shots: Path) -> None:
    page.screenshot(path=str(shots / f"{what}.png"), full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{what}: {width} px wide, scrolls sideways on a phone"


@pytest.mark.parametrize("code", LANGS)
def test_pages_fit_a_phone_in_every_language(chromium, live_server_url, own_booth, code,
                                             tmp_path_factory):
    """Lobby, booth page (as a guest who chats) and moderator console (with that message in
    its feed) at 390 px: nothing scrolls sideways. Screenshots land in the test's temporary
    directory (phone-<code>*/ under pytest's base temporary directory)."""
    shots = tmp_path_factory.mktemp(f"phone-{code}")
    booth_path = f"/booth/{own_booth['id']}"
    contexts = []
    errors: list[str] = []

    def phone() -> Page:
        context = chromium.new_context(viewport=PHONE, locale="en-US", is_mobile=True,
                                       has_touch=True)
        context.add_init_script(f"localStorage.setItem('hallserver.lang', '{code}')")
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        return page

    try:
        console = phone()
        console.goto(f"{live_server_url}/login?next=/moderate")
        console.get_by_test_id("login-username").fill("moderator")
        console.get_by_test_id("login-password").fill("moderator-demo")
        console.get_by_test_id("login-submit").click()
        console.wait_for_url(live_server_url + "/moderate")
        expect(console.locator("html")).to_have_attribute("lang", code)
        expect(console.get_by_test_id("mod-feed")).to_have_attribute("data-live", "true")

        guest = phone()
        guest.goto(f"{live_server_url}/login?next={booth_path}")
        guest.get_by_test_id("guest-name").fill("Phone Philippa")
        guest.get_by_test_id("guest-submit").click()
        guest.wait_for_url(live_server_url + booth_path)
        expect(guest.get_by_test_id("chat")).to_have_attribute("data-state", "joined")
        text = f"Hallo {uuid.uuid4().hex[:8]}"
        send(guest, text)
        _fits_phone(guest, "booth", shots)

        guest.goto(live_server_url + "/")
        guest.wait_for_function("() => window.hallserver?.connected === true")
        expect(guest.get_by_test_id("booth-card").first).to_be_visible()
        _fits_phone(guest, "lobby", shots)

        expect(console.get_by_test_id("feed-item").filter(has_text=text)).to_have_count(1)
        expect(console.get_by_test_id("room-row").first).to_be_visible()
        audit = console.get_by_test_id("audit-entry").first
        expect(audit.or_(console.locator(".mod-audit .empty"))).to_be_visible()
        _fits_phone(console, "moderate", shots)
        assert not errors, errors
    finally:
        for context in contexts:
            context.close()
