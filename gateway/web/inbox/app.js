// The inbox: login, the three columns, live updates, keyboard shortcuts.
// The address bar keeps the view (#queue/critical, #mine, #c/42, #search/E301,
// #customer/…, #machine/…) so a reload or a new login comes back to the same place.

import { api, login, currentAgent, whenExpired } from "./api.js";
import { h, toast } from "./dom.js";
import { connectLive } from "./live.js";
import { renderQueues, sortQueues } from "./queues.js";
import { renderList } from "./list.js";
import { renderResults } from "./search.js";
import { t, follow, translatePage } from "./i18n.js";
// The conversation view, the customer and machine pages and the supervisors'
// pages are imported when first shown: the first load carries only the lists.

const $ = (id) => document.getElementById(id);

const state = {
  me: null,
  queues: [],
  agents: [],
  canned: [],
  conversations: [],
  mineCount: null,
  view: { kind: "queue", name: "critical" },
  status: "open",
  live: null,
  refreshTimer: null,
};

// The conversation view, once its module is loaded (`conversationView()`).
let conversation = null;
let conversationReady = null;
// The static page (login, header, shortcuts) in the inbox's language.
translatePage(document.body);
// Supervisors' pages that replace the three columns: name -> a function
// that loads the page's module and builds its view (once, in `pageViews`).
let pages = {};
let pageViews = {};

function conversationView() {
  conversationReady = conversationReady || import("./conversation.js").then(({ ConversationView }) => {
    conversation = new ConversationView($("conversation"), {
      me: state.me,
      agents: () => state.agents,
      queues: () => state.queues,
      canned: () => state.canned,
      onChanged: () => refreshLists(),
      onCustomer: openCustomer,
      onMachine: openMachine,
      onSearch: runSearch,
    });
    return conversation;
  });
  return conversationReady;
}

/** Shows conversation `id` unless another was opened while the view loaded. */
function showConversation(id) {
  return conversationView().then((view) => {
    if (state.openId === id) view.show(id);
  }).catch((e) => toast(e.message, "error"));
}

function pageView(name) {
  pageViews[name] = pageViews[name] || pages[name]();
  return pageViews[name];
}

// ---- session ----------------------------------------------------------------

function showLogin(notice) {
  $("app").hidden = true;
  $("login").hidden = false;
  $("login-notice").hidden = !notice;
  $("login-notice").textContent = notice || "";
  $("login-error").textContent = "";
  const user = $("login-form").elements.username;
  if (state.me && !user.value) user.value = state.me.username;
  (user.value ? $("login-form").elements.password : user).focus();
}

function sessionEnded() {
  if (!$("login").hidden) return;
  if (state.live) state.live.close();
  state.live = null;
  showLogin(t("Your session has expired. Sign in again: your draft is kept."));
}
whenExpired(sessionEnded);

$("login-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const form = e.target;
  const button = form.querySelector("button");
  button.disabled = true;
  $("login-error").textContent = "";
  try {
    const agent = await login(form.elements.username.value, form.elements.password.value);
    form.elements.password.value = "";
    await start(agent);
  } catch (err) {
    $("login-error").textContent =
      err.status === 401 ? t("Wrong username or password.") :
      err.status === 429 ? t("Too many attempts: wait a moment and try again.") :
      err.message;
    form.elements.password.select();
  } finally {
    button.disabled = false;
  }
});

$("logout").addEventListener("click", async () => {
  try { await api.post("/api/v1/auth/logout"); } catch (e) { /* gone already */ }
  if (state.live) state.live.close();
  state.live = null;
  state.me = null;
  showLogin(t("Signed out."));
});

// ---- password -----------------------------------------------------------------

function openPasswordDialog(required) {
  const form = $("password-form");
  form.reset();
  $("password-why").hidden = !required;
  // The one-time password opens nothing else: the dialog cannot be dismissed.
  $("password-cancel").hidden = required;
  $("password-error").textContent = "";
  if (!$("password-dialog").open) $("password-dialog").showModal();
}

$("me").addEventListener("click", () => openPasswordDialog(false));
$("password-cancel").addEventListener("click", () => $("password-dialog").close());
$("password-dialog").addEventListener("cancel", (e) => {
  if (state.me && state.me.must_change_password) e.preventDefault();
});
$("password-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const form = e.target;
  const error = $("password-error");
  if (form.elements.new.value !== form.elements.again.value) {
    error.textContent = t("The two new passwords differ.");
    return;
  }
  try {
    await api.post("/api/v1/auth/password", { current: form.elements.current.value, new: form.elements.new.value });
    $("password-dialog").close();
    const wasRequired = state.me && state.me.must_change_password;
    if (state.me) state.me.must_change_password = 0;
    toast(t("Password changed"));
    if (wasRequired) start(state.me);
  } catch (err) {
    error.textContent = err.message;
  }
});

