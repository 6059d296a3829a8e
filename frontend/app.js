// Entry point of the Hallserver browser UI: routing and the page frame.

import { render } from "preact";
import { useEffect, useRef } from "preact/hooks";
import { html, Header, NotFound } from "./components.js";
import { t } from "./i18n.js";
import { ws, loadSession, loadExpo } from "./store.js";
import { installRouter, location$, matchRoute } from "./router.js";
import { LobbyPage } from "./lobby.js";
import { BoothPage } from "./booth.js";
import { LoginPage } from "./login.js";
import { ModeratePage } from "./moderate/index.js"; // moderation: the console
import { SessionGate } from "./moderation.js"; // moderation: bans, announcements, kicks
import { RoadshowPage } from "./roadshow.js"; // live video (issue #4)
import {
  SignupPage, ProfilePage, JobsPage, JobPage, ApplicationsPage, RecruitStaffPage,
} from "./recruit.js"; // recruitment
import "./recruit-store.js";
import { ConsolePage } from "./console/page.js"; // the exhibitor console
import { DockingPage } from "./docking/pages.js"; // project docking


function Page({ route }) {
  switch (route.name) {
    case "lobby":
      return html`<${LobbyPage} hallId=${null} />`;
    case "hall":
      return html`<${LobbyPage} hallId=${route.id} />`;
    case "booth": {
      // /booth/<id>?roadshow=<id>: the roadshow page of that booth (live video).
      const roadshow = Number(new URLSearchParams(location$.value.search).get("roadshow"));
      if (roadshow > 0) {
        return html`<${RoadshowPage} key=${`r${roadshow}`} boothId=${route.id} roadshowId=${roadshow} />`;
      }
      return html`<${BoothPage} key=${route.id} id=${route.id} />`;
    }
    case "login":
      return html`<${LoginPage} />`;
    case "moderate":
      return html`<${ModeratePage} />`;
    case "signup":
      return html`<${SignupPage} />`;
    case "profile":
      return html`<${ProfilePage} />`;
    case "jobs":
      return html`<${JobsPage} />`;
    case "job":
      return html`<${JobPage} key=${route.id} id=${route.id} />`;
    case "applications":
      return html`<${ApplicationsPage} />`;
    case "recruit":
      return html`<${RecruitStaffPage} key=${route.id} id=${route.id} />`;
    case "console":
      return html`<${ConsolePage} key=${`c${route.id}`} boothId=${route.id} />`;
    case "console-expo":
      return html`<${ConsolePage} key="expo" boothId="expo" />`;
    case "projects":
    case "project_new":
    case "project":
    case "meetings":
    case "investor":
      return html`<${DockingPage} route=${route} />`; // project docking
    default:
      return html`<${NotFound} />`;
  }
}

function App() {
  const { path } = location$.value;
  const route = matchRoute(path);
  const main = useRef(null);
  const firstRender = useRef(true);

  // After a client-side navigation, move focus to the new page (like a page load would).
  useEffect(() => {
    if (firstRender.current) {
      firstRender.current = false;
      return;
    }
    main.current?.focus({ preventScroll: true });
  }, [path]);

  return html`
    <a class="skip-link" href="#main" data-reload>${t("app.skip")}</a>
    <${Header} />
    <main id="main" ref=${main} tabindex="-1" class="page page-${route.name}">
      <${SessionGate}><${Page} route=${route} /></${SessionGate}>
    </main>
  `;
}

installRouter();
ws.connect();
loadSession();
loadExpo();
const root = document.getElementById("app");
root.textContent = ""; // drop the "Loading…" placeholder of index.html
render(html`<${App} />`, root);
