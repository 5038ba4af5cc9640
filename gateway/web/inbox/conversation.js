// The right-hand side: one conversation with every message of every channel
// in order, its attachments, the triage explanation and extracted facts, and
// the actions (claim, assign, transfer, escalate, resolve). The reply box is
// kept across live refreshes so a draft and its focus survive new messages.

import { api } from "./api.js";
import { h, clear, icon, clock, duration, bytes, priorityBadge, slaBadge, toast, CHANNEL_NAMES } from "./dom.js";
import { customerLabel } from "./list.js";
import { Composer } from "./composer.js";
import { t } from "./i18n.js";

const FIELD_LABELS = [
  ["models", t("Machine")],
  ["serials", t("Serial")],
  ["fault_codes", t("Fault code")],
  ["firmware", t("Firmware")],
  ["phones", t("Phone")],
];

const OUTCOMES = [
  ["reached", t("Reached")],
  ["no_answer", t("No answer")],
  ["voicemail", t("Voicemail")],
  ["wrong_number", t("Wrong number")],
  ["done", t("Done")],
];

/** What Meta told us of a WhatsApp customer: username, number, business-scoped id. */
function whatsappIdentity(w) {
  const parts = [];
  if (w.username) parts.push(w.username);
  if (w.phone && !("" + w.phone).startsWith("+")) parts.push("+" + w.phone);
  if (w.bsuid) parts.push("id " + w.bsuid);
  if (w.marketing_opt_out) parts.push(t("no marketing"));
  return parts.length ? " · " + parts.join(" · ") : "";
}

export class ConversationView {
  constructor(container, ctx) {
    this.container = container;
    this.ctx = ctx; // { me, agents(), queues(), canned(), onChanged(), onCustomer(), onMachine(), onSearch() }
    this.id = null;
    this.data = null;
    this.composer = null;
    this.loading = null;
    this.reports = null;
    // Set when this agent resolved the conversation: the header offers the report.
    this.offerReport = false;
    // Translated messages the agent asked to see in the original.
    this.originals = new Set();
  }

  async openReport() {
    if (this.id == null) return;
    // The report editor's module is loaded the first time it is needed.
    if (!this.reports) {
      const { ReportEditor } = await import("./report.js");
      this.reports = this.reports || new ReportEditor();
    }
    this.offerReport = false;
    this.reports.open(this.id);
  }

  clear() {
    this.id = null;
    this.data = null;
    this.composer = null;
    clear(this.container).append(h("p", { class: "empty" }, t("Pick a conversation, or press j.")));
  }

  async show(id) {
    if (this.id !== id) {
      this.id = id;
      this.offerReport = false;
      this.data = null;
      this.composer = null;
      clear(this.container).append(h("p", { class: "empty" }, t("Loading…")));
    }
    await this.refresh();
  }

  async refresh() {
    const id = this.id;
    if (id == null) return;
    let data;
    try {
      data = await api.get("/api/v1/conversations/" + id);
    } catch (e) {
      if (e.status === 404) {
        clear(this.container).append(h("p", { class: "empty" }, t("This conversation does not exist.")));
        return;
      }
      if (e.status !== 401) toast(e.message, "error");
      return;
    }
    if (id !== this.id) return; // another one was opened meanwhile
    this.data = data;
    this.render();
  }

  render() {
    const d = this.data;
    const c = d.conversation;
    if (!this.composer) {
      this.composer = new Composer({ me: this.ctx.me, canned: this.ctx.canned, onSent: () => this.afterChange() });
      this.header = h("header", { class: "conv-head" });
      this.timeline = h("div", { class: "timeline", role: "log", "aria-label": t("Messages") });
      this.side = h("aside", { class: "side", "aria-label": t("Details") });
      clear(this.container).append(
        this.header,
        h("div", { class: "conv-body" },
          h("div", { class: "thread" }, this.timeline, this.composer.element),
          this.side)
      );
      this.stickToBottom = true;
    }
    this.container.dataset.id = c.id;
    this.renderHeader(d);
    this.renderTimeline(d);
    this.renderSide(d);
    this.composer.update(d);
  }