// ---- start --------------------------------------------------------------------

async function start(agent) {
  // The agent's language, if they chose one, wins over the browser's (once: the page reloads).
  if (follow(agent.language)) return;
  state.me = agent;
  $("language").value = agent.language || "";
  $("login").hidden = true;
  $("app").hidden = false;
  $("me").textContent = agent.display_name;
  if (agent.must_change_password) {
    // Until the one-time password is replaced the API answers nothing else.
    openPasswordDialog(true);
    return;
  }
  // A new agent (after a logout) gets a view of their own.
  conversation = null;
  conversationReady = null;
  const [canned, agents] = await Promise.all([
    api.get("/api/v1/canned-replies").catch(() => ({ canned_replies: [] })),
    api.get("/api/v1/agents/dispatch").catch(() => ({ agents: [] })),
  ]);
  state.canned = canned.canned_replies || [];
  state.agents = agents.agents || [];
  const mine = state.agents.find((a) => a.id === agent.id);
  if (mine) $("presence").value = mine.presence;
  const supervisor = agent.role === "supervisor" || agent.role === "admin";
  $("reports-button").hidden = !supervisor;
  $("knowledge-button").hidden = !supervisor;
  $("rules-button").hidden = !supervisor;
  $("team-button").hidden = !supervisor;
  $("sla-button").hidden = !supervisor;
  $("lists-button").hidden = !supervisor;
  $("channels-button").hidden = !supervisor;
  $("worth-button").hidden = !supervisor;
  $("mailboxes-button").hidden = agent.role !== "admin";
  $("privacy-button").hidden = agent.role !== "admin";
  pages = supervisor ? {
    reports: () => import("./reports.js").then((m) => new m.ReportsView($("reports"), { onOpenConversation: open })),
    knowledge: () => import("./knowledge.js").then((m) => new m.KnowledgeView($("knowledge"), { onOpenConversation: open })),
    worth: () => import("./worth.js").then((m) => new m.WorthView($("worth"))),
    rules: () => import("./rules.js").then((m) => new m.RulesView($("rules"))),
    team: () => import("./team.js").then((m) => new m.TeamView($("team"), { me: state.me })),
    sla: () => import("./sla.js").then((m) => new m.SlaView($("sla"))),
    lists: () => import("./lists.js").then((m) => new m.ListsView($("lists"))),
    channels: () => import("./channels.js").then((m) => new m.ChannelsView($("channels"))),
    ...(agent.role === "admin" ? {
      mailboxes: () => import("./mailboxes.js").then((m) => new m.MailboxesView($("mailboxes"))),
      privacy: () => import("./privacy.js").then((m) => new m.PrivacyView($("privacy"), { onOpenConversation: open })),
    } : {}),
  } : {};
  pageViews = {};
  readHash();
  await refreshLists();
  if (state.openId != null) showConversation(state.openId);
  else if (state.side) drawSide();
  if (state.page) showPage(state.page);
  if (!state.live) {
    state.live = connectLive({ onEvent, onEnded: sessionEnded, onResync: () => { refreshLists(); if (conversation) conversation.refresh(); }, onState: liveState });
  }
}

// The Lists page changed the canned replies: the reply box offers the new ones.
window.addEventListener("sy:canned-changed", async () => {
  try {
    state.canned = (await api.get("/api/v1/canned-replies")).canned_replies || [];
  } catch (e) { /* kept as they were */ }
});

function liveState(s) {
  const node = $("live");
  node.textContent = s === "live" ? t("live") : s === "offline" ? t("offline — reconnecting") : s + "…";
  node.className = "live " + s;
}

// ---- lists --------------------------------------------------------------------

// A supervisors' page (reports, knowledge) replaces the three columns.
function showPage(name) {
  state.page = name && pages[name] ? name : null;
  $("app").classList.toggle("reporting", state.page !== null);
  for (const id of Object.keys(pages)) $(id).hidden = id !== state.page;
  if (state.page) {
    state.openId = null;
    if (location.hash !== "#" + state.page) history.replaceState(null, "", "#" + state.page);
    pageView(state.page).then((view) => view.load()).catch((e) => toast(e.message, "error"));
  } else {
    writeHash();
  }
}

