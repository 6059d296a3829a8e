// The booth's analytics: visitors per 5 minutes (today, the whole expo), the funnel, busiest
// hours, each against the hall's median booth.

import { useEffect, useState } from "preact/hooks";
import { html, ErrorBox, Loading } from "./ui.js";
import { t } from "../i18n.js";
import { consoleApi } from "./data.js";
import { Chart, steps } from "./charts.js";

const FUNNEL = ["visits", "chats", "calls", "leads", "applications", "meetings"];

export function AnalyticsPanel({ booth }) {
  const [data, setData] = useState(null);
  const [error, setError] = useState(null);
  const [range, setRange] = useState("today");
  const load = () => consoleApi.analytics(booth.id).then(setData, setError);
  useEffect(() => {
    setData(null);
    load();
  }, [booth.id]);
  if (error) return html`<${ErrorBox} error=${error} onRetry=${load} />`;
  if (!data) return html`<${Loading} />`;
  const series = data[range];
  const mine = t("console.chart.this_booth");
  const median = t("console.chart.hall_median");
  const f = data.funnel;
  return html`
    <section class="panel console-analytics" aria-labelledby="analytics-title">
      <h2 id="analytics-title">${t("console.tab.analytics")}</h2>
      <div class="console-subtabs" role="tablist">
        ${["today", "expo"].map((r) => html`<button type="button" role="tab" class="subtab"
          aria-selected=${r === range} data-testid=${`range-${r}`} onClick=${() => setRange(r)}>
          ${t(`console.range.${r}`)}</button>`)}
        <button type="button" class="button button-small button-quiet" onClick=${load}>${t("console.refresh")}</button>
      </div>
      <${Chart} id="visitors" title=${t("console.chart.visitors")}
        x=${steps(series.start, data.step, series.counts.length)}
        series=${[{ label: mine, values: series.counts }, { label: median, values: series.hall_median }]}
        summary=${t("console.chart.visitors_total", { n: series.counts.reduce((a, b) => a + b, 0) })} />
      <${Chart} id="funnel" bars=${true} title=${t("console.chart.funnel")}
        x=${FUNNEL.map((_, i) => i)} labels=${FUNNEL.map((k) => t(`console.funnel.${k}`))}
        series=${[{ label: mine, values: FUNNEL.map((k) => f.booth[k]) },
                  { label: median, values: FUNNEL.map((k) => f.hall_median[k]) }]} />
      <dl class="console-funnel" data-testid="funnel-numbers">
        ${FUNNEL.map((k) => html`<div><dt>${t(`console.funnel.${k}`)}</dt><dd data-key=${k}>${f.booth[k]}</dd></div>`)}
      </dl>
      <${Chart} id="hours" bars=${true} title=${t("console.chart.hours")}
        x=${data.hours.booth.map((_, i) => i)} labels=${data.hours.booth.map((_, i) => String(i))}
        series=${[{ label: mine, values: data.hours.booth }, { label: median, values: data.hours.hall_median }]} />
    </section>
  `;
}

export function ExpoPanel() {
  const [data, setData] = useState(null);
  const [error, setError] = useState(null);
  const load = () => consoleApi.expo().then(setData, setError);
  useEffect(() => {
    load();
  }, []);
  if (error) return html`<${ErrorBox} error=${error} onRetry=${load} />`;
  if (!data) return html`<${Loading} />`;
  const top = data.top_booths;
  return html`
    <section class="panel console-analytics" aria-labelledby="expo-title">
      <h2 id="expo-title">${t("console.tab.expo")}</h2>
      <${Chart} id="concurrent" title=${t("console.chart.concurrent")}
        x=${steps(data.concurrent.start, data.step, data.concurrent.counts.length)}
        series=${[{ label: t("console.chart.people"), values: data.concurrent.counts }]} />
      <${Chart} id="top-booths" bars=${true} title=${t("console.chart.top_booths")}
        x=${top.map((_, i) => i)} labels=${top.map((b) => b.name)}
        series=${[{ label: t("console.funnel.visitors"), values: top.map((b) => b.visitors) }]} />
      <${Chart} id="halls" bars=${true} title=${t("console.chart.halls")}
        x=${data.halls.map((_, i) => i)} labels=${data.halls.map((h) => h.name)}
        series=${[{ label: t("console.funnel.visitors"), values: data.halls.map((h) => h.visitors) }]} />
      <${Chart} id="roadshows" bars=${true} title=${t("console.chart.roadshows")}
        x=${data.roadshows.map((_, i) => i)} labels=${data.roadshows.map((r) => r.title)}
        series=${[{ label: t("console.chart.viewers"), values: data.roadshows.map((r) => r.viewers) }]} />
      <${Chart} id="meetings" bars=${true} title=${t("console.chart.meetings")}
        x=${data.meetings.map((_, i) => i)} labels=${data.meetings.map((m) => t(`dock.state.${m.state}`))}
        series=${[{ label: t("console.funnel.meetings"), values: data.meetings.map((m) => m.count) }]} />
    </section>
  `;
}
