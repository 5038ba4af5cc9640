// What the hotline's level 1 and triage are worth in expert time, for a
// month: the variables Switchyard measured (read-only), those a supervisor
// enters (saved for next time; typical values until then, marked assumed),
// and each figure with its formula, so it can be checked by hand.

import { api } from "./api.js";
import { h, clear, toast } from "./dom.js";
import { t, locale } from "./i18n.js";

const hours = (minutes) => (minutes == null ? "—" : (Math.round(minutes / 6) / 10).toLocaleString(locale) + " h");
const shown = (v) => (v.value == null ? "—" : v.unit === "share" ? Math.round(v.value * 1000) / 10 + " %" : String(Math.round(v.value * 10) / 10) + (v.unit === "minutes" ? " min" : ""));
const SOURCE = { measured: "measured", entered: "entered", assumed: t("assumed (typical value)") };

export class WorthView {
  constructor(root) {
    this.root = root;
    this.month = "";
  }

  async load() {
    const q = this.month ? "?from=" + this.month + "-01&to=" + lastDay(this.month) : "";
    let data;
    try {
      data = await api.get("/api/v1/reports/worth" + q);
    } catch (e) {
      toast(e.message);
      return;
    }
    this.render(data);
  }

  render(data) {
    const e = data.estimate;
    const month = h("input", { type: "month", name: "month", value: data.period.from.slice(0, 7), "aria-label": t("Month"),
      onchange: (ev) => { this.month = ev.target.value; this.load(); } });
    const inputs = {};
    const rows = e.variables.map((v) => {
      let value = shown(v);
      if (v.source !== "measured") {
        const input = h("input", { type: "number", name: v.name, min: "0", step: "any",
          value: v.unit === "share" ? String(Math.round(v.value * 1000) / 10) : String(v.value) });
        inputs[v.name] = { input, share: v.unit === "share", entered: v.source === "entered", initial: input.value };
        value = h("span", {}, input, v.unit === "share" ? " %" : " min");
      }
      return h("tr", { dataset: { variable: v.name, source: v.source } },
        h("td", {}, v.label), h("td", {}, value), h("td", { class: "muted" }, SOURCE[v.source]));
    });
    const save = h("button", { type: "button", onclick: () => this.save(inputs) }, t("Save the entered values"));
    const figures = e.figures.map((f) => h("tr", { dataset: { figure: f.name } },
      h("td", {}, f.label), h("td", {}, hours(f.minutes)), h("td", { class: "muted" }, f.formula)));
    clear(this.root).append(
      h("div", { class: "report-controls" }, h("h2", {}, t("What it is worth")), h("label", {}, t("Month "), month)),
      h("p", { class: "muted" }, t("From ") + data.period.from + t(" to ") + data.period.to +
        ". Measured values come from this period's conversations; the others are what a supervisor entered."),
      h("table", { class: "worth variables" }, h("thead", {}, h("tr", {}, h("th", {}, t("Variable")), h("th", {}, t("Value")), h("th", {}, t("Source")))), h("tbody", {}, rows)),
      save,
      h("table", { class: "worth figures" }, h("thead", {}, h("tr", {}, h("th", {}, t("Expert time")), h("th", {}, t("Hours")), h("th", {}, t("How")))), h("tbody", {}, figures)),
      h("p", { class: "worth-total", dataset: { minutes: String(e.saved_minutes) } }, t("Expert time saved in the period: "), h("strong", {}, hours(e.saved_minutes))));
  }

  async save(inputs) {
    const body = {};
    // Only what a supervisor entered: a typical value left as shown stays "assumed".
    for (const [name, { input, share, entered, initial }] of Object.entries(inputs)) {
      const n = Number(input.value);
      if (input.value === "" || Number.isNaN(n) || (!entered && input.value === initial)) continue;
      body[name] = share ? n / 100 : n;
    }
    try {
      await api.put("/api/v1/reports/worth/inputs", body);
      toast(t("Saved"));
      this.load();
    } catch (e) {
      toast(e.message);
    }
  }
}

function lastDay(month) {
  const [y, m] = month.split("-").map(Number);
  return month + "-" + String(new Date(Date.UTC(y, m, 0)).getUTCDate()).padStart(2, "0");
}