$("reports-button").addEventListener("click", () => showPage(state.page === "reports" ? null : "reports"));
$("knowledge-button").addEventListener("click", () => showPage(state.page === "knowledge" ? null : "knowledge"));
$("worth-button").addEventListener("click", () => showPage(state.page === "worth" ? null : "worth"));
$("rules-button").addEventListener("click", () => showPage(state.page === "rules" ? null : "rules"));
$("team-button").addEventListener("click", () => showPage(state.page === "team" ? null : "team"));
$("sla-button").addEventListener("click", () => showPage(state.page === "sla" ? null : "sla"));
$("lists-button").addEventListener("click", () => showPage(state.page === "lists" ? null : "lists"));
$("channels-button").addEventListener("click", () => showPage(state.page === "channels" ? null : "channels"));
$("mailboxes-button").addEventListener("click", () => showPage(state.page === "mailboxes" ? null : "mailboxes"));
$("privacy-button").addEventListener("click", () => showPage(state.page === "privacy" ? null : "privacy"));

function readHash() {
  const hash = location.hash.replace(/^#/, "");
  const [kind, value] = hash.split("/");
  state.page = ["reports", "knowledge", "worth", "rules", "team", "sla", "lists", "channels", "mailboxes", "privacy"].includes(kind) ? kind : null;
  const arg = value ? decodeURIComponent(hash.slice(kind.length + 1)) : "";
  if (kind === "mine") state.view = { kind: "mine" };
  else if (kind === "queue" && value) state.view = { kind: "queue", name: arg };
  else if (kind === "search" && arg) state.view = { kind: "search", q: arg };
  state.side = (kind === "customer" || kind === "machine") && arg ? { kind, arg } : null;
  state.openId = kind === "c" && /^\d+$/.test(value || "") ? Number(value) : state.openId ?? null;
}

function writeHash() {
  if (state.page) return;
  const view = state.openId != null ? "c/" + state.openId
    : state.side ? state.side.kind + "/" + encodeURIComponent(state.side.arg)
    : state.view.kind === "mine" ? "mine"
    : state.view.kind === "search" ? "search/" + encodeURIComponent(state.view.q)
    : "queue/" + encodeURIComponent(state.view.name);
  if (location.hash !== "#" + view) history.replaceState(null, "", "#" + view);
}

async function refreshLists() {
  const searching = state.view.kind === "search";
  // A search looks at every conversation, open or resolved: "have we seen this before?"
  const params = new URLSearchParams(searching ? { q: state.view.q } : { status: state.status });
  if (searching) {
    const f = $("search-filters").elements;
    for (const name of ["channel", "priority", "queue", "status", "from", "to"]) if (f[name].value) params.set(name, f[name].value);
    if (f.mine.checked) params.set("assignee", state.me.id);
  }
  if (!searching && state.view.kind === "mine") params.set("mine", "true");
  else if (!searching) params.set("queue", state.view.name);
  try {
    const [queues, list] = await Promise.all([
      api.get("/api/v1/queues"),
      api.get((searching ? "/api/v1/search?" : "/api/v1/conversations?") + params),
    ]);
    state.queues = sortQueues(queues.queues);
    state.found = searching ? list : null;
    state.conversations = searching ? list.results.map((r) => r.conversation) : list.conversations;
    state.mineCount = queues.mine;
  } catch (e) {
    if (searching && e.status === 400) {
      state.found = { results: [], customers: [], found: 0 };
      state.conversations = [];
      draw();
      toast(e.message, "error");
      return;
    }
    if (e.status !== 401) toast(e.message, "error");
    return;
  }
  if (state.view.kind === "queue" && !state.queues.some((q) => q.name === state.view.name) && state.queues.length) {
    state.view = { kind: "queue", name: state.queues[0].name };
    return refreshLists();
  }
  draw();
}

function draw() {
  renderQueues($("queues"), { queues: state.queues, mineCount: state.mineCount, selected: state.view, onSelect: selectView });
  $("list-title").textContent = state.view.kind === "mine" ? t("My conversations")
    : state.view.kind === "search" ? t("Search: ") + state.view.q : state.view.name;
  $("list-title").classList.toggle("search-title", state.view.kind === "search");
  $("search").value = state.view.kind === "search" ? state.view.q : $("search").value;
  // A search covers open and resolved conversations alike, unless narrowed.
  $("status-filter").hidden = state.view.kind === "search";
  $("search-filters").hidden = state.view.kind !== "search";
  const queueFilter = $("search-filters").elements.queue;
  if (queueFilter.options.length !== state.queues.length + 1) {
    const chosen = queueFilter.value;
    while (queueFilter.options.length > 1) queueFilter.remove(1);
    for (const q of state.queues) queueFilter.append(h("option", { value: q.name }, q.name));
    queueFilter.value = chosen;
  }
  if (state.view.kind === "search" && state.found) {
    renderResults($("list-items"), { found: state.found, selectedId: state.openId, me: state.me, onOpen: open, onCustomer: openCustomer });
    writeHash();
    return;
  }
  const queue = state.view.kind === "queue" && state.status === "open" ? state.queues.find((q) => q.name === state.view.name) : null;
  renderList($("list-items"), {
    conversations: state.conversations,
    total: queue ? queue.open : null,
    selectedId: state.openId,
    me: state.me,
    onOpen: open,
  });
  writeHash();
}

function scheduleRefresh() {
  clearTimeout(state.refreshTimer);
  state.refreshTimer = setTimeout(refreshLists, 300);
}

function selectView(view) {
  state.view = view;
  refreshLists();
}

function open(id) {
  if (state.page) showPage(null);
  state.openId = id;
  state.side = null;
  draw();
  showConversation(id);
}

// Search from the box, a fault code or anywhere else: the results replace the list.
function runSearch(q) {
  q = (q || "").trim();
  if (!q) return;
  if (state.page) showPage(null);
  state.view = { kind: "search", q };
  $("search").value = q;
  refreshLists();
}

// The customer and machine pages take the place of the conversation.
function openCustomer(address) {
  openSide({ kind: "customer", arg: address });
}

function openMachine(serial) {
  openSide({ kind: "machine", arg: serial });
}

function openSide(side) {
  if (state.page) showPage(null);
  state.openId = null;
  state.side = side;
  if (conversation) conversation.id = null;
  drawSide();
  draw();
}

function drawSide() {
  const side = state.side;
  if (!side) return;
  const container = $("conversation");
  // Drawn unless the agent went elsewhere while the module loaded.
  const still = () => state.side === side;
  if (side.kind === "customer") {
    import("./customer.js").then(({ showCustomer }) => {
      if (still()) showCustomer(container, side.arg, { onOpen: open, onMachine: openMachine, onChanged: openCustomer, admin: state.me.role === "admin" });
    }).catch((e) => toast(e.message, "error"));
  } else {
    import("./machine.js").then(({ showMachine }) => {
      if (still()) showMachine(container, side.arg, { onOpen: open, onCustomer: openCustomer, onSearch: runSearch });
    }).catch((e) => toast(e.message, "error"));
  }
}

$("search-form").addEventListener("submit", (e) => {
  e.preventDefault();
  runSearch($("search").value);
});
$("search-filters").addEventListener("change", () => refreshLists());
$("search-filters").addEventListener("submit", (e) => e.preventDefault());
$("search").addEventListener("keydown", (e) => {
  if (e.key === "Escape") e.target.blur();
});

$("status-filter").addEventListener("change", (e) => {
  state.status = e.target.value;
  refreshLists();
});

$("presence").addEventListener("change", async (e) => {
  try {
    await api.post("/api/v1/me/presence", { presence: e.target.value });
    toast(t("You are ") + e.target.selectedOptions[0].textContent.toLowerCase());
  } catch (err) { toast(err.message, "error"); }
});

// The agent's language: the inbox's texts (the page reloads when they change)
// and what customer messages are translated into for them.
$("language").addEventListener("change", async (e) => {
  const language = e.target.value || null;
  try {
    await api.post("/api/v1/me/language", { language });
    state.me.language = language;
    if (!follow(language) && state.openId != null && conversation) conversation.refresh();
  } catch (err) { toast(err.message, "error"); }
});

// ---- live events ----------------------------------------------------------

let conversationTimer = null;
function onEvent(event) {
  scheduleRefresh();
  // Dispatch assigns after a cap is saved or a conversation arrives: the team
  // page's loads follow, without redrawing what the admin is typing.
  if (state.page === "team" && event.type !== "typing") {
    clearTimeout(state.teamTimer);
    state.teamTimer = setTimeout(() => pageView("team").then((view) => view.refreshLoad()), 300);
  }
  if (event.conversation === state.openId) {
    if (event.type === "typing") {
      return;
    }
    clearTimeout(conversationTimer);
    conversationTimer = setTimeout(() => { if (conversation) conversation.refresh(); }, 100);
  }
  if (event.type === "channel_alert") showChannelAlert(event);
  if (event.type === "conversation_created" && event.priority === "critical") alertCritical(event);
  if (event.type === "sla_breached") alertCritical(event);
}

// A channel account needs an admin (supervisors and admins get these only):
// a banner that stays until dismissed; the details are in the channel errors.
function showChannelAlert(event) {
  const box = $("alerts");
  const text = (event.channel === "whatsapp" ? t("WhatsApp account: ") : event.channel + ": ") + event.title +
    (event.endpoint ? t(" (number ") + event.endpoint + ")" : "") + t(" — details in GET /api/v1/admin/channel-errors.");
  const item = h("p", { class: "channel-alert" }, text, " ",
    h("button", { type: "button", class: "ghost", onclick: () => { item.remove(); box.hidden = !box.childElementCount; } }, t("Dismiss")));
  box.append(item);
  box.hidden = false;
  alertCritical({ type: "sla_breached", conversation: "" });
}

// A short two-tone chime through Web Audio (no sound file to ship), and a
// desktop notification when the agent allowed them.
let audio = null;
function alertCritical(event) {
  try {
    audio = audio || new AudioContext();
    const now = audio.currentTime;
    [880, 660].forEach((freq, i) => {
      const osc = audio.createOscillator();
      const gain = audio.createGain();
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.06, now + i * 0.18);
      gain.gain.exponentialRampToValueAtTime(0.0001, now + i * 0.18 + 0.16);
      osc.connect(gain).connect(audio.destination);
      osc.start(now + i * 0.18);
      osc.stop(now + i * 0.18 + 0.17);
    });
  } catch (e) { /* no audio device */ }
  const text = event.type === "sla_breached" ? t("Service level missed") : t("New critical conversation");
  if ("Notification" in window && Notification.permission === "granted" && document.hidden) {
    const n = new Notification("Switchyard — " + text, { body: t("Conversation ") + event.conversation, tag: "sy-" + event.conversation });
    n.onclick = () => { window.focus(); open(event.conversation); };
  }
  document.title = "(!) Switchyard — inbox";
}