  renderHeader(d) {
    const c = d.conversation;
    const me = this.ctx.me;
    const mine = c.assignee_id === me.id;
    const other = c.assignee_id != null && !mine;
    const open = c.status !== "resolved";
    const agents = this.ctx.agents();
    const queues = this.ctx.queues();

    const assignSelect = h("select", { "aria-label": t("Assign to"), class: "assign", onchange: (e) => {
      const v = e.target.value;
      e.target.value = "";
      if (v) this.act("assign", { agent_id: Number(v) });
    } }, h("option", { value: "" }, t("Assign to…")),
    agents.filter((a) => a.id !== c.assignee_id).map((a) =>
      h("option", { value: a.id }, a.display_name + (a.presence && a.presence !== "online" ? " (" + a.presence + ")" : ""))));

    const transferSelect = h("select", { "aria-label": t("Transfer to queue"), class: "transfer", onchange: (e) => {
      const v = e.target.value;
      e.target.value = "";
      if (v) this.act("transfer", { queue: v });
    } }, h("option", { value: "" }, t("Transfer to…")),
    queues.filter((q) => q.name !== c.queue).map((q) => h("option", { value: q.name }, q.name)));

    // What does not apply is null: left out, not written as "null".
    clear(this.header).append(...[
      h("div", { class: "conv-title" },
        icon(c.channel, CHANNEL_NAMES[c.channel] || c.channel),
        h("h2", {}, c.subject || customerLabel(c)),
        h("span", { class: "ticket" }, d.ticket),
        priorityBadge(c.priority),
        slaBadge(d.sla && d.sla.state, slaRemaining(d.sla)),
        c.status === "resolved" ? h("span", { class: "badge resolved" }, "resolved") : null,
        c.legal_hold ? h("span", { class: "badge legal-hold", title: c.legal_hold }, t("legal hold")) : null),
      h("div", { class: "conv-who" },
        h("button", { type: "button", class: "link customer-link", title: t("Everything this customer sent, on every channel"),
          onclick: () => this.ctx.onCustomer(c.customer_address) }, h("b", {}, customerLabel(c))),
        c.customer_company ? " · " + c.customer_company : "",
        " · " + (CHANNEL_NAMES[c.channel] || c.channel) + " " + c.customer_address,
        d.whatsapp && d.whatsapp.customer ? whatsappIdentity(d.whatsapp.customer) : "",
        t(" · queue ") + c.queue),
      h("div", { class: "actions" },
        h("span", { class: "assigned" + (other ? " other" : "") },
          c.assignee_id == null ? t("Unassigned") : mine ? t("Claimed by you") : t("Claimed by ") + (c.assignee_name || t("agent ") + c.assignee_id)),
        !mine && open
          ? h("button", { type: "button", class: "claim", title: t("Claim (c)"), onclick: () => this.claim() }, other ? t("Take over") : t("Claim"))
          : null,
        mine && open ? h("button", { type: "button", class: "ghost", onclick: () => this.act("unassign") }, t("Release")) : null,
        open && me.role !== "agent" ? assignSelect : null,
        open ? transferSelect : null,
        open ? h("button", { type: "button", class: "ghost escalate-callback", onclick: () => this.escalate("callback") }, icon("phone", "callback"), t("Callback")) : null,
        open ? h("button", { type: "button", class: "ghost escalate-visio", onclick: () => this.escalate("visio") }, icon("video", "video"), t("Video")) : null,
        h("button", { type: "button", class: "ghost report-open", title: t("Intervention report"), onclick: () => this.openReport() }, t("Report")),
        open
          ? h("button", { type: "button", class: "resolve", title: t("Resolve (e)"), onclick: () => this.act("resolve") }, t("Resolve"))
          : h("button", { type: "button", class: "reopen", title: t("Reopen (e)"), onclick: () => this.act("reopen") }, t("Reopen"))),
      c.erased_at
        ? h("p", { class: "erased-banner" }, t("The customer's data was erased ") + clock(c.erased_at) +
          t(". What stays counts in the reports; nothing can be sent or reopened."))
        : null,
      c.legal_hold
        ? h("p", { class: "legal-hold-banner" }, t("Legal hold: ") + c.legal_hold + t(". No erasure, by request or by retention, until it is released."))
        : null,
      me.role === "admin" && !c.erased_at
        ? h("p", { class: "hold-actions" }, c.legal_hold
          ? h("button", { type: "button", class: "ghost release-hold", onclick: () => this.hold(null) }, t("Release the legal hold"))
          : h("button", { type: "button", class: "ghost place-hold", title: t("A dispute or a claim: keep this conversation from any erasure"),
            onclick: () => {
              const reason = prompt(t("Why is this conversation held (a dispute, a claim number)?"));
              if (reason && reason.trim()) this.hold(reason.trim());
            } }, t("Legal hold…")))
        : null,
      !open && this.offerReport
        ? h("p", { class: "offer-report" }, t("Resolved. Leave a record the customer and the next expert can read: "),
          h("button", { type: "button", class: "write-report", onclick: () => this.openReport() }, t("Write the intervention report")))
        : null
    ].filter((part) => part));
  }

