// The reports page for supervisors: the figures of a period beside the
// period before, a chart of each day drawn here as SVG (nothing fetched from
// elsewhere), a breakdown, the conversations behind any figure, and the CSV
// exports with the same filters. Definitions come from the server, so the page
// says exactly what the figures count.

import { api } from "./api.js";
import { h, clear, toast } from "./dom.js";
import { t } from "./i18n.js";

const SVG_NS = "http://www.w3.org/2000/svg";

function duration(ms) {
  if (ms == null) return "—";
  if (ms > 0 && ms < 60000) return "< 1 min";
  const m = Math.round(ms / 60000);
  if (m < 60) return m + " min";
  const hours = m / 60;
  if (hours < 48) return (Math.round(hours * 10) / 10) + " h";
  return (Math.round(hours / 24 * 10) / 10) + " d";
}

const percent = (r) => (r == null ? "—" : Math.round(r * 1000) / 10 + " %");
const count = (n) => (n == null ? "—" : String(n));
const slaOf = (k, target) => (k.sla.find((t) => t.target === target) || {}).compliance;

// Each card: its value in this period and the previous one, how to show it,
// which way is better, and the drill-down behind it.
const FIGURES = [
  { id: "volume", label: t("Conversations"), value: (k) => k.volume, show: count, figure: "created" },
  { id: "first-response", label: t("First response, median (business)"), value: (k) => k.first_response.business.median_ms, show: duration, lower: true, figure: "created" },
  { id: "first-response-p90", label: t("First response, p90 (business)"), value: (k) => k.first_response.business.p90_ms, show: duration, lower: true, figure: "created" },
  { id: "unanswered", label: t("Unanswered"), value: (k) => k.unanswered, show: count, lower: true, figure: "unanswered" },
  { id: "resolution", label: t("Resolution, median (business)"), value: (k) => k.resolution.business.median_ms, show: duration, lower: true, figure: "resolved" },
  { id: "fcr", label: t("First-contact resolution"), value: (k) => k.first_contact_resolution.rate, show: percent, figure: "first_contact_resolved" },
  { id: "reopened", label: t("Reopened"), value: (k) => k.reopened.rate, show: percent, lower: true, figure: "reopened" },
  { id: "backlog", label: t("Backlog"), value: (k) => k.backlog.open, show: count, lower: true, figure: "backlog" },
  { id: "sla", label: t("SLA first response met"), value: (k) => slaOf(k, "first_response"), show: percent, figure: "sla_breached" },
  { id: "escalated", label: t("Escalated"), value: (k) => k.escalated.rate, show: percent, figure: "escalated" },
  { id: "self-service", label: t("Self-service"), value: (k) => k.self_service.rate, show: percent, figure: "self_served" },
  { id: "knowledge-linked", label: t("Knowledge linked"), value: (k) => k.knowledge_linked.rate, show: percent, figure: "knowledge_linked" },
  { id: "knowledge-reused", label: t("Knowledge reused"), value: (k) => k.knowledge_reused, show: count, figure: "knowledge_reused" },
  // Its drill-down lists the t("not satisfied") ones, for a supervisor to look at.
  { id: "csat", label: t("Satisfaction (CSAT)"), value: (k) => k.satisfaction.rate, show: percent, figure: "rated_bad" },
];

export class ReportsView {
  constructor(root, { onOpenConversation }) {
    this.root = root;
    this.onOpenConversation = onOpenConversation;
    this.params = { from: "", to: "", channel: "", priority: "", by: "" };
    this.data = null;
    this.build();
  }

  build() {
    const field = (name, label, options) => h("label", {}, label + " ",
      h("select", { name, onchange: (e) => { this.params[name] = e.target.value; this.load(); } },
        options.map(([value, text]) => h("option", { value }, text))));
    this.from = h("input", { type: "date", name: "from", "aria-label": t("From"), onchange: () => this.datesChanged() });
    this.to = h("input", { type: "date", name: "to", "aria-label": t("To"), onchange: () => this.datesChanged() });
    this.exports = h("span", { class: "exports" });
    this.cards = h("div", { class: "cards" });
    this.chart = h("div", { class: "chart", "aria-label": t("Each day") });
    this.breakdown = h("div", { class: "breakdown" });
    this.drill = h("div", { class: "drill", hidden: true });
    this.definitions = h("details", { class: "definitions" }, h("summary", {}, t("What the figures count")));
    this.summary = h("p", { class: "muted period-summary" });
    clear(this.root).append(
      h("div", { class: "report-controls" },
        h("h2", {}, t("Reports")),
        h("span", { class: "presets" },
          h("button", { class: "ghost", type: "button", dataset: { preset: "7" }, onclick: () => this.lastDays(7) }, t("Last 7 days")),
          h("button", { class: "ghost", type: "button", dataset: { preset: "30" }, onclick: () => this.lastDays(30) }, t("Last 30 days")),
          h("button", { class: "ghost", type: "button", dataset: { preset: "last-week" }, onclick: () => this.lastWeek() }, t("Last week"))),
        h("label", {}, t("From "), this.from), h("label", {}, t("to "), this.to),
        field("channel", t("Channel"), [["", "all"], ["email", "email"], ["webchat", t("web chat")], ["whatsapp", t("WhatsApp")]]),
        field("priority", t("Priority"), [["", "all"], ["critical", "critical"], ["important", "important"], ["faq", t("FAQ")]]),
        field("by", t("Break down by"), [["", "—"], ["channel", "channel"], ["priority", "priority"], ["queue", "queue"], ["agent", "agent"]]),
        this.exports),
      this.summary, this.cards, this.chart, this.breakdown, this.drill, this.definitions);
  }

