// The right-hand side: one conversation with every message of every channel
// in order, its attachments, the triage explanation and extracted facts, and
// the actions (claim, assign, transfer, escalate, resolve). The reply box is
// kept across live refreshes so a draft and its focus survive new messages.

import { api } from "./api.js";
import { h, clear, icon, clock, duration, bytes, priorityBadge, slaBadge, toast, CHANNEL_NAMES } from "./dom.js";
import { customerLabel } from "./list.js";
import { Composer } from "./composer.js";
import { ReportEditor } from "./report.js";

const FIELD_LABELS = [
  ["models", "Machine"],
  ["serials", "Serial"],
  ["fault_codes", "Fault code"],
  ["firmware", "Firmware"],
  ["phones", "Phone"],
];

const OUTCOMES = [
  ["reached", "Reached"],
  ["no_answer", "No answer"],
  ["voicemail", "Voicemail"],
  ["wrong_number", "Wrong number"],
  ["done", "Done"],
];

/** What Meta told us of a WhatsApp customer: username, number, business-scoped id. */
function whatsappIdentity(w) {
  const parts = [];
  if (w.username) parts.push(w.username);
  if (w.phone && !("" + w.phone).startsWith("+")) parts.push("+" + w.phone);
  if (w.bsuid) parts.push("id " + w.bsuid);
  if (w.marketing_opt_out) parts.push("no marketing");
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
  }

  openReport() {
    if (this.id == null) return;
    this.reports = this.reports || new ReportEditor();
    this.offerReport = false;
    this.reports.open(this.id);
  }

  clear() {
    this.id = null;
    this.data = null;
    this.composer = null;
    clear(this.container).append(h("p", { class: "empty" }, "Pick a conversation, or press j."));
  }

  async show(id) {
    if (this.id !== id) {
      this.id = id;
      this.offerReport = false;
      this.data = null;
      this.composer = null;
      clear(this.container).append(h("p", { class: "empty" }, "Loading…"));
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
        clear(this.container).append(h("p", { class: "empty" }, "This conversation does not exist."));
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
      this.timeline = h("div", { class: "timeline", role: "log", "aria-label": "Messages" });
      this.side = h("aside", { class: "side", "aria-label": "Details" });
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

    const assignSelect = h("select", { "aria-label": "Assign to", class: "assign", onchange: (e) => {
      const v = e.target.value;
      e.target.value = "";
      if (v) this.act("assign", { agent_id: Number(v) });
    } }, h("option", { value: "" }, "Assign to…"),
    agents.filter((a) => a.id !== c.assignee_id).map((a) =>
      h("option", { value: a.id }, a.display_name + (a.presence && a.presence !== "online" ? " (" + a.presence + ")" : ""))));

    const transferSelect = h("select", { "aria-label": "Transfer to queue", class: "transfer", onchange: (e) => {
      const v = e.target.value;
      e.target.value = "";
      if (v) this.act("transfer", { queue: v });
    } }, h("option", { value: "" }, "Transfer to…"),
    queues.filter((q) => q.name !== c.queue).map((q) => h("option", { value: q.name }, q.name)));

    clear(this.header).append(
      h("div", { class: "conv-title" },
        icon(c.channel, CHANNEL_NAMES[c.channel] || c.channel),
        h("h2", {}, c.subject || customerLabel(c)),
        h("span", { class: "ticket" }, d.ticket),
        priorityBadge(c.priority),
        slaBadge(d.sla && d.sla.state, slaRemaining(d.sla)),
        c.status === "resolved" ? h("span", { class: "badge resolved" }, "resolved") : null,
        c.legal_hold ? h("span", { class: "badge legal-hold", title: c.legal_hold }, "legal hold") : null),
      h("div", { class: "conv-who" },
        h("button", { type: "button", class: "link customer-link", title: "Everything this customer sent, on every channel",
          onclick: () => this.ctx.onCustomer(c.customer_address) }, h("b", {}, customerLabel(c))),
        c.customer_company ? " · " + c.customer_company : "",
        " · " + (CHANNEL_NAMES[c.channel] || c.channel) + " " + c.customer_address,
        d.whatsapp && d.whatsapp.customer ? whatsappIdentity(d.whatsapp.customer) : "",
        " · queue " + c.queue),
      h("div", { class: "actions" },
        h("span", { class: "assigned" + (other ? " other" : "") },
          c.assignee_id == null ? "Unassigned" : mine ? "Claimed by you" : "Claimed by " + (c.assignee_name || "agent " + c.assignee_id)),
        !mine && open
          ? h("button", { type: "button", class: "claim", title: "Claim (c)", onclick: () => this.claim() }, other ? "Take over" : "Claim")
          : null,
        mine && open ? h("button", { type: "button", class: "ghost", onclick: () => this.act("unassign") }, "Release") : null,
        open && me.role !== "agent" ? assignSelect : null,
        open ? transferSelect : null,
        open ? h("button", { type: "button", class: "ghost escalate-callback", onclick: () => this.escalate("callback") }, icon("phone", "callback"), "Callback") : null,
        open ? h("button", { type: "button", class: "ghost escalate-visio", onclick: () => this.escalate("visio") }, icon("video", "video"), "Video") : null,
        h("button", { type: "button", class: "ghost report-open", title: "Intervention report", onclick: () => this.openReport() }, "Report"),
        open
          ? h("button", { type: "button", class: "resolve", title: "Resolve (e)", onclick: () => this.act("resolve") }, "Resolve")
          : h("button", { type: "button", class: "reopen", title: "Reopen (e)", onclick: () => this.act("reopen") }, "Reopen")),
      c.erased_at
        ? h("p", { class: "erased-banner" }, "The customer's data was erased " + clock(c.erased_at) +
          ". What stays counts in the reports; nothing can be sent or reopened.")
        : null,
      c.legal_hold
        ? h("p", { class: "legal-hold-banner" }, "Legal hold: " + c.legal_hold + ". No erasure, by request or by retention, until it is released.")
        : null,
      me.role === "admin" && !c.erased_at
        ? h("p", { class: "hold-actions" }, c.legal_hold
          ? h("button", { type: "button", class: "ghost release-hold", onclick: () => this.hold(null) }, "Release the legal hold")
          : h("button", { type: "button", class: "ghost place-hold", title: "A dispute or a claim: keep this conversation from any erasure",
            onclick: () => {
              const reason = prompt("Why is this conversation held (a dispute, a claim number)?");
              if (reason && reason.trim()) this.hold(reason.trim());
            } }, "Legal hold…"))
        : null,
      !open && this.offerReport
        ? h("p", { class: "offer-report" }, "Resolved. Leave a record the customer and the next expert can read: ",
          h("button", { type: "button", class: "write-report", onclick: () => this.openReport() }, "Write the intervention report"))
        : null
    );
  }

  renderTimeline(d) {
    const t = this.timeline;
    const nearBottom = t.scrollHeight - t.scrollTop - t.clientHeight < 80;
    const byMessage = new Map();
    for (const a of d.attachments || []) {
      if (!byMessage.has(a.message_id)) byMessage.set(a.message_id, []);
      byMessage.get(a.message_id).push(a);
    }
    const reactions = new Map((d.reactions || []).map((r) => [r.target_external_id, r]));
    clear(t);
    for (const m of d.messages) {
      t.append(this.message(d, m, byMessage.get(m.id) || [], m.external_id ? reactions.get(m.external_id) : null));
    }
    if (nearBottom || this.stickToBottom) {
      t.scrollTop = t.scrollHeight;
      this.stickToBottom = false;
    }
  }

  message(d, m, files, reaction) {
    const c = d.conversation;
    const kind = m.direction === "note" ? "note" : m.direction === "in" ? "in" : m.author_kind === "system" ? "system" : "out";
    const author = m.direction === "in"
      ? customerLabel(c)
      : m.direction === "note" ? (m.author_name || "Agent") + " · private note"
      : m.author_kind === "system" ? "Switchyard (automatic)" : m.author_name || "Agent";
    const htmlMail = m.html && m.direction === "in";
    return h("article", { class: "msg " + kind, dataset: { id: m.id, direction: m.direction } },
      h("header", {},
        h("span", { class: "author" }, author),
        icon(m.channel, CHANNEL_NAMES[m.channel] || m.channel),
        h("time", { datetime: new Date(m.created_at).toISOString() }, clock(m.created_at)),
        m.auto ? h("span", { class: "badge auto" }, m.auto.replace("_", " ")) : null,
        m.thread_reason && m.thread_reason.includes("low") ? h("span", { class: "badge warn", title: "Joined by subject only" }, "threaded by subject") : null,
        m.direction === "out" ? delivery(m) : null,
        reaction ? h("span", { class: "reaction", title: "customer's reaction" }, reaction.emoji) : null,
        m.edited_at ? h("button", { type: "button", class: "badge edited", title: "Show the earlier versions",
          onclick: () => this.showVersions(c.id, m.id) }, "edited") : null,
        m.deleted_at ? h("span", { class: "badge deleted" }, "deleted by the customer") : null,
        m.channel === "email" && m.direction === "in"
          ? h("a", { class: "raw", href: `/api/v1/conversations/${c.id}/messages/${m.id}/raw`, download: "" }, "raw")
          : null),
      this.body(d, m, htmlMail),
      m.quoted ? h("details", { class: "quoted" }, h("summary", {}, "quoted text"), h("pre", {}, m.quoted)) : null,
      files.length ? h("div", { class: "files" }, files.map((a) => attachment(c.id, a))) : null);
  }

  // A customer message in another language: its translation first, the
  // original one click away (the record keeps both); or why it has none yet.
  body(d, m, htmlMail) {
    const original = htmlMail ? mailFrame(d.conversation.id, m) : h("div", { class: "text" }, m.body);
    const t = d.translation;
    const agentWords = t && m.direction === "out" ? (t.messages || []).find((x) => x.message_id === m.id && x.provider === "agent") : null;
    if (agentWords) {
      return h("div", {}, original, h("details", { class: "agent-original" },
        h("summary", {}, "written in " + agentWords.language), h("div", { class: "text" }, agentWords.text)));
    }
    if (!t || !t.needed || m.direction !== "in" || !m.body) return original;
    const done = (t.messages || []).find((x) => x.message_id === m.id);
    if (done && done.text) {
      const shown = h("div", { class: "text translated", dataset: { language: done.language } }, done.text);
      original.hidden = true;
      const toggle = h("button", { type: "button", class: "link toggle-original" }, "original");
      toggle.addEventListener("click", () => {
        original.hidden = !original.hidden;
        shown.hidden = !original.hidden;
        toggle.textContent = original.hidden ? "original" : "translation";
      });
      return h("div", { class: "translation" }, shown, original,
        h("p", { class: "muted small" }, "Translated (" + (d.conversation.language || "?") + " → " + done.language + ", " + done.provider + ") · ", toggle));
    }
    const why = done && done.error ? "translation refused: " + done.error
      : t.state === "unavailable" ? "translation unavailable, retrying" : "translating…";
    return h("div", {}, original, h("p", { class: "muted small translation-state", dataset: { state: done ? "refused" : t.state } }, why));
  }

  renderSide(d) {
    const c = d.conversation;
    const v = d.verdict;
    const side = clear(this.side);

    const triage = h("section", { class: "triage" }, h("h3", {}, "Triage"));
    if (v) {
      triage.append(h("p", {}, priorityBadge(v.priority), " → queue ", h("b", {}, v.queue),
        v.escalation && v.escalation !== "none" ? " · escalation " + v.escalation : ""));
      const rules = h("ul", { class: "rules" });
      for (const r of v.rules || []) {
        const words = (r.spans || []).map((s) => h("mark", { title: s.field }, s.text));
        rules.append(h("li", { dataset: { rule: r.rule } },
          h("code", {}, r.rule), " ", h("span", { class: "muted" }, r.priority),
          words.length ? h("div", { class: "words" }, "on ", words) : null));
      }
      if (!(v.rules || []).length) rules.append(h("li", { class: "muted" }, "no rule matched: default queue"));
      triage.append(rules);
      if (v.faq) {
        triage.append(h("div", { class: "faq" },
          h("p", {}, "Knowledge base: ", h("b", {}, v.faq.title || v.faq.id), v.faq.auto_send ? " (sent automatically)" : " (to check before sending)"),
          v.faq.auto_send ? null : h("button", { type: "button", class: "ghost", onclick: () => this.composer.insert(v.faq.answer) }, "Use the suggested answer")));
      }
    } else {
      triage.append(h("p", { class: "muted" }, "Not triaged."));
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
    facts.append(h("dt", {}, "Impact"), h("dd", { dataset: { field: "impact" } }, f.impact || "—"));
    facts.append(h("dt", {}, "Photos"), h("dd", { dataset: { field: "photos" } }, String(f.photos || 0) + (f.documents ? " · " + f.documents + " documents" : "")));
    const q = d.qualification;
    const FACT_NAMES = { machine: "machine", serial: "serial", fault_code: "fault code", impact: "impact", photo: "photo", callback_number: "callback number" };
    const level1 = q ? h("p", { class: "level1", dataset: { asked: q.asked || "", stopped: q.stopped || "" } },
      "Level 1: ",
      q.asked ? "asked for the " + FACT_NAMES[q.asked] + "; " : "",
      "known: " + (q.known.map((f) => FACT_NAMES[f]).join(", ") || "nothing yet"),
      q.stopped ? " — stopped (" + { complete: "everything known", agent: "an agent answered", unanswered: "questions unanswered" }[q.stopped] + ")" : "") : null;
    side.append(h("section", {}, h("h3", {}, "Facts"), facts, level1,
      v && v.ask_for && v.ask_for.length ? h("p", { class: "missing" }, "Asked the customer for: " + v.ask_for.map((x) => x.replace("_", " ")).join(", ")) : null));

    // What the customer said of a knowledge answer, and of the help they got.
    const fb = d.feedback || {};
    if (fb.knowledge || fb.satisfaction) {
      const k = fb.knowledge;
      const s = fb.satisfaction;
      const now = Date.now();
      const verdict = !k ? null
        : k.outcome === "solved" ? "solved it (self-service)"
          : k.outcome === "not_solved" ? "did not help: a person takes over"
            : k.hold_until > now ? "waiting for the customer's answer until " + clock(k.hold_until)
              : "no answer: waiting for a human check";
      side.append(h("section", { class: "feedback" }, h("h3", {}, "Feedback"),
        k ? h("p", { class: "knowledge-check", dataset: { outcome: k.outcome || "" } }, "Knowledge answer “" + k.entry + "”: " + verdict) : null,
        s ? h("p", { class: "satisfaction", dataset: { rating: s.rating || "" } },
          s.rating ? "Satisfaction: " + (s.rating === "good" ? "👍 satisfied" : "👎 not satisfied") +
            " (" + (s.answered_via || "") + ")" + (s.comment ? " — “" + s.comment + "”" : "")
            : "Satisfaction asked, no answer yet") : null));
    }

    if (d.sla && d.sla.timers && d.sla.timers.length) {
      side.append(h("section", {}, h("h3", {}, "Service level"),
        h("ul", { class: "timers" }, d.sla.timers.map((t) => h("li", {},
          t.kind.replaceAll("_", " ") + ": " + t.state +
          (t.state === "running" && t.due_at ? " · due " + clock(t.due_at) : "") +
          (t.remaining_ms != null && t.state !== "met" ? " · " + duration(t.remaining_ms) + " left" : ""))))));
    }

    if (d.participants && d.participants.length) {
      side.append(h("section", { class: "participants" }, h("h3", {}, "On the thread"),
        h("ul", {}, d.participants.map((p) => h("li", { class: p.active ? "" : "inactive" },
          (p.name ? p.name + " " : "") + "<" + p.address + "> ", h("span", { class: "muted" }, p.role))))));
    }

    const calls = d.calls || [];
    if ((d.escalations && d.escalations.length) || calls.length) {
      side.append(h("section", { class: "escalations" }, h("h3", {}, "Escalations"),
        h("ul", {}, (d.escalations || []).map((e) => this.escalation(e)), calls.map((c) => call(c)))));
    }
  }

  escalation(e) {
    const outcome = e.kind === "callback" && e.status === "open"
      ? h("select", { "aria-label": "Callback outcome", onchange: async (ev) => {
        const value = ev.target.value;
        if (!value) return;
        try {
          await api.post(`/api/v1/escalations/${e.id}/outcome`, { outcome: value });
          this.afterChange();
        } catch (err) { toast(err.message, "error"); }
      } }, h("option", { value: "" }, "Outcome…"), OUTCOMES.map(([v, l]) => h("option", { value: v }, l)))
      : null;
    return h("li", { dataset: { kind: e.kind } },
      icon(e.kind === "visio" ? "video" : "phone", e.kind), " ", e.kind, " · ", e.status,
      e.phone ? h("div", {}, h("a", { href: "tel:" + e.phone }, e.phone), e.preferred_slot ? " · " + e.preferred_slot : "") : null,
      e.room_url ? h("div", {}, h("a", { href: e.room_url, target: "_blank", rel: "noopener" }, "video room")) : null,
      e.outcome ? h("div", { class: "muted" }, "outcome: " + e.outcome.replace("_", " ")) : null,
      outcome);
  }

  async claim() {
    const c = this.data && this.data.conversation;
    if (!c) return;
    const me = this.ctx.me;
    if (c.assignee_id === me.id) return;
    if (c.assignee_id == null) {
      await this.act("claim");
    } else if (confirm("Take this conversation over from " + (c.assignee_name || "another agent") + "?")) {
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
        const phone = prompt("Number to call back (empty: the task opens without one)", "");
        if (phone === null) return;
        body.phone = phone.trim();
      }
    }
    try {
      await api.post(`/api/v1/conversations/${this.id}/escalate`, body);
      toast(kind === "visio" ? "Video room opened; the link goes to the customer" : "Callback task opened");
      this.afterChange();
    } catch (e) { toast(e.message, "error"); }
  }

  async showVersions(conversation, message) {
    try {
      const v = await api.get(`/api/v1/conversations/${conversation}/messages/${message}/versions`);
      const lines = (v.versions || []).map((x) => clock(x.replaced_at) + " — " + x.body);
      toast("Before the edit: " + (lines.join(" · ") || "(none kept)"));
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
  const who = c.direction === "to_customer" ? "call to the customer" : "call from the customer";
  const length = c.duration_secs != null ? " · " + Math.floor(c.duration_secs / 60) + " min " + (c.duration_secs % 60) + " s" : "";
  return h("li", { class: "call", dataset: { kind: "call", status: c.status } },
    icon("whatsapp", "WhatsApp"), " WhatsApp " + who + " · " + c.status + length,
    h("div", { class: "muted" }, clock(c.started_at)));
}

function slaRemaining(sla) {
  if (!sla || !sla.timers) return "";
  const running = sla.timers.filter((t) => t.state === "running" && t.remaining_ms != null);
  if (!running.length) return "";
  return duration(Math.min(...running.map((t) => t.remaining_ms))) + " left";
}

function delivery(m) {
  const status = m.delivery_status || "pending";
  return h("span", { class: "delivery d-" + status, title: m.delivery_error || status }, status === "failed" ? "failed: " + (m.delivery_error || "") : status);
}

function mailFrame(conversationId, m) {
  // No allow-scripts: nothing in the mail runs, whatever got past sanitising.
  const frame = h("iframe", {
    class: "mail-frame",
    title: "Email as sent (sanitised)",
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
    return h("div", { class: "file pending" }, name + " — " + (a.download_status === "failed" ? "download failed: " + (a.download_error || "") : "downloading…"));
  }
  const type = a.content_type || "";
  if (type.startsWith("image/")) {
    return h("a", { class: "file image", href: url, target: "_blank", rel: "noopener", title: name + " — open full size" },
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