  renderTimeline(d) {
    const tl = this.timeline;
    const nearBottom = tl.scrollHeight - tl.scrollTop - tl.clientHeight < 80;
    const byMessage = new Map();
    for (const a of d.attachments || []) {
      if (!byMessage.has(a.message_id)) byMessage.set(a.message_id, []);
      byMessage.get(a.message_id).push(a);
    }
    const reactions = new Map((d.reactions || []).map((r) => [r.target_external_id, r]));
    // What the agent opened (quoted text, earlier versions, their own words)
    // stays open through the re-render a live event causes.
    const key = (details) => (details.closest("article.msg") || { dataset: {} }).dataset.id + " " + details.className;
    const opened = new Set([...tl.querySelectorAll("details[open]")].map(key));
    clear(tl);
    for (const m of d.messages) {
      tl.append(this.message(d, m, byMessage.get(m.id) || [], m.external_id ? reactions.get(m.external_id) : null));
    }
    for (const details of tl.querySelectorAll("details")) if (opened.has(key(details))) details.open = true;
    if (nearBottom || this.stickToBottom) {
      tl.scrollTop = tl.scrollHeight;
      this.stickToBottom = false;
    }
  }

  message(d, m, files, reaction) {
    const c = d.conversation;
    const kind = m.direction === "note" ? "note" : m.direction === "in" ? "in" : m.author_kind === "system" ? "system" : "out";
    const author = m.direction === "in"
      ? customerLabel(c)
      : m.direction === "note" ? (m.author_name || t("Agent")) + t(" · private note")
      : m.author_kind === "system" ? t("Switchyard (automatic)") : m.author_name || t("Agent");
    const htmlMail = m.html && m.direction === "in";
    return h("article", { class: "msg " + kind, dataset: { id: m.id, direction: m.direction } },
      h("header", {},
        h("span", { class: "author" }, author),
        icon(m.channel, CHANNEL_NAMES[m.channel] || m.channel),
        h("time", { datetime: new Date(m.created_at).toISOString() }, clock(m.created_at)),
        m.auto ? h("span", { class: "badge auto" }, m.auto.replace("_", " ")) : null,
        m.thread_reason && m.thread_reason.includes("low") ? h("span", { class: "badge warn", title: t("Joined by subject only") }, t("threaded by subject")) : null,
        m.direction === "out" ? delivery(m) : null,
        reaction ? h("span", { class: "reaction", title: t("customer's reaction") }, reaction.emoji) : null,
        m.edited_at ? h("button", { type: "button", class: "badge edited", title: t("Show the earlier versions"),
          onclick: () => this.showVersions(c.id, m.id) }, "edited") : null,
        m.deleted_at ? h("span", { class: "badge deleted" }, t("deleted by the customer")) : null,
        m.channel === "email" && m.direction === "in"
          ? h("a", { class: "raw", href: `/api/v1/conversations/${c.id}/messages/${m.id}/raw`, download: "" }, t("raw"))
          : null),
      this.body(d, m, htmlMail),
      m.quoted ? h("details", { class: "quoted" }, h("summary", {}, t("quoted text")), h("pre", {}, m.quoted)) : null,
      files.length ? h("div", { class: "files" }, files.map((a) => attachment(c.id, a))) : null);
  }