  query(extra = {}) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries({ ...this.params, ...extra })) if (v) q.set(k, v);
    return q.toString();
  }

  datesChanged() {
    if (!this.from.value || !this.to.value) return;
    this.params.from = this.from.value;
    this.params.to = this.to.value;
    this.load();
  }

  lastDays(n) {
    const to = this.today();
    const from = new Date(to.getTime() - (n - 1) * 86400000);
    this.setDates(from, to);
  }

  lastWeek() {
    const today = this.today();
    const monday = new Date(today.getTime() - ((today.getUTCDay() + 6) % 7) * 86400000);
    this.setDates(new Date(monday.getTime() - 7 * 86400000), new Date(monday.getTime() - 86400000));
  }

  // Days are the hotline calendar's, as the server counts them: the browser's
  // own date can be a day off (late evening in UTC, or another time zone).
  today() {
    const day = this.data ? this.data.today : new Date().toISOString().slice(0, 10);
    return new Date(day + "T00:00:00Z");
  }

  setDates(from, to) {
    this.params.from = from.toISOString().slice(0, 10);
    this.params.to = to.toISOString().slice(0, 10);
    this.load();
  }

  async load() {
    this.drill.hidden = true;
    let data;
    try {
      data = await api.get("/api/v1/reports/kpis?" + this.query());
    } catch (e) {
      if (e.status !== 401) toast(e.message, "error");
      return;
    }
    this.data = data;
    this.from.value = data.period.from;
    this.to.value = data.period.to;
    this.draw();
  }

  draw() {
    const { kpis: k, previous: p, period, previous_period: pp } = this.data;
    this.root.dataset.from = period.from;
    this.root.dataset.to = period.to;
    this.summary.textContent = `${period.from} to ${period.to} (${this.data.time_zone}, business time in the ${this.data.calendar} calendar), compared with ${pp.from} to ${pp.to}.`;
    clear(this.cards).append(...FIGURES.map((f) => this.card(f, k, p)));
    this.drawChart(k.days);
    this.drawBreakdown();
    clear(this.exports).append(
      h("a", { href: "/api/v1/reports/conversations.csv?" + this.query(), download: "" }, t("CSV: conversations")), " ",
      h("a", { href: "/api/v1/reports/groups.csv?" + this.query({ by: this.params.by || "agent" }), download: "" }, t("per ") + (this.params.by || "agent")), " ",
      h("a", { href: "/api/v1/reports/days.csv?" + this.query(), download: "" }, t("per day")));
    const defs = this.data.definitions.map((d) => h("div", {}, h("dt", {}, d.term), h("dd", {}, d.meaning)));
    clear(this.definitions).append(h("summary", {}, t("What the figures count")), h("dl", {}, defs));
  }

  card(f, k, p) {
    const now = f.value(k);
    const before = f.value(p);
    let trend = "";
    let tone = "";
    if (now != null && before != null && now !== before) {
      const up = now > before;
      trend = (up ? "▲ " : "▼ ") + t("from ") + f.show(before);
      tone = up === !f.lower ? "better" : "worse";
    } else if (before != null) {
      trend = t("same as before");
    }
    return h("button", { class: "card", type: "button", dataset: { figure: f.id }, title: t("Show the conversations"), onclick: () => this.showDrill(f) },
      h("span", { class: "card-label" }, f.label),
      h("span", { class: "card-value" }, f.show(now)),
      h("span", { class: "card-trend " + tone }, trend || " "));
  }

  drawChart(days) {
    const width = 720;
    const height = 180;
    const pad = { left: 34, right: 10, top: 12, bottom: 24 };
    const values = days.flatMap((d) => [d.created, d.open_at_end ?? 0]);
    const top = Math.max(1, ...values);
    const x = (i) => pad.left + (i + 0.5) * (width - pad.left - pad.right) / days.length;
    const y = (v) => height - pad.bottom - v / top * (height - pad.top - pad.bottom);
    const barWidth = Math.max(2, (width - pad.left - pad.right) / days.length * 0.6);
    const svg = document.createElementNS(SVG_NS, "svg");
    svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", t("Conversations created and backlog at each day's end"));
    const el = (tag, attrs, text) => {
      const node = document.createElementNS(SVG_NS, tag);
      for (const [a, v] of Object.entries(attrs)) node.setAttribute(a, String(v));
      if (text != null) node.textContent = text;
      svg.append(node);
      return node;
    };
    el("line", { x1: pad.left, x2: width - pad.right, y1: y(0), y2: y(0), class: "axis" });
    el("text", { x: pad.left - 6, y: y(top) + 4, class: "tick", "text-anchor": "end" }, top);
    el("text", { x: pad.left - 6, y: y(0) + 4, class: "tick", "text-anchor": "end" }, 0);
    days.forEach((d, i) => {
      const bar = el("rect", { class: "bar", x: x(i) - barWidth / 2, y: y(d.created), width: barWidth, height: y(0) - y(d.created), "data-date": d.date });
      const tip = document.createElementNS(SVG_NS, "title");
      tip.textContent = `${d.date}: ${d.created} created, ${d.resolved} resolved` + (d.open_at_end == null ? "" : `, ${d.open_at_end} open at the end`);
      bar.append(tip);
    });
    const label = (i) => el("text", { x: x(i), y: height - 6, class: "tick", "text-anchor": "middle" }, days[i].date.slice(5));
    [0, Math.floor((days.length - 1) / 2), days.length - 1].filter((v, i, a) => a.indexOf(v) === i).forEach(label);
    const points = days.map((d, i) => (d.open_at_end == null ? null : `${x(i)},${y(d.open_at_end)}`)).filter(Boolean);
    if (points.length) el("polyline", { class: "backlog-line", points: points.join(" ") });
    clear(this.chart).append(svg, h("p", { class: "legend muted" },
      h("span", { class: "key bar-key" }), t(" created each day   "), h("span", { class: "key line-key" }), t(" open at each day's end")));
  }

  drawBreakdown() {
    const groups = this.data.groups;
    if (!groups) {
      clear(this.breakdown);
      return;
    }
    const head = ["", t("Conversations"), t("First response (median)"), t("Resolution (median)"), t("First-contact resolution"), t("SLA first response met"), t("Escalated"), t("Backlog")];
    clear(this.breakdown).append(h("table", { class: "groups" },
      h("thead", {}, h("tr", {}, head.map((t) => h("th", {}, t)))),
      h("tbody", {}, groups.map((g) => h("tr", { dataset: { key: g.key } },
        h("th", {}, g.label),
        h("td", {}, g.kpis.volume),
        h("td", {}, duration(g.kpis.first_response.business.median_ms)),
        h("td", {}, duration(g.kpis.resolution.business.median_ms)),
        h("td", {}, percent(g.kpis.first_contact_resolution.rate)),
        h("td", {}, percent(slaOf(g.kpis, "first_response"))),
        h("td", {}, percent(g.kpis.escalated.rate)),
        h("td", {}, g.kpis.backlog.open))))));
  }

  async showDrill(f) {
    let data;
    try {
      data = await api.get("/api/v1/reports/conversations?" + this.query({ figure: f.figure }));
    } catch (e) {
      toast(e.message, "error");
      return;
    }
    const rows = data.rows;
    const csv = "/api/v1/reports/conversations.csv?" + this.query({ figure: f.figure });
    this.drill.hidden = false;
    this.drill.dataset.figure = f.figure;
    clear(this.drill).append(
      h("div", { class: "drill-head" },
        h("h3", {}, `${f.label}: ${rows.length} conversation${rows.length === 1 ? "" : "s"}`),
        h("a", { href: csv, download: "" }, "CSV"),
        h("button", { class: "ghost", type: "button", onclick: () => { this.drill.hidden = true; } }, t("Close"))),
      rows.length === 0 ? h("p", { class: "muted" }, t("None in this period.")) :
        h("table", { class: "drill-rows" },
          h("thead", {}, h("tr", {}, [t("Ticket"), t("Channel"), t("Priority"), t("Agent"), t("Created"), t("First response"), t("Resolved"), t("Status")].map((t) => h("th", {}, t)))),
          h("tbody", {}, rows.map((r) => h("tr", {},
            h("td", {}, h("a", { href: "#c/" + r.ticket.replace("SY-", ""), onclick: (e) => { e.preventDefault(); this.onOpenConversation(Number(r.ticket.replace("SY-", ""))); } }, r.ticket)),
            h("td", {}, r.channel), h("td", {}, r.priority), h("td", {}, r.agent || "—"),
            h("td", {}, r.created_at),
            h("td", {}, r.first_response_business_minutes == null ? "—" : duration(r.first_response_business_minutes * 60000)),
            h("td", {}, r.resolved_at || "—"),
            h("td", {}, r.status))))));
    this.drill.scrollIntoView({ block: "nearest" });
  }
}
