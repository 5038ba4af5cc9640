// The team (supervisors see it, admins change it): who is online and how
// loaded, each agent's queues and cap (dispatch follows at once), role,
// password reset (a one-time password shown once), disable / enable, and a
// form to add an agent.

import { api } from "./api.js";
import { h, clear, toast, quietly } from "./dom.js";
import { t } from "./i18n.js";

const ROLES = ["agent", "supervisor", "admin"];

export class TeamView {
  constructor(root, { me }) {
    this.root = root;
    this.me = me;
    this.rows = [];
    this.queues = [];
  }

  async load() {
    try {
      const [accounts, dispatch, queues] = await Promise.all([
        api.get("/api/v1/agents"),
        api.get("/api/v1/agents/dispatch"),
        api.get("/api/v1/queues"),
      ]);
      const load = new Map(dispatch.agents.map((a) => [a.id, a]));
      this.rows = accounts.agents.map((a) => ({ ...a, ...(load.get(a.id) || { presence: "offline", open: 0, max_open: 0, queues: [] }) }));
      this.queues = queues.queues.map((q) => q.name);
    } catch (e) {
      if (e.status !== 401) toast(e.message, "error");
      return;
    }
    this.draw();
  }

  /** Each agent's load and presence again, in place: what the admin is typing stays. */
  async refreshLoad() {
    const dispatch = await quietly(() => api.get("/api/v1/agents/dispatch"));
    if (!dispatch) return;
    for (const a of dispatch.agents) {
      const r = this.rows.find((x) => x.id === a.id);
      const tr = r && this.root.querySelector(`tr[data-agent="${CSS.escape(r.username)}"]`);
      if (!tr) continue;
      Object.assign(r, { open: a.open, max_open: a.max_open, presence: a.presence });
      tr.dataset.presence = a.presence;
      tr.querySelector(".team-load").textContent = `${a.open} / ${a.max_open}`;
      const badge = tr.querySelector(".badge");
      badge.className = "badge presence-" + a.presence;
      badge.textContent = t(a.presence);
    }
  }

  get admin() {
    return this.me.role === "admin";
  }

  draw() {
    const online = this.rows.filter((r) => r.presence === "online" && !r.disabled).length;
    clear(this.root).append(
      h("div", { class: "report-controls" }, h("h2", {}, t("Team"))),
      h("p", { class: "muted", id: "team-summary" }, `${online} ` + t("online of") + ` ${this.rows.filter((r) => !r.disabled).length} ` + t("active accounts")),
      h("datalist", { id: "team-queue-names" }, this.queues.map((q) => h("option", { value: q }))),
      h("table", { class: "groups team-list" },
        h("thead", {}, h("tr", {}, [t("Agent"), t("Role"), t("Presence"), t("Open / cap"), t("Queues"), t("Cap"), t("State"), ""].map((x) => h("th", {}, x)))),
        h("tbody", {}, this.rows.map((r) => this.row(r)))),
      this.admin ? this.addForm() : null);
  }

  row(r) {
    const self = r.id === this.me.id;
    const editable = this.admin && !self;
    const queues = h("input", { name: "queues", value: r.queues.join(", "), list: "team-queue-names", "aria-label": t("Queues"), disabled: !this.admin, size: 22 });
    const cap = h("input", { name: "max_open", type: "number", min: 0, max: 1000, value: r.max_open, "aria-label": t("Cap"), disabled: !this.admin, class: "team-cap" });
    const role = h("select", { name: "role", "aria-label": t("Role"), disabled: !editable, onchange: (e) => this.setRole(r, e.target.value) },
      ROLES.map((x) => h("option", { value: x, selected: x === r.role }, t(x))));
    const state = r.disabled ? t("disabled") : r.must_change_password ? t("invited") : t("active");
    return h("tr", { dataset: { agent: r.username, presence: r.presence } },
      h("td", {}, h("strong", {}, r.display_name), h("div", { class: "muted" }, r.username)),
      h("td", {}, role),
      h("td", {}, h("span", { class: "badge presence-" + r.presence }, t(r.presence))),
      h("td", { class: "team-load" }, `${r.open} / ${r.max_open}`),
      h("td", {}, queues),
      h("td", {}, cap),
      h("td", { class: "team-state" }, state),
      h("td", { class: "team-actions" },
        this.admin ? h("button", { type: "button", class: "ghost team-save", onclick: () => this.saveDispatch(r, queues.value, cap.value) }, t("Save")) : null,
        editable ? h("button", { type: "button", class: "ghost team-reset", onclick: () => this.resetPassword(r) }, t("Reset password")) : null,
        editable ? h("button", { type: "button", class: "ghost team-disable", onclick: () => this.setDisabled(r, !r.disabled) }, r.disabled ? t("Enable") : t("Disable")) : null));
  }