  // A customer message in another language: its translation first, the
  // original one click away (the record keeps both); or why it has none yet.
  body(d, m, htmlMail) {
    const original = htmlMail ? mailFrame(d.conversation.id, m) : h("div", { class: "text" }, m.body);
    const tr = d.translation;
    const agentWords = tr && m.direction === "out" ? (tr.messages || []).find((x) => x.message_id === m.id && x.provider === "agent") : null;
    if (agentWords) {
      return h("div", {}, original, h("details", { class: "agent-original" },
        h("summary", {}, t("written in ") + agentWords.language), h("div", { class: "text" }, agentWords.text)));
    }
    if (!tr || !tr.needed || m.direction !== "in" || !m.body) return original;
    // The translation into this agent's language (others may read another).
    const done = (tr.messages || []).find((x) => x.message_id === m.id && x.language === tr.target && x.provider !== "agent");
    if (done && done.text) {
      const shown = h("div", { class: "text translated", dataset: { language: done.language } }, done.text);
      const toggle = h("button", { type: "button", class: "link toggle-original" });
      // The agent's choice outlives the re-render every live event causes.
      const show = (originalShown) => {
        original.hidden = !originalShown;
        shown.hidden = originalShown;
        toggle.textContent = originalShown ? t("translation") : t("original");
      };
      show(this.originals.has(m.id));
      toggle.addEventListener("click", () => {
        if (this.originals.has(m.id)) this.originals.delete(m.id);
        else this.originals.add(m.id);
        show(this.originals.has(m.id));
      });
      return h("div", { class: "translation" }, shown, original,
        h("p", { class: "muted small" }, t("Translated (") + (d.conversation.language || "?") + " → " + done.language + ", " + done.provider + ") · ", toggle));
    }
    const why = done && done.error ? t("translation refused: ") + done.error
      : tr.state === "unavailable" ? t("translation unavailable, retrying") : t("translating…");
    return h("div", {}, original, h("p", { class: "muted small translation-state", dataset: { state: done ? "refused" : tr.state } }, why));
  }

