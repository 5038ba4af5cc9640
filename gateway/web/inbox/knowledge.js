// Knowledge from resolved cases (supervisors): the drafts agents proposed from
// validated reports, edited here and published — the FAQ matcher answers with
// a published entry at once — or retired. t("Sent") counts its reuse, t("Solved it")
// the customers who said it solved their problem.

import { api } from "./api.js";
import { h, clear, clock, toast } from "./dom.js";
import { t } from "./i18n.js";

// The selection while a new entry is being written.
const NEW = "\u0000new";

function blank() {
  return { id: null, status: "draft", draft: { title: "", language: "fr", questions: [], keywords: [], answer: "", auto_send: false } };
}

export class KnowledgeView {
  constructor(root, { onOpenConversation }) {
    this.root = root;
    this.onOpenConversation = onOpenConversation;
    this.entries = [];
    this.selected = null;
  }

  async load() {
    try {
      this.entries = (await api.get("/api/v1/knowledge")).entries;
    } catch (e) {
      if (e.status !== 401) toast(e.message, "error");
      return;
    }
    this.draw();
  }

  draw() {
    const rows = this.entries.map((e) => h("tr", { dataset: { entry: e.id, status: e.status }, class: e.id === this.selected ? "selected" : "" },
      h("td", {}, h("button", { type: "button", class: "ghost edit-entry", onclick: () => { this.selected = e.id; this.draw(); } }, e.draft.title)),
      h("td", {}, h("span", { class: "badge status-" + e.status }, e.status)),
      h("td", {}, e.draft.language),
      h("td", { class: "sent" }, String(e.sent)),
      h("td", { class: "solved" }, String(e.solved)),
      h("td", {}, e.conversation_id == null ? "—" : h("a", { href: "#c/" + e.conversation_id, onclick: (ev) => { ev.preventDefault(); this.onOpenConversation(e.conversation_id); } }, "SY-" + e.conversation_id)),
      h("td", {}, clock(e.updated_at))));
    const entry = this.selected === NEW ? blank() : this.entries.find((e) => e.id === this.selected);
    clear(this.root).append(
      h("div", { class: "report-controls" }, h("h2", {}, t("Knowledge from resolved cases")),
        h("button", { type: "button", class: "ghost", id: "knowledge-new", onclick: () => { this.selected = NEW; this.draw(); } }, t("New entry"))),
      h("p", { class: "muted" }, t("Agents propose an entry from a validated intervention report. Published entries answer the next customer who asks (sent without a human when marked so); retired ones no longer do.")),
      this.entries.length === 0 ? h("p", { class: "muted" }, t("No entry yet.")) :
        h("table", { class: "groups knowledge-list" },
          h("thead", {}, h("tr", {}, [t("Entry"), t("Status"), t("Language"), t("Sent"), t("Solved it"), t("From"), t("Updated")].map((t) => h("th", {}, t)))),
          h("tbody", {}, rows)),
      entry ? this.editor(entry) : null);
  }

  editor(entry) {
    const d = entry.draft;
    const form = h("form", { class: "report-form knowledge-form", onsubmit: (e) => e.preventDefault() },
      h("h3", {}, entry.id ? `${entry.id} — ${entry.status}` + (entry.published_by ? `, published by ${entry.published_by}` : "") : t("New entry")),
      h("label", { class: "report-section" }, t("Title"), h("input", { name: "title", value: d.title })),
      h("label", { class: "report-section" }, t("Language"),
        h("select", { name: "language" }, ["fr", "en", "de", "es", "it"].map((l) => h("option", { value: l, selected: d.language === l }, l)))),
      h("label", { class: "report-section" }, t("Questions, one per line (the customers' words)"),
        h("textarea", { name: "questions", rows: 4 }, d.questions.join("\n"))),
      h("label", { class: "report-section" }, t("Keywords (comma-separated)"), h("input", { name: "keywords", value: d.keywords.join(", ") })),
      h("label", { class: "report-section" }, t("Answer"), h("textarea", { name: "answer", rows: 7 }, d.answer)),
      h("label", {}, h("input", { type: "checkbox", name: "auto_send", checked: d.auto_send }), t(" Send without a human when it matches")),
      h("p", { class: "error knowledge-error", role: "alert" }),
      h("div", { class: "dialog-buttons" },
        h("button", { type: "button", class: "ghost knowledge-save", onclick: () => this.save(entry, form) }, t("Save")),
        entry.id && entry.status !== "published" ? h("button", { type: "button", class: "knowledge-publish", onclick: () => this.status(entry, form, "publish") }, t("Publish")) : null,
        entry.status === "published" ? h("button", { type: "button", class: "ghost knowledge-retire", onclick: () => this.status(entry, form, "retire") }, t("Retire")) : null));
    return form;
  }

  draft(form) {
    const f = form.elements;
    return {
      title: f.title.value.trim(),
      language: f.language.value,
      questions: f.questions.value.split("\n").map((q) => q.trim()).filter(Boolean),
      keywords: f.keywords.value.split(",").map((k) => k.trim()).filter(Boolean),
      answer: f.answer.value,
      auto_send: f.auto_send.checked,
    };
  }

  async save(entry, form) {
    const error = form.querySelector(".knowledge-error");
    error.textContent = "";
    try {
      if (entry.id) {
        await api.post(`/api/v1/knowledge/${encodeURIComponent(entry.id)}`, { draft: this.draft(form) });
      } else {
        // Written from scratch: created, then edited and published like the others.
        const made = await api.post("/api/v1/knowledge", { draft: this.draft(form) });
        this.selected = made.entry.id;
      }
      toast(t("Entry saved"));
      await this.load();
      return true;
    } catch (e) {
      if (e.status !== 401) error.textContent = e.message;
      return false;
    }
  }

  async status(entry, form, action) {
    // What is on screen is what gets published.
    if (!(await this.save(entry, form))) return;
    try {
      await api.post(`/api/v1/knowledge/${encodeURIComponent(entry.id)}/${action}`);
      toast(action === "publish" ? t("Published: it answers customers from now on") : t("Retired"));
      await this.load();
    } catch (e) {
      if (e.status !== 401) toast(e.message, "error");
    }
  }
}