  addForm() {
    const form = h("form", { class: "report-form team-add", id: "team-add", onsubmit: (e) => { e.preventDefault(); this.add(form); } },
      h("h3", {}, t("Add an agent")),
      h("div", { class: "team-add-row" },
        h("label", {}, t("Username"), h("input", { name: "username", required: true, autocomplete: "off" })),
        h("label", {}, t("Name"), h("input", { name: "display_name", required: true })),
        h("label", {}, t("Role"), h("select", { name: "role" }, ROLES.map((x) => h("option", { value: x }, t(x))))),
        h("label", {}, t("First password (10 characters or more)"), h("input", { name: "password", type: "password", required: true, minlength: 10, autocomplete: "new-password" }))),
      h("div", { class: "team-add-row" },
        h("label", {}, t("Queues"), h("input", { name: "queues", list: "team-queue-names", placeholder: "critical, experts" })),
        h("label", {}, t("Cap"), h("input", { name: "max_open", type: "number", min: 0, max: 1000, value: 5 }))),
      h("p", { class: "error team-error", role: "alert" }),
      h("div", { class: "dialog-buttons" }, h("button", { type: "submit" }, t("Add"))));
    return form;
  }

  async add(form) {
    const f = form.elements;
    const error = form.querySelector(".team-error");
    error.textContent = "";
    try {
      const made = await api.post("/api/v1/agents", {
        username: f.username.value.trim(), display_name: f.display_name.value.trim(), role: f.role.value, password: f.password.value,
      });
      await api.post(`/api/v1/agents/${made.id}/dispatch`, { queues: splitQueues(f.queues.value), max_open: Number(f.max_open.value) });
      toast(t("Agent added: ") + f.username.value.trim());
    } catch (e) {
      error.textContent = e.message;
      return;
    }
    await this.load();
  }

  async saveDispatch(r, queues, cap) {
    try {
      await api.post(`/api/v1/agents/${r.id}/dispatch`, { queues: splitQueues(queues), max_open: Number(cap) });
      toast(t("Queues and cap saved for ") + r.display_name);
    } catch (e) {
      toast(e.message, "error");
      return;
    }
    await this.load();
  }

  async setRole(r, role) {
    try {
      await api.post(`/api/v1/agents/${r.id}/role`, { role });
      toast(r.display_name + t(" is now ") + t(role));
    } catch (e) {
      toast(e.message, "error");
    }
    await this.load();
  }

  async resetPassword(r) {
    let answer;
    try {
      answer = await api.post(`/api/v1/agents/${r.id}/password`, {});
    } catch (e) {
      toast(e.message, "error");
      return;
    }
    await this.load();
    // Shown once, here only: the admin hands it over; the next sign-in asks for a new one.
    const row = this.root.querySelector(`tr[data-agent="${CSS.escape(r.username)}"] .team-actions`);
    if (row) row.append(h("p", { class: "team-one-time" }, t("One-time password: "), h("code", {}, answer.password)));
  }

  async setDisabled(r, disabled) {
    try {
      await api.post(`/api/v1/agents/${r.id}/${disabled ? "disable" : "enable"}`, {});
      toast(r.display_name + (disabled ? t(" is disabled") : t(" is enabled")));
    } catch (e) {
      toast(e.message, "error");
      return;
    }
    await this.load();
  }
}

function splitQueues(text) {
  return text.split(",").map((q) => q.trim()).filter(Boolean);
}