  renderSide(d) {
    const c = d.conversation;
    const v = d.verdict;
    const side = clear(this.side);

    const triage = h("section", { class: "triage" }, h("h3", {}, t("Triage")));
    if (v) {
      triage.append(h("p", {}, priorityBadge(v.priority), t(" → queue "), h("b", {}, v.queue),
        v.escalation && v.escalation !== "none" ? t(" · escalation ") + v.escalation : ""));
      const rules = h("ul", { class: "rules" });
      for (const r of v.rules || []) {
        const words = (r.spans || []).map((s) => h("mark", { title: s.field }, s.text));
        rules.append(h("li", { dataset: { rule: r.rule } },
          h("code", {}, r.rule), " ", h("span", { class: "muted" }, r.priority),
          words.length ? h("div", { class: "words" }, t("on "), words) : null));
      }
      if (!(v.rules || []).length) rules.append(h("li", { class: "muted" }, t("no rule matched: default queue")));
      triage.append(rules);
      if (v.faq) {
        triage.append(h("div", { class: "faq" },
          h("p", {}, t("Knowledge base: "), h("b", {}, v.faq.title || v.faq.id), v.faq.auto_send ? t(" (sent automatically)") : t(" (to check before sending)")),
          v.faq.auto_send ? null : h("button", { type: "button", class: "ghost", onclick: () => this.composer.insert(v.faq.answer) }, t("Use the suggested answer"))));
      }
    } else {
      triage.append(h("p", { class: "muted" }, t("Not triaged.")));
    }
    side.append(triage);

    const f = (v && v.fields) || {};
    const facts = h("dl", { class: "fields" });
    for (const [key, label] of FIELD_LABELS) {
      const values = [...(f[key] || [])];
      if (key === "serials" && c.machine_serial && !values.includes(c.machine_serial)) values.push(c.machine_serial);
      // A serial opens the machine's history; a code searches every conversation that has it.
      const go = key === "serials" ? (v) => this.ctx.onMachine(v) : key === "fault_codes" ? (v) => this.ctx.onSearch(v) : null;
      const shown = !values.length ? "—"
        : go ? values.map((v, i) => [i ? ", " : "", h("button", { type: "button", class: "link", dataset: { value: v }, onclick: () => go(v) }, v)])
          : values.join(", ");
      facts.append(h("dt", {}, label), h("dd", { dataset: { field: key } }, shown));
    }
    facts.append(h("dt", {}, t("Impact")), h("dd", { dataset: { field: "impact" } }, f.impact || "—"));
    facts.append(h("dt", {}, t("Photos")), h("dd", { dataset: { field: "photos" } }, String(f.photos || 0) + (f.documents ? " · " + f.documents + t(" documents") : "")));
    const q = d.qualification;
    const FACT_NAMES = { machine: "machine", serial: t("serial"), fault_code: t("fault code"), impact: "impact", photo: "photo", callback_number: t("callback number") };
    const level1 = q ? h("p", { class: "level1", dataset: { asked: q.asked || "", stopped: q.stopped || "" } },
      t("Level 1: "),
      q.asked ? t("asked for the ") + FACT_NAMES[q.asked] + "; " : "",
      t("known: ") + (q.known.map((f) => FACT_NAMES[f]).join(", ") || t("nothing yet")),
      q.stopped ? t(" — stopped (") + { complete: t("everything known"), agent: t("an agent answered"), unanswered: t("questions unanswered") }[q.stopped] + ")" : "") : null;
    side.append(h("section", {}, h("h3", {}, t("Facts")), facts, level1,
      v && v.ask_for && v.ask_for.length ? h("p", { class: "missing" }, t("Asked the customer for: ") + v.ask_for.map((x) => x.replace("_", " ")).join(", ")) : null));

    // What the customer said of a knowledge answer, and of the help they got.
    const fb = d.feedback || {};
    if (fb.knowledge || fb.satisfaction) {
      const k = fb.knowledge;
      const s = fb.satisfaction;
      const now = Date.now();
      const verdict = !k ? null
        : k.outcome === "solved" ? t("solved it (self-service)")
          : k.outcome === "not_solved" ? t("did not help: a person takes over")
            : k.hold_until > now ? t("waiting for the customer's answer until ") + clock(k.hold_until)
              : t("no answer: waiting for a human check");
      side.append(h("section", { class: "feedback" }, h("h3", {}, t("Feedback")),
        k ? h("p", { class: "knowledge-check", dataset: { outcome: k.outcome || "" } }, t("Knowledge answer “") + k.entry + "”: " + verdict) : null,
        s ? h("p", { class: "satisfaction", dataset: { rating: s.rating || "" } },
          s.rating ? t("Satisfaction: ") + (s.rating === "good" ? t("👍 satisfied") : t("👎 not satisfied")) +
            " (" + (s.answered_via || "") + ")" + (s.comment ? " — “" + s.comment + "”" : "")
            : t("Satisfaction asked, no answer yet")) : null));
    }

    if (d.sla && d.sla.timers && d.sla.timers.length) {
      side.append(h("section", {}, h("h3", {}, t("Service level")),
        h("ul", { class: "timers" }, d.sla.timers.map((timer) => h("li", {},
          t(timer.kind.replaceAll("_", " ")) + ": " + t(timer.state) +
          (timer.state === "running" && timer.due_at ? t(" · due ") + clock(timer.due_at) : "") +
          (timer.remaining_ms != null && timer.state !== "met" ? " · " + duration(timer.remaining_ms) + t(" left") : ""))))));
    }

    if (d.participants && d.participants.length) {
      side.append(h("section", { class: "participants" }, h("h3", {}, t("On the thread")),
        h("ul", {}, d.participants.map((p) => h("li", { class: p.active ? "" : "inactive" },
          (p.name ? p.name + " " : "") + "<" + p.address + "> ", h("span", { class: "muted" }, p.role))))));
    }

    const calls = d.calls || [];
    if ((d.escalations && d.escalations.length) || calls.length) {
      side.append(h("section", { class: "escalations" }, h("h3", {}, t("Escalations")),
        h("ul", {}, (d.escalations || []).map((e) => this.escalation(e)), calls.map((c) => call(c)))));
    }
  }

