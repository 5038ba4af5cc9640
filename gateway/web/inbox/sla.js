// Hours and service levels (supervisors read, admins save): each calendar's
// time zone, weekly opening slots and holidays, each priority's targets, and
// when a message arriving now would be due — recomputed as the form changes.

import { api } from "./api.js";
import { h, clear, toast, quietly, LiveCheck } from "./dom.js";
import { t } from "./i18n.js";

const DAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];
const DAY_NAMES = { monday: "Monday", tuesday: "Tuesday", wednesday: "Wednesday", thursday: "Thursday", friday: "Friday", saturday: "Saturday", sunday: "Sunday" };
const PRIORITIES = ["critical", "important", "faq"];
const TIMERS = { first_response: "First answer", next_response: "Next answer", resolution: "Resolution" };

export class SlaView {
  constructor(root) {
    this.root = root;
    this.data = null;
    this.previews = new LiveCheck(() => api.post("/api/v1/admin/sla/preview", this.draft()), (r) => {
      this.form.querySelector(".sla-error").textContent = r.ok ? "" : r.error;
      if (r.ok) this.showPreview(r.preview);
    }, 250);
  }

  async load() {
    this.data = await quietly(() => api.get("/api/v1/admin/sla"));
    if (this.data) this.draw();
  }

  draw() {
    const d = this.data;
    const ro = !d.can_edit;
    this.form = h("form", { class: "report-form sla-form", id: "sla-form", oninput: () => this.previews.later(), onsubmit: (e) => e.preventDefault() },
      h("h3", {}, t("Calendars")),
      h("div", { class: "sla-calendars" }, d.edit.calendars.map((c) => this.calendar(c, ro))),
      ro ? null : h("button", { type: "button", class: "ghost", id: "sla-add-calendar", onclick: () => this.addCalendar() }, t("Add a calendar")),
      h("h3", {}, t("Targets (business minutes; 0: none)")),
      this.policies(d.edit, ro),
      h("p", { class: "error sla-error", role: "alert", id: "sla-error" }),
      ro ? null : h("div", { class: "dialog-buttons" },
        d.origin === "inbox" ? h("button", { type: "button", class: "ghost", id: "sla-file", onclick: () => this.backToFile() }, t("Go back to the configured service levels")) : null,
        h("button", { type: "button", id: "sla-save", onclick: () => this.save() }, t("Save and apply"))));
    this.previewBox = h("div", { id: "sla-preview", class: "sla-preview" });
    clear(this.root).append(
      h("div", { class: "report-controls" }, h("h2", {}, t("Hours and service levels"))),
      h("p", { class: "muted" }, t("In force: "), h("strong", { id: "sla-origin" }, d.origin === "inbox" ? t("saved in the inbox") : t("the configuration file")),
        ". " + t("A change applies to the next messages; timers already running keep their due time.")),
      h("div", { class: "rules-layout" }, this.form,
        h("div", { class: "rules-side" }, h("h3", {}, t("A message now would be due at")), this.previewBox)));
    this.showPreview(d.preview);
  }

  calendar(c, ro) {
    return h("fieldset", { class: "sla-calendar", dataset: { calendar: c.name } },
      h("legend", {}, c.name || t("New calendar")),
      h("div", { class: "team-add-row" },
        h("label", {}, t("Name"), h("input", { name: "name", value: c.name, required: true, disabled: ro })),
        h("label", {}, t("Time zone"), h("input", { name: "time_zone", value: c.time_zone, placeholder: "Europe/Paris", disabled: ro }))),
      h("table", { class: "sla-week" }, h("tbody", {}, DAYS.map((day) => h("tr", {},
        h("th", {}, t(DAY_NAMES[day])),
        h("td", {}, h("input", { name: day, value: c[day].join(", "), placeholder: t("closed"), "aria-label": t(DAY_NAMES[day]), disabled: ro, size: 28 })))))),
      h("label", {}, t("Holidays (closed days, one per line, YYYY-MM-DD)"),
        h("textarea", { name: "holidays", rows: 3, disabled: ro }, c.holidays.join("\n"))),
      ro ? null : h("div", { class: "rules-try-row" },
        h("input", { type: "date", name: "new_holiday", "aria-label": t("A day to close") }),
        h("button", { type: "button", class: "ghost sla-add-holiday", onclick: (e) => this.addHoliday(e.target.closest("fieldset")) }, t("Add a holiday")),
        h("button", { type: "button", class: "ghost", onclick: (e) => { e.target.closest("fieldset").remove(); this.previews.later(); } }, t("Remove this calendar"))));
  }

