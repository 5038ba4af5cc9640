// The triage rules (supervisors read and try; admins save): the rule file in
// an editor checked as you type — each mistake at its line and column, a
// click puts the cursor there —, a message tried on the draft before saving,
// and the history of versions with restore and "back to the file".

import { api } from "./api.js";
import { h, clear, clock, toast, quietly, LiveCheck } from "./dom.js";
import { t } from "./i18n.js";

/** The character offset of `line`:`column` (both 1-based) in `text`. */
export function offsetOf(text, line, column) {
  let at = 0;
  for (let l = 1; l < line; l++) {
    const next = text.indexOf("\n", at);
    if (next < 0) return text.length;
    at = next + 1;
  }
  return Math.min(text.length, at + Math.max(0, column - 1));
}

export class RulesView {
  constructor(root) {
    this.root = root;
    this.data = null;
    this.checks = new LiveCheck(
      () => api.post("/api/v1/admin/rules/check", { source: this.editor.value }),
      (result) => this.showProblems(result), 300);
  }

  async load() {
    this.data = await quietly(() => api.get("/api/v1/admin/rules"));
    if (this.data) this.draw();
  }

  draw() {
    const d = this.data;
    const editor = h("textarea", {
      id: "rules-source", class: "rules-source", spellcheck: "false", rows: 24, "aria-label": t("Rule file"),
      readonly: !d.can_edit, oninput: () => this.checks.later(),
    }, d.source);
    this.editor = editor;
    this.problems = h("ol", { id: "rules-problems", class: "rules-problems", "aria-live": "polite" });
    this.summary = h("p", { id: "rules-summary", class: "muted" });
    const note = h("input", { id: "rules-note", name: "note", placeholder: t("What changed, for the history"), maxlength: 500 });
    const trial = h("textarea", { id: "rules-try-text", rows: 3, placeholder: t("A customer's message, to see the verdict of the draft") });
    const subject = h("input", { id: "rules-try-subject", placeholder: t("Subject (email)") });
    const channel = h("select", { id: "rules-try-channel", "aria-label": t("Channel") },
      ["webchat", "email", "whatsapp"].map((c) => h("option", { value: c }, c)));
    this.verdict = h("div", { id: "rules-verdict", class: "rules-verdict", "aria-live": "polite" });
    clear(this.root).append(
      h("div", { class: "report-controls" }, h("h2", {}, t("Triage rules"))),
      h("p", { class: "muted" }, t("In force: "), h("strong", { id: "rules-origin" }, d.origin),
        ` — ${d.status.rules} ` + t("rules") + (d.can_edit ? "" : t(" (read only: admins save)"))),
      h("div", { class: "rules-layout" },
        h("div", { class: "rules-edit" },
          editor,
          this.summary,
          this.problems,
          d.can_edit ? h("div", { class: "dialog-buttons" }, note,
            h("button", { type: "button", id: "rules-save", onclick: () => this.save(note) }, t("Save and apply"))) : null),
        h("div", { class: "rules-side" },
          h("h3", {}, t("Try the draft")),
          trial, h("div", { class: "rules-try-row" }, channel, subject,
            h("button", { type: "button", id: "rules-try", class: "ghost", onclick: () => this.tryDraft(trial.value, subject.value, channel.value) }, t("Try"))),
          this.verdict,
          h("h3", {}, t("History")),
          this.history())));
    this.checks.now();
  }

  history() {
    const d = this.data;
    if (!d.versions.length) return h("p", { class: "muted" }, t("No version saved from the inbox: the configured rules are in force."));
    const rows = d.versions.map((v, i) => h("tr", { dataset: { version: v.id } },
      h("td", {}, "v" + v.id), h("td", {}, clock(v.created_at)), h("td", {}, v.agent || "—"),
      h("td", {}, v.file ? t("back to the configured rules") : (v.note || "—")),
      h("td", {}, d.can_edit && i > 0 ? h("button", { type: "button", class: "ghost rules-restore", onclick: () => this.restore(v.id) }, t("Restore")) : (i === 0 ? t("in force") : ""))));
    return h("div", {},
      h("table", { class: "groups rules-history" },
        h("thead", {}, h("tr", {}, [t("Version"), t("When"), t("Who"), t("Note"), ""].map((x) => h("th", {}, x)))),
        h("tbody", {}, rows)),
      d.can_edit && !d.versions[0].file ? h("button", { type: "button", class: "ghost", id: "rules-file", onclick: () => this.backToFile() }, t("Go back to the configured rules")) : null);
  }

  showProblems(result) {
    clear(this.problems);
    this.editor.classList.toggle("invalid", !result.ok);
    this.summary.textContent = result.ok ? t("No mistake: ") + result.rules + " " + t("rules") : result.errors.length + " " + t("mistakes");
    for (const e of result.errors || []) {
      const where = `${t("line")} ${e.line}, ${t("column")} ${e.column}`;
      this.problems.append(h("li", {},
        h("button", { type: "button", class: "ghost rules-goto", onclick: () => this.goTo(e.line, e.column) }, where),
        ": " + e.message, e.hint ? h("span", { class: "muted" }, " — " + e.hint) : null));
    }
  }

  goTo(line, column) {
    const at = offsetOf(this.editor.value, line, column);
    this.editor.focus();
    this.editor.setSelectionRange(at, at + 1);
  }

  async tryDraft(text, subject, channel) {
    if (!text.trim()) return;
    clear(this.verdict).append(h("p", { class: "muted" }, t("Classifying…")));
    let r;
    try {
      r = await api.post("/api/v1/admin/rules/try", { source: this.editor.value, text, subject: subject || null, channel });
    } catch (e) {
      clear(this.verdict);
      toast(e.message, "error");
      return;
    }
    if (!r.ok) {
      this.showProblems(r);
      clear(this.verdict).append(h("p", { class: "error" }, t("Fix the mistakes first.")));
      return;
    }
    const v = r.verdict;
    clear(this.verdict).append(
      h("p", {}, h("span", { class: "badge prio-" + v.priority, id: "rules-verdict-priority" }, v.priority), " → ", v.queue,
        v.escalation && v.escalation !== "none" ? " · " + v.escalation : ""),
      v.rules.length ? h("ul", {}, v.rules.map((m) => h("li", {}, h("strong", { class: "rules-verdict-rule" }, m.rule), ": ",
        (m.spans || []).map((s) => "“" + s.text + "”").join(", ")))) : h("p", { class: "muted" }, t("No rule fired.")));
  }

  async save(note) {
    try {
      const r = await api.post("/api/v1/admin/rules", { source: this.editor.value, note: note.value });
      toast(t("Rules saved and in force: version ") + r.version);
    } catch (e) {
      if (e.status === 400) this.checks.now();
      toast(e.message, "error");
      return;
    }
    await this.load();
  }

  async restore(id) {
    try {
      const r = await api.post(`/api/v1/admin/rules/versions/${id}/restore`, {});
      toast(t("Rules restored as version ") + r.version);
    } catch (e) {
      toast(e.message, "error");
      return;
    }
    await this.load();
  }

  async backToFile() {
    try {
      await api.post("/api/v1/admin/rules/file", {});
      toast(t("The configured rules are in force again"));
    } catch (e) {
      toast(e.message, "error");
      return;
    }
    await this.load();
  }
}