  escalation(e) {
    const outcome = e.kind === "callback" && e.status === "open"
      ? h("select", { "aria-label": t("Callback outcome"), onchange: async (ev) => {
        const value = ev.target.value;
        if (!value) return;
        try {
          await api.post(`/api/v1/escalations/${e.id}/outcome`, { outcome: value });
          this.afterChange();
        } catch (err) { toast(err.message, "error"); }
      } }, h("option", { value: "" }, t("Outcome…")), OUTCOMES.map(([v, l]) => h("option", { value: v }, l)))
      : null;
    return h("li", { dataset: { kind: e.kind } },
      icon(e.kind === "visio" ? "video" : "phone", e.kind), " ", e.kind, " · ", e.status,
      e.phone ? h("div", {}, h("a", { href: "tel:" + e.phone }, e.phone), e.preferred_slot ? " · " + e.preferred_slot : "") : null,
      e.room_url ? h("div", {}, h("a", { href: e.room_url, target: "_blank", rel: "noopener" }, t("video room"))) : null,
      e.outcome ? h("div", { class: "muted" }, t("outcome: ") + e.outcome.replace("_", " ")) : null,
      outcome);
  }

  async claim() {
    const c = this.data && this.data.conversation;
    if (!c) return;
    const me = this.ctx.me;
    if (c.assignee_id === me.id) return;
    if (c.assignee_id == null) {
      await this.act("claim");
    } else if (confirm(t("Take this conversation over from ") + (c.assignee_name || t("another agent")) + "?")) {
      // A claim never takes from someone else (409); assigning to oneself does, on purpose.
      await this.act("assign", { agent_id: me.id });
    }
  }

  async escalate(kind) {
    const body = { kind };
    if (kind === "callback") {
      const c = this.data.conversation;
      const known = c.customer_phone || ((this.data.verdict && this.data.verdict.fields.phones) || [])[0];
      if (!known && c.channel !== "whatsapp") {
        const phone = prompt(t("Number to call back (empty: the task opens without one)"), "");
        if (phone === null) return;
        body.phone = phone.trim();
      }
    }
    try {
      await api.post(`/api/v1/conversations/${this.id}/escalate`, body);
      toast(kind === "visio" ? t("Video room opened; the link goes to the customer") : t("Callback task opened"));
      this.afterChange();
    } catch (e) { toast(e.message, "error"); }
  }

  async showVersions(conversation, message) {
    try {
      const v = await api.get(`/api/v1/conversations/${conversation}/messages/${message}/versions`);
      const lines = (v.versions || []).map((x) => clock(x.replaced_at) + " — " + x.body);
      toast(t("Before the edit: ") + (lines.join(" · ") || t("(none kept)")));
    } catch (e) {
      if (e.status !== 401) toast(e.message, "error");
    }
  }