document.addEventListener("visibilitychange", () => {
  if (!document.hidden) document.title = t("Switchyard — inbox");
});

function notifyLabel() {
  const p = "Notification" in window ? Notification.permission : "denied";
  $("notify").textContent = p === "granted" ? t("Notifications on") : p === "denied" ? t("Notifications blocked") : t("Notifications off");
}
$("notify").addEventListener("click", async () => {
  if ("Notification" in window && Notification.permission === "default") await Notification.requestPermission();
  notifyLabel();
});
notifyLabel();

// ---- keyboard -------------------------------------------------------------

function typingInField(target) {
  return target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA" || target.tagName === "SELECT" || target.isContentEditable);
}

function step(delta) {
  const ids = state.conversations.map((c) => c.id);
  if (!ids.length) return;
  const at = ids.indexOf(state.openId);
  const next = at < 0 ? 0 : Math.max(0, Math.min(ids.length - 1, at + delta));
  open(ids[next]);
  const item = document.querySelector(`#list-items [data-id="${ids[next]}"]`);
  if (item) item.scrollIntoView({ block: "nearest" });
}

document.addEventListener("keydown", (e) => {
  if ($("app").hidden || e.ctrlKey || e.metaKey || e.altKey || typingInField(e.target)) return;
  if ($("help").open) return;
  const c = conversation && conversation.data && conversation.data.conversation;
  switch (e.key) {
    case "j": step(1); break;
    case "k": step(-1); break;
    case "m": selectView({ kind: "mine" }); break;
    case "r": if (conversation && conversation.composer) conversation.composer.focus("reply"); break;
    case "n": if (conversation && conversation.composer) conversation.composer.focus("note"); break;
    case "c": if (c) conversation.claim(); break;
    case "e": if (c) conversation.act(c.status === "resolved" ? "reopen" : "resolve"); break;
    case "?": $("help").showModal(); break;
    case "/": $("search").focus(); $("search").select(); break;
    default: {
      const n = Number(e.key);
      if (n >= 1 && n <= 9 && state.queues[n - 1]) selectView({ kind: "queue", name: state.queues[n - 1].name });
      else return;
    }
  }
  e.preventDefault();
});

$("help-button").addEventListener("click", () => $("help").showModal());

window.addEventListener("hashchange", () => {
  const before = state.openId;
  const beforeSide = state.side && state.side.kind + "/" + state.side.arg;
  state.openId = null;
  readHash();
  if (state.side && state.side.kind + "/" + state.side.arg !== beforeSide) drawSide();
  if ((state.page !== null) !== $("app").classList.contains("reporting")) showPage(state.page);
  if (state.openId != null && state.openId !== before) showConversation(state.openId);
  refreshLists();
});

// ---- boot -------------------------------------------------------------------

(async () => {
  try {
    const agent = await currentAgent();
    if (agent) await start(agent);
    else showLogin();
  } catch (e) {
    showLogin(t("The gateway cannot be reached: ") + e.message);
  }
})();
