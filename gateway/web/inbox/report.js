// The intervention report editor: Switchyard's proposal from the thread, which
// the expert corrects, saves as a draft, validates, downloads (PDF, Markdown)
// and sends to the customer on their own channel. Each save is a version; a
// save on top of someone else's newer version is refused by the server and
// said here, never silently overwritten.

import { api } from "./api.js";
import { h, clear, clock, toast } from "./dom.js";
import { t } from "./i18n.js";

const TEXT_FIELDS = [
  ["title", t("Title")],
  ["customer", t("Customer")],
  ["machine", t("Machine")],
  ["serial", t("Serial number")],
  ["impact", t("Impact")],
];
const SECTIONS = [
  ["symptom", t("Symptom")],
  ["diagnosis", t("Diagnosis")],
  ["actions", t("Actions")],
  ["result", t("Result")],
  ["recommendations", t("Recommendations")],
];

export class ReportEditor {
  constructor() {
    this.dialog = h("dialog", { id: "report-dialog", class: "report-dialog", "aria-label": t("Intervention report") });
    document.body.append(this.dialog);
    this.conversation = null;
    this.report = null;
  }

  async open(conversation) {
    this.conversation = conversation;
    try {
      const data = await api.get(`/api/v1/conversations/${conversation}/report`);
      this.report = data.report;
    } catch (e) {
      if (e.status !== 401) toast(e.message, "error");
      return;
    }
    this.render();
    if (!this.dialog.open) this.dialog.showModal();
  }

  statusLine() {
    const r = this.report;
    if (r.status === "proposed") return t("Proposed from the thread — not saved yet. Correct it, then save or validate.");
    if (r.status === "validated") return t("Validated by ") + r.validated_by + t(" at ") + clock(r.validated_at) + t(" (version ") + r.version + ").";
    return `Draft, version ${r.version}, saved by ${r.updated_by || "?"} at ${clock(r.updated_at)}.`;
  }

  render() {
    const c = this.report.content;
    const base = `/api/v1/conversations/${this.conversation}`;
    this.form = h("form", { class: "report-form", onsubmit: (e) => e.preventDefault() },
      h("div", { class: "report-head" },
        h("h2", {}, t("Intervention report")),
        h("span", { class: "report-status", dataset: { status: this.report.status } }, this.statusLine())),
      h("div", { class: "report-facts" },
        h("label", {}, t("Language "),
          h("select", { name: "language" },
            h("option", { value: "fr", selected: c.language === "fr" }, "Français"),
            h("option", { value: "en", selected: c.language === "en" }, "English"))),
        TEXT_FIELDS.map(([name, label]) => h("label", {}, label, h("input", { name, value: c[name] || "" }))),
        h("label", {}, t("Fault codes (comma-separated)"), h("input", { name: "fault_codes", value: (c.fault_codes || []).join(", ") }))),
      SECTIONS.map(([name, label]) => h("label", { class: "report-section" }, label,
        h("textarea", { name, rows: name === "symptom" || name === "actions" ? 4 : 3 }, c[name] || ""))),
      h("details", { class: "report-kept" },
        h("summary", {}, t("Kept from the thread: timeline, people, photos")),
        h("ul", {},
          (c.people || []).map((p) => h("li", {}, t("Person: ") + p)),
          (c.photos || []).map((p) => h("li", {}, t("Photo: ") + p.name)),
          c.times && c.times.opened ? h("li", {}, t("Opened ") + clock(c.times.opened)) : null,
          c.times && c.times.first_response ? h("li", {}, t("First response ") + clock(c.times.first_response)) : null,
          ((c.times && c.times.escalations) || []).map((e) => h("li", {}, `${e.kind} ${clock(e.at)}${e.outcome ? " (" + e.outcome + ")" : ""}`)),
          c.times && c.times.resolved ? h("li", {}, t("Resolved ") + clock(c.times.resolved)) : null)),
      h("p", { class: "error report-error", role: "alert" }),
      h("div", { class: "dialog-buttons" },
        h("button", { type: "button", class: "ghost report-save", onclick: () => this.save(false) }, t("Save draft")),
        h("button", { type: "button", class: "report-validate", onclick: () => this.save(true) }, t("Validate")),
        h("a", { class: "report-pdf", href: base + "/report.pdf", download: "" }, "PDF"),
        h("a", { class: "report-md", href: base + "/report.md", download: "" }, "Markdown"),
        h("button", { type: "button", class: "ghost report-send", disabled: this.report.status !== "validated",
          title: t("Send the PDF to the customer on their channel"), onclick: () => this.send() }, t("Send to customer")),
        h("button", { type: "button", class: "ghost report-versions", onclick: () => this.versions() }, t("Versions")),
        h("button", { type: "button", class: "ghost report-knowledge", disabled: this.report.status !== "validated",
          title: t("Propose the resolution as a knowledge-base answer (a supervisor publishes it)"), onclick: () => this.propose() }, t("Propose as knowledge")),
        h("button", { type: "button", class: "ghost", onclick: () => this.dialog.close() }, t("Close"))),
      h("ol", { class: "report-history", hidden: true }));
    clear(this.dialog).append(this.form);
  }

  content() {
    const f = this.form.elements;
    const c = { ...this.report.content };
    c.language = f.language.value;
    for (const [name] of TEXT_FIELDS) c[name] = f[name].value;
    for (const [name] of SECTIONS) c[name] = f[name].value;
    c.fault_codes = f.fault_codes.value.split(",").map((s) => s.trim()).filter(Boolean);
    return c;
  }

  async save(validate) {
    const error = this.form.querySelector(".report-error");
    error.textContent = "";
    try {
      const path = `/api/v1/conversations/${this.conversation}/report` + (validate ? "/validate" : "");
      const data = await api.post(path, { content: this.content(), version: this.report.version });
      this.report = data.report;
      this.render();
      toast(validate ? t("Report validated") : t("Draft saved"));
    } catch (e) {
      if (e.status !== 401) error.textContent = e.message;
    }
  }

  async send() {
    try {
      await api.post(`/api/v1/conversations/${this.conversation}/report/send`);
      toast(t("Report sent to the customer"));
      this.dialog.close();
    } catch (e) {
      if (e.status !== 401) this.form.querySelector(".report-error").textContent = e.message;
    }
  }

  async propose() {
    try {
      const data = await api.post(`/api/v1/conversations/${this.conversation}/report/knowledge`);
      toast(t("Knowledge entry ") + data.entry.id + t(" proposed: a supervisor reviews and publishes it"));
    } catch (e) {
      if (e.status !== 401) this.form.querySelector(".report-error").textContent = e.message;
    }
  }

  async versions() {
    const list = this.form.querySelector(".report-history");
    try {
      const data = await api.get(`/api/v1/conversations/${this.conversation}/report/versions`);
      clear(list).append(...data.versions.map((v) =>
        h("li", {}, `Version ${v.version}: ${v.status} by ${v.agent || "?"} at ${clock(v.at)}`)));
      list.hidden = false;
    } catch (e) {
      if (e.status !== 401) toast(e.message, "error");
    }
  }
}