  async act(action, body) {
    if (this.id == null) return;
    try {
      await api.post(`/api/v1/conversations/${this.id}/${action}`, body);
      if (action === "resolve") this.offerReport = true;
      this.afterChange();
    } catch (e) {
      if (e.status !== 401) toast(e.message, "error");
    }
  }

  // Admins: a reason places the hold, null releases it.
  async hold(reason) {
    if (this.id == null) return;
    const path = `/api/v1/conversations/${this.id}/legal-hold`;
    try {
      if (reason == null) await api.del(path);
      else await api.put(path, { reason });
      this.refresh();
    } catch (e) {
      if (e.status !== 401) toast(e.message, "error");
    }
  }

  afterChange() {
    this.refresh();
    this.ctx.onChanged();
  }
}

/** A WhatsApp call with the customer, beside the escalations. */
function call(c) {
  const who = c.direction === "to_customer" ? t("call to the customer") : t("call from the customer");
  const length = c.duration_secs != null ? " · " + Math.floor(c.duration_secs / 60) + " min " + (c.duration_secs % 60) + " s" : "";
  return h("li", { class: "call", dataset: { kind: "call", status: c.status } },
    icon("whatsapp", t("WhatsApp")), " WhatsApp " + who + " · " + c.status + length,
    h("div", { class: "muted" }, clock(c.started_at)));
}

function slaRemaining(sla) {
  if (!sla || !sla.timers) return "";
  const running = sla.timers.filter((timer) => timer.state === "running" && timer.remaining_ms != null);
  if (!running.length) return "";
  return duration(Math.min(...running.map((timer) => timer.remaining_ms))) + t(" left");
}

function delivery(m) {
  const status = m.delivery_status || "pending";
  return h("span", { class: "delivery d-" + status, title: m.delivery_error || status }, status === "failed" ? t("failed: ") + (m.delivery_error || "") : t(status));
}

function mailFrame(conversationId, m) {
  // No allow-scripts: nothing in the mail runs, whatever got past sanitising.
  const frame = h("iframe", {
    class: "mail-frame",
    title: t("Email as sent (sanitised)"),
    sandbox: "allow-same-origin allow-popups allow-popups-to-escape-sandbox",
    referrerpolicy: "no-referrer",
    src: `/api/v1/conversations/${conversationId}/messages/${m.id}/html`,
  });
  frame.addEventListener("load", () => {
    try {
      const doc = frame.contentDocument;
      if (doc && doc.documentElement) frame.style.height = Math.min(700, doc.documentElement.scrollHeight + 4) + "px";
    } catch (e) { /* cross-origin: keep the default height */ }
  });
  return frame;
}

function attachment(conversationId, a) {
  const url = `/api/v1/conversations/${conversationId}/attachments/${a.id}`;
  const name = a.name || "file";
  if (a.download_status && a.download_status !== "done") {
    return h("div", { class: "file pending" }, name + " — " + (a.download_status === "failed" ? t("download failed: ") + (a.download_error || "") : t("downloading…")));
  }
  const type = a.content_type || "";
  if (type.startsWith("image/")) {
    return h("a", { class: "file image", href: url, target: "_blank", rel: "noopener", title: name + t(" — open full size") },
      h("img", { src: url, alt: name, loading: "lazy" }));
  }
  if (type.startsWith("audio/")) {
    return h("div", { class: "file audio" }, h("audio", { controls: true, preload: "none", src: url }), h("a", { href: url, download: name }, name));
  }
  if (type.startsWith("video/")) {
    return h("div", { class: "file video" }, h("video", { controls: true, preload: "metadata", src: url }));
  }
  return h("a", { class: "file doc", href: url, download: name }, name + (a.size ? " (" + bytes(a.size) + ")" : ""));
}