  policies(edit, ro) {
    const names = ["always", ...edit.calendars.map((c) => c.name)];
    const byPriority = new Map(edit.policies.map((p) => [p.priority, p]));
    const cell = (name, value) => h("td", {}, h("input", { name, type: "number", min: 0, value, disabled: ro, class: "team-cap" }));
    return h("table", { class: "groups sla-policies" },
      h("thead", {}, h("tr", {}, [t("Priority"), t("Calendar"), t("First answer"), t("Next answer"), t("Resolution")].map((x) => h("th", {}, x)))),
      h("tbody", {}, PRIORITIES.map((priority) => {
        const p = byPriority.get(priority) || { calendar: "always", first_response_minutes: 0, next_response_minutes: 0, resolution_minutes: 0 };
        return h("tr", { dataset: { priority } },
          h("td", {}, h("span", { class: "badge prio-" + priority }, priority)),
          h("td", {}, h("select", { name: "calendar", disabled: ro }, names.map((n) => h("option", { value: n, selected: n === p.calendar }, n)))),
          cell("first_response_minutes", p.first_response_minutes),
          cell("next_response_minutes", p.next_response_minutes),
          cell("resolution_minutes", p.resolution_minutes));
      })));
  }

  addCalendar() {
    const empty = { name: "", time_zone: "Europe/Paris", holidays: [] };
    for (const day of DAYS) empty[day] = [];
    this.form.querySelector(".sla-calendars").append(this.calendar(empty, false));
  }

  addHoliday(fieldset) {
    const day = fieldset.querySelector("input[name=new_holiday]").value;
    if (!day) return;
    const area = fieldset.querySelector("textarea[name=holidays]");
    const days = area.value.split("\n").map((x) => x.trim()).filter(Boolean);
    if (!days.includes(day)) days.push(day);
    area.value = days.sort().join("\n");
    this.previews.later();
  }

  /** The form as the API's edit: calendars and the three priorities' targets. */
  draft() {
    const split = (s) => s.split(",").map((x) => x.trim()).filter(Boolean);
    const calendars = [...this.form.querySelectorAll("fieldset.sla-calendar")].map((f) => {
      const c = { name: f.querySelector("[name=name]").value.trim(), time_zone: f.querySelector("[name=time_zone]").value.trim() };
      for (const day of DAYS) c[day] = split(f.querySelector(`[name=${day}]`).value);
      c.holidays = f.querySelector("[name=holidays]").value.split("\n").map((x) => x.trim()).filter(Boolean);
      return c;
    });
    const policies = [...this.form.querySelectorAll(".sla-policies tbody tr")].map((r) => ({
      priority: r.dataset.priority,
      calendar: r.querySelector("[name=calendar]").value,
      first_response_minutes: Number(r.querySelector("[name=first_response_minutes]").value) || 0,
      next_response_minutes: Number(r.querySelector("[name=next_response_minutes]").value) || 0,
      resolution_minutes: Number(r.querySelector("[name=resolution_minutes]").value) || 0,
    }));
    return { calendars, policies };
  }

  showPreview(rows) {
    clear(this.previewBox).append(rows.length === 0 ? h("p", { class: "muted" }, t("No target.")) :
      h("table", { class: "groups" },
        h("thead", {}, h("tr", {}, [t("Priority"), t("Target"), t("Due")].map((x) => h("th", {}, x)))),
        h("tbody", {}, rows.map((r) => h("tr", { dataset: { priority: r.priority, timer: r.timer } },
          h("td", {}, h("span", { class: "badge prio-" + r.priority }, r.priority)),
          h("td", {}, t(TIMERS[r.timer]) + ` (${r.minutes} min)`),
          h("td", { class: "due", dataset: { local: r.local } }, `${r.local} (${r.time_zone})`))))));
  }

  async save() {
    try {
      await api.post("/api/v1/admin/sla", this.draft());
      toast(t("Service levels saved and in force"));
    } catch (e) {
      this.form.querySelector(".sla-error").textContent = e.message;
      return;
    }
    await this.load();
  }

  async backToFile() {
    try {
      await api.post("/api/v1/admin/sla/file", {});
      toast(t("The configured service levels are in force again"));
    } catch (e) {
      toast(e.message, "error");
      return;
    }
    await this.load();
  }
}
