// The inbox and the chat widget in a real browser (Debian chromium, headless).
// The gateway, Dovecot and the SMTP sink are started by tests/tests/browser.rs,
// which also checks afterwards what left by SMTP. Tests run in file order and
// share one browser: the chat conversation of the first flow is the one the
// later flows claim, resolve and reopen.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import {
  BASE, launch, newPage, agentPage, login, screenshot, photo, assertCsrfOnEveryPost, assertNoProblems, credentials,
} from "./support.mjs";

const CUSTOMER_TEXT = "Ligne 2 arrêtée, code E17";
const REPLY_TEXT = "Bonjour, un technicien vous rappelle dans 5 minutes.";

let browser;
let visitor;
let alice;
let emailConversation;

before(async () => {
  browser = await launch();
});

after(async () => {
  if (browser) await browser.close();
});

test("pages forbid inline script", async () => {
  for (const path of ["/inbox", "/"]) {
    const response = await fetch(BASE + path);
    const csp = response.headers.get("content-security-policy") || "";
    const script = csp.split(";").map((d) => d.trim()).find((d) => d.startsWith("script-src"));
    assert.equal(script, "script-src 'self'", path + " CSP");
  }
});

test("a wrong password says so and signs nobody in", async () => {
  const page = await agentPage(browser);
  await page.goto(BASE + "/inbox");
  await page.fill("input[name=username]", credentials("ALICE").username);
  await page.fill("input[name=password]", "not-the-password");
  await page.click("#login-form button[type=submit]");
  await assert.doesNotReject(page.locator("#login-error", { hasText: "Wrong username or password." }).waitFor());
  assert.equal(await page.locator("#app").isVisible(), false);
  await screenshot(page, "login-failed");
  await page.context().close();
});

test("a new agent's first load of the inbox transfers under 25 KB; the conversation view waits to be needed", async () => {
  const page = await agentPage(browser);
  // What travelled for the page, its style and scripts (not the API), as Chromium counts it: encoded bytes.
  const assets = [];
  page.on("requestfinished", async (request) => {
    const url = new URL(request.url());
    if (url.origin !== new URL(BASE).origin || url.pathname.startsWith("/api/")) return;
    const sizes = await request.sizes();
    assets.push({ path: url.pathname, bytes: sizes.responseBodySize, headers: sizes.responseHeadersSize });
  });
  await login(page, "ALICE");
  await page.locator("#list-title").waitFor();
  await page.waitForLoadState("networkidle");
  const total = assets.reduce((sum, a) => sum + a.bytes, 0);
  const paths = assets.map((a) => a.path.replace(/\/v\/[0-9a-f]+\//, "/v/…/"));
  console.log(`inbox first load in Chromium: ${total} bytes of bodies over ${assets.length} files: ${paths.join(" ")}`);
  assert.ok(total < 25000, `first load transferred ${total} bytes: ${JSON.stringify(assets)}`);
  assert.ok(!paths.some((p) => p.endsWith("/conversation.js")), "the conversation view waits to be needed");
  assert.ok(paths.some((p) => p.endsWith("/app.js")), "the measurement saw the scripts");
  await page.context().close();
});

test("a critical chat reaches the top of the critical queue and the answer reaches the visitor live", async () => {
  // The agent is already watching the inbox: the conversation must appear without a reload.
  alice = await agentPage(browser);
  await login(alice, "ALICE");
  await alice.keyboard.press("1"); // the most urgent queue
  await alice.locator("#list-title", { hasText: "critical" }).waitFor();

  visitor = await newPage(browser);
  await visitor.goto(BASE + "/");
  await visitor.locator(".launcher").click();
  // The demo page asks for optional details first (French page: French widget).
  await visitor.locator("form.prechat input[name=name]").fill("Marc Dupont");
  await visitor.locator("form.prechat input[name=company]").fill("Fromagerie Alpine");
  await visitor.locator("form.prechat button", { hasText: "Commencer" }).click();
  await visitor.locator("textarea").fill(CUSTOMER_TEXT);
  // The camera button opens the file picker; the typed text becomes the photo's caption.
  const chooser = visitor.waitForEvent("filechooser");
  await visitor.locator("button.file").click();
  await (await chooser).setFiles({ name: "defaut-e17.png", mimeType: "image/png", buffer: photo() });
  await visitor.locator(".msg.customer:not(.pending)", { hasText: CUSTOMER_TEXT }).waitFor();
  // The acknowledgement gives the ticket and when to expect an answer.
  const ack = visitor.locator(".msg.system").first();
  await ack.waitFor();
  assert.match(await ack.innerText(), /SY-\d+/);
  assert.match(await ack.innerText(), /(dans les|avant|minutes)/);

  // Live: the new conversation is first in the critical queue.
  const first = alice.locator("#list-items .item").first();
  await first.locator(".subject", { hasText: CUSTOMER_TEXT }).waitFor();
  assert.equal(await first.getAttribute("data-priority"), "critical");
  assert.equal(await alice.title(), "(!) Switchyard — inbox", "a critical arrival is signalled");
  const critical = alice.locator('#queues [data-queue="critical"]');
  assert.match(await critical.locator(".count").innerText(), /^[1-9]/);
  assert.match(await critical.getAttribute("data-sla"), /on_time|at_risk|breached/);

  // j opens the first conversation.
  await alice.keyboard.press("j");
  const view = alice.locator("#conversation");
  await view.locator(".msg.in", { hasText: CUSTOMER_TEXT }).waitFor();
  await view.locator('.rules [data-rule="production_stopped"] mark', { hasText: "Ligne 2 arrêtée" }).waitFor();
  assert.equal(await view.locator('[data-field="fault_codes"]').innerText(), "E17");
  assert.match(await view.locator('[data-field="impact"]').innerText(), /Ligne 2 arrêtée/);
  const thumb = view.locator(".msg.in .file.image img");
  await thumb.waitFor();
  await alice.waitForFunction((img) => img.complete && img.naturalWidth === 64, await thumb.elementHandle());
  assert.match(await view.locator(".file.image").getAttribute("href"), /\/attachments\/\d+$/);
  // The acknowledgement is in the thread too, with its delivery state.
  await view.locator(".msg.system .delivery").first().waitFor();

  // Claim, then answer: the visitor sees the agent typing, then the reply, without reloading.
  await view.locator("button.claim").click();
  await view.locator(".assigned", { hasText: "Claimed by you" }).waitFor();
  await alice.keyboard.press("r");
  await view.locator(".reply-text").pressSequentially("Bonjour", { delay: 10 });
  await visitor.locator(".typing", { hasText: "Un agent écrit" }).waitFor();
  await view.locator(".reply-text").fill(REPLY_TEXT);
  await view.locator(".reply-text").press("Control+Enter");
  await view.locator(".msg.out", { hasText: REPLY_TEXT }).waitFor();
  await visitor.locator(".msg.agent", { hasText: REPLY_TEXT }).waitFor();
  await view.locator(".msg.out", { hasText: REPLY_TEXT }).locator(".delivery.d-delivered, .delivery.d-sent").waitFor();

  await screenshot(alice, "inbox");
  await screenshot(visitor, "widget");
  assertNoProblems(visitor);
});

test("the visitor finds the conversation again after a reload", async () => {
  await visitor.reload();
  await visitor.locator(".launcher").click();
  await visitor.locator(".msg.customer", { hasText: CUSTOMER_TEXT }).waitFor();
  await visitor.locator(".msg.agent", { hasText: REPLY_TEXT }).waitFor();
  assert.equal(await visitor.locator("form.prechat").isVisible(), false, "no second pre-chat form");
});

test("the widget says when it is offline and recovers", async () => {
  const context = visitor.context();
  await context.setOffline(true);
  await visitor.locator(".status.show", { hasText: /Hors ligne|reconnexion/ }).waitFor({ timeout: 20000 });
  await context.setOffline(false);
  await visitor.locator(".status.show").waitFor({ state: "hidden", timeout: 30000 });
});

test("the widget on another site's page: one script tag, its colour, English from the page", async () => {
  // The customer's own site, on another origin: only the script tag points at the gateway.
  const site = createServer((req, res) => {
    res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" });
    res.end(`<!doctype html><html lang="en"><head><title>Customer site</title>
      <style>button { background: lime !important; }</style></head><body><h1>Spare parts</h1>
      <script src="${BASE}/widget.js" data-gateway="${BASE}" data-color="#aa3300" defer></script></body></html>`);
  });
  await new Promise((resolve) => site.listen(0, "127.0.0.1", resolve));
  const page = await newPage(browser, { locale: "de-DE" });
  try {
    await page.goto(`http://127.0.0.1:${site.address().port}/`);
    const launcher = page.locator(".launcher");
    assert.equal(await launcher.getAttribute("aria-label"), "Open chat");
    // The page's own button style does not reach into the shadow root.
    assert.equal(await launcher.evaluate((b) => getComputedStyle(b).backgroundColor), "rgb(170, 51, 0)");
    await launcher.click();
    assert.equal(await page.locator("textarea").getAttribute("placeholder"), "Describe the problem…");
    await page.locator("textarea").fill("Which grease for the P200 press bearings?");
    await page.locator("textarea").press("Enter");
    await page.locator(".msg.customer:not(.pending)", { hasText: "P200" }).waitFor();
    assert.match(await page.locator(".msg.system").first().innerText(), /SY-\d+/);
    assertNoProblems(page);
  } finally {
    await page.context().close();
    site.close();
  }
});

test("a second agent sees the conversation as claimed, and can take it over", async () => {
  const bob = await agentPage(browser);
  await login(bob, "BOB");
  const item = bob.locator("#list-items .item", { hasText: CUSTOMER_TEXT });
  await item.waitFor();
  assert.match(await item.locator(".assignee").innerText(), /Alice/);
  await item.click();
  await bob.locator("#conversation .assigned.other", { hasText: "Claimed by Alice" }).waitFor();
  assert.equal(await bob.locator("#conversation button.claim").innerText(), "Take over");
  // Taking over asks first; Alice's screen follows without a reload.
  bob.once("dialog", (dialog) => dialog.accept());
  await bob.locator("#conversation button.claim").click();
  await bob.locator("#conversation .assigned", { hasText: "Claimed by you" }).waitFor();
  await alice.locator("#conversation .assigned.other", { hasText: "Claimed by Bob" }).waitFor();
  await alice.locator("#list-items .item .assignee", { hasText: "Bob" }).waitFor();
  await bob.context().close();
});

test("canned replies and private notes", async () => {
  const view = alice.locator("#conversation");
  await alice.keyboard.press("Escape"); // shortcuts work outside the reply box
  await alice.keyboard.press("n");
  await view.locator(".reply-text").fill("Client stratégique, voir contrat");
  await view.locator(".reply-text").press("Control+Enter");
  await view.locator(".msg.note", { hasText: "Client stratégique" }).waitFor();
  await alice.keyboard.press("Escape");
  await alice.keyboard.press("r");
  await view.locator(".reply-text").pressSequentially("/pho");
  await view.locator(".canned li", { hasText: "/photo" }).waitFor();
  await view.locator(".reply-text").press("Tab");
  assert.match(await view.locator(".reply-text").inputValue(), /photo de l'écran d'erreur/);
  await view.locator(".reply-text").fill("");
});

test("an expired session sends the agent to the login and keeps the draft", async () => {
  const view = alice.locator("#conversation");
  const draft = "Brouillon : vérifier le capteur de la ligne 2";
  await alice.keyboard.press("Escape");
  await alice.keyboard.press("r");
  // Every other API call (typing indicator, list refresh) is held until the
  // send has been answered, so that the send is what finds the session gone:
  // another call's 401 would otherwise hide the app before the click.
  const isSend = (url) => /\/(reply|notes)$/.test(url);
  let release;
  const sendAnswered = new Promise((resolve) => { release = resolve; });
  await alice.route("**/api/v1/**", async (route) => {
    if (!isSend(route.request().url())) await sendAnswered;
    await route.continue();
  });
  await view.locator(".reply-text").fill(draft);
  await alice.context().clearCookies();
  // The reply, or the note if the composer was left on notes.
  const sent = alice.waitForResponse((r) => isSend(r.url()) && r.request().method() === "POST");
  await view.locator("button.send").click();
  assert.equal((await sent).status(), 401);
  release();
  await alice.locator("#login-notice", { hasText: "expired" }).waitFor();
  await alice.unroute("**/api/v1/**");
  const { password } = credentials("ALICE");
  await alice.fill("#login-form input[name=password]", password);
  await alice.click("#login-form button[type=submit]");
  await alice.locator("#conversation .reply-text").waitFor();
  assert.equal(await alice.locator("#conversation .reply-text").inputValue(), draft);
  await alice.locator("#conversation .reply-text").fill("");
});

test("resolving takes the conversation out of the queue", async () => {
  await alice.keyboard.press("Escape");
  await alice.keyboard.press("1");
  const item = alice.locator("#list-items .item", { hasText: CUSTOMER_TEXT });
  await item.click();
  await alice.locator("#conversation button.resolve").click();
  await alice.locator("#conversation .badge.resolved").waitFor();
  await item.waitFor({ state: "detached" });
  await alice.selectOption("#status-filter", "resolved");
  await alice.locator("#list-items .item", { hasText: CUSTOMER_TEXT }).waitFor();
  await alice.selectOption("#status-filter", "open");
  assertCsrfOnEveryPost(alice);
  assertNoProblems(alice);
});

test("reopening with a key and transferring to another queue", async () => {
  await alice.selectOption("#status-filter", "resolved");
  await alice.locator("#list-items .item", { hasText: CUSTOMER_TEXT }).click();
  const view = alice.locator("#conversation");
  await view.locator(".badge.resolved").waitFor();
  await alice.locator("#list-items .item.selected").focus();
  await alice.keyboard.press("e");
  await view.locator("button.resolve").waitFor();
  // Bob holds it since he took it over: a plain agent moves a colleague's
  // conversation only after taking it over herself.
  await view.locator("select.transfer").selectOption("experts");
  await alice.locator("#toast", { hasText: "Bob" }).waitFor();
  alice.once("dialog", (dialog) => dialog.accept());
  await view.locator("button.claim").click();
  await view.locator(".assigned", { hasText: "Claimed by you" }).waitFor();
  await view.locator("select.transfer").selectOption("experts");
  await view.locator(".conv-who", { hasText: "queue experts" }).waitFor();
  await alice.selectOption("#status-filter", "open");
  await alice.locator('#queues [data-queue="experts"]').click();
  await alice.locator("#list-items .item", { hasText: CUSTOMER_TEXT }).waitFor();
  await view.locator("button.resolve").click();
  await view.locator(".badge.resolved").waitFor();
  assertNoProblems(alice);
});

test("an email conversation: To/Cc shown and editable, HTML sanitised and inert", async () => {
  const subject = process.env.SY_EMAIL_SUBJECT;
  assert.ok(subject, "SY_EMAIL_SUBJECT");
  const id = await alice.evaluate(async (subject) => {
    const r = await fetch("/api/v1/conversations?limit=1000");
    const data = await r.json();
    const found = data.conversations.find((c) => c.subject === subject);
    return found && found.id;
  }, subject);
  assert.ok(id, "the email conversation exists");
  emailConversation = id;
  await alice.goto(BASE + "/inbox#c/" + id);
  const view = alice.locator("#conversation");
  await view.locator(".conv-title h2", { hasText: subject }).waitFor();
  assert.equal(await view.locator("input.to").inputValue(), process.env.SY_EMAIL_FROM);
  assert.match(await view.locator("input.cc").inputValue(), new RegExp(process.env.SY_EMAIL_CC.replace(".", "\\.")));
  assert.match(await view.locator(".route").innerText(), /email/i);

  const frameElement = view.locator("iframe.mail-frame");
  await frameElement.waitFor();
  assert.equal(await frameElement.getAttribute("sandbox"), "allow-same-origin allow-popups allow-popups-to-escape-sandbox");
  const frame = await (await frameElement.elementHandle()).contentFrame();
  await frame.locator("text=Le convoyeur").waitFor();
  // The inline image (cid:) shows from the stored part.
  await frame.waitForFunction(() => {
    const img = document.querySelector('img[alt="convoyeur"]'); // ammonia drops ids
    return img && img.complete && img.naturalWidth === 16;
  });
  assert.match(await frame.locator('img[alt="convoyeur"]').getAttribute("src"), /^\/api\/v1\/conversations\/\d+\/attachments\/\d+$/);
  assert.equal(await frame.locator("script").count(), 0, "no script element survives sanitising");
  assert.equal(await frame.locator("[onclick], [onerror]").count(), 0, "no event handler survives");
  assert.equal(await alice.evaluate(() => window.__mailScriptRan === true), false, "the mail's script did not run");
  assert.equal(await frame.evaluate(() => window.__mailScriptRan === true), false);

  // Reply with one more person in Cc; tests/tests/browser.rs checks what the SMTP sink got.
  await alice.keyboard.press("Escape");
  await alice.keyboard.press("r");
  await view.locator("input.cc").fill(process.env.SY_EMAIL_CC + ", " + process.env.SY_EMAIL_CC_ADD);
  await view.locator(".reply-text").fill("Nous avons bien reçu la vidéo du convoyeur.");
  await view.locator("button.send").click();
  await view.locator(".msg.out", { hasText: "vidéo du convoyeur" }).waitFor();

  // Escalate by hand: a video room whose link goes to the customer by email,
  // and a callback to a number the agent types, then its outcome.
  await view.locator("button.escalate-visio").click();
  await view.locator('.escalations [data-kind="visio"] a', { hasText: "video room" }).waitFor();
  await view.locator(".msg.system", { hasText: "https://" }).waitFor();
  alice.once("dialog", (dialog) => dialog.accept("+33 4 50 12 34 56"));
  await view.locator("button.escalate-callback").click();
  const callback = view.locator('.escalations [data-kind="callback"]');
  await callback.locator("a", { hasText: "+33 4 50 12 34 56" }).waitFor();
  await callback.locator("select").selectOption("reached");
  await view.locator('.escalations [data-kind="callback"]', { hasText: "outcome: reached" }).waitFor();
  await screenshot(alice, "inbox-email");
  assertNoProblems(alice);
});

test("the inbox stays usable on a tablet", async () => {
  const tablet = await agentPage(browser, { viewport: { width: 1024, height: 768 }, hasTouch: true });
  await login(tablet, "BOB");
  await tablet.locator('#queues [data-queue="critical"]').waitFor();
  await tablet.goto(BASE + "/inbox#c/" + emailConversation);
  await tablet.locator("#conversation .reply-text").waitFor();
  for (const selector of ["#conversation .reply-text", "#conversation button.send", "#conversation button.resolve"]) {
    const box = await tablet.locator(selector).boundingBox();
    assert.ok(box && box.y >= 0 && box.y + box.height <= 768 && box.x + box.width <= 1024, selector + " is on screen");
  }
  const overflow = await tablet.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, "no horizontal scrolling");
  await screenshot(tablet, "inbox-tablet");

  // Changing one's password from the header (the same dialog opens by itself
  // for an account that still has its one-time password).
  const { password } = credentials("BOB");
  await tablet.locator("#me").click();
  await tablet.fill("#password-form input[name=current]", password);
  await tablet.fill("#password-form input[name=new]", "bob-new-password-2");
  await tablet.fill("#password-form input[name=again]", "bob-new-password-3");
  await tablet.click("#password-form button[type=submit]");
  await tablet.locator("#password-error", { hasText: "differ" }).waitFor();
  await tablet.fill("#password-form input[name=again]", "bob-new-password-2");
  await tablet.click("#password-form button[type=submit]");
  await tablet.locator("#toast", { hasText: "Password changed" }).waitFor();
  const status = await tablet.evaluate(async (username) => (await fetch("/api/v1/auth/login", {
    method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ username, password: "bob-new-password-2" }),
  })).status, credentials("BOB").username);
  assert.equal(status, 200, "the new password works");
  await tablet.context().close();
});

test("resolving offers the intervention report, which the agent validates and sends as a PDF", async () => {
  await alice.goto(BASE + "/inbox#c/" + emailConversation);
  const view = alice.locator("#conversation");
  await view.locator("button.resolve").waitFor();
  await view.locator("button.resolve").click();
  await view.locator(".offer-report button.write-report").click();
  const dialog = alice.locator("#report-dialog");
  await dialog.locator(".report-status", { hasText: "Proposed from the thread" }).waitFor();
  // Proposed from the thread: the customer's own words, the expert's reply.
  assert.match(await dialog.locator("textarea[name=symptom]").inputValue(), /convoyeur 3 fait un bruit anormal/);
  assert.match(await dialog.locator("textarea[name=actions]").inputValue(), /vidéo du convoyeur/);
  await dialog.locator("textarea[name=diagnosis]").fill("Roulement du rouleau de tête usé.");
  // Validating needs a result: the server says so and the dialog shows it.
  await dialog.locator("textarea[name=result]").fill("");
  await dialog.locator("button.report-validate").click();
  await dialog.locator(".report-error", { hasText: "result" }).waitFor();
  await dialog.locator("textarea[name=result]").fill("Roulement remplacé, bruit disparu.");
  await dialog.locator("button.report-validate").click();
  await dialog.locator('.report-status[data-status="validated"]', { hasText: "Validated by Alice" }).waitFor();
  const pdf = await alice.evaluate(async (href) => {
    const r = await fetch(href);
    const bytes = new Uint8Array(await r.arrayBuffer());
    return { type: r.headers.get("content-type"), head: String.fromCharCode(...bytes.slice(0, 5)) };
  }, await dialog.locator("a.report-pdf").getAttribute("href"));
  assert.deepEqual(pdf, { type: "application/pdf", head: "%PDF-" });
  await screenshot(alice, "report-editor");
  // The resolution, proposed as a knowledge answer for a supervisor to publish.
  await dialog.locator("button.report-knowledge").click();
  await alice.locator("#toast", { hasText: "proposed" }).waitFor();
  await dialog.locator("button.report-send").click();
  await alice.locator("#toast", { hasText: "Report sent to the customer" }).waitFor();
  // The PDF leaves as a reply in the thread; tests/tests/browser.rs checks what the SMTP sink got.
  await view.locator(".msg.out", { hasText: "rapport d'intervention" }).waitFor();
  assertNoProblems(alice);
});

test("a supervisor sees how the hotline did, changes the period and opens the conversations behind a figure", async () => {
  // An agent has no reports page.
  assert.equal(await alice.locator("#reports-button").isVisible(), false, "agents see no Reports button");

  const boss = await agentPage(browser);
  // The supervisor's computer is two days behind: the page's "last 7 days"
  // must still be the hotline calendar's (from 23:00 UTC the browser's UTC
  // date is already a day behind Paris), not the browser's.
  await boss.clock.install({ time: Date.now() - 2 * 86400000 });
  await login(boss, "ADMIN");
  await boss.locator("#reports-button").click();
  const reports = boss.locator("#reports");
  await reports.waitFor();
  assert.equal(await boss.evaluate(() => location.hash), "#reports");
  assert.equal(await boss.locator("#list").isVisible(), false, "the page replaces the three columns");

  // What the page shows is what the API computed, and this run's conversations are in it.
  const api = await boss.evaluate(async () => (await fetch("/api/v1/reports/kpis")).json());
  assert.ok(api.kpis.volume >= 2, "the chat and the email of the earlier flows: " + api.kpis.volume);
  const volume = reports.locator('.card[data-figure="volume"] .card-value');
  await volume.filter({ hasText: String(api.kpis.volume) }).waitFor();
  assert.equal(await reports.locator(".chart svg rect.bar").count(), 7, "one bar a day");
  const today = api.kpis.days[6];
  assert.equal(await reports.locator(`.chart rect.bar[data-date="${today.date}"]`).count(), 1);
  await screenshot(boss, "reports");

  // Another period: the chart and the figures follow.
  await reports.locator('button[data-preset="30"]').click();
  await boss.waitForFunction(() => document.querySelectorAll("#reports .chart rect.bar").length === 30);
  await reports.locator('input[name="from"]').fill("2020-01-06");
  await reports.locator('input[name="to"]').fill("2020-01-12");
  await reports.locator('input[name="to"]').dispatchEvent("change");
  await reports.locator('.card[data-figure="volume"] .card-value', { hasText: /^0$/ }).waitFor();
  assert.equal(await reports.locator(".chart svg rect.bar").count(), 7);
  assert.match(await reports.locator(".period-summary").innerText(), /2020-01-06 to 2020-01-12/);

  // Back to the last week, broken down by channel, then the conversations behind the volume.
  await reports.locator('button[data-preset="7"]').click();
  await volume.filter({ hasText: String(api.kpis.volume) }).waitFor();
  assert.equal(await reports.getAttribute("data-to"), api.period.to, "the preset ends with the server's today");
  await reports.locator('select[name="by"]').selectOption("channel");
  await reports.locator("table.groups tbody tr").first().waitFor();
  assert.ok(await reports.locator('table.groups tr[data-key="email"]').count() === 1, "an email row");
  await reports.locator('.card[data-figure="volume"]').click();
  const rows = reports.locator(".drill table.drill-rows tbody tr");
  await rows.first().waitFor();
  assert.equal(await rows.count(), api.kpis.volume);
  const csv = await reports.locator(".drill a", { hasText: "CSV" }).getAttribute("href");
  assert.match(csv, /figure=created/);
  const ticket = reports.locator(".drill a", { hasText: new RegExp(`^SY-${emailConversation}$`) });
  await ticket.click();
  await boss.locator("#conversation .conv-title h2", { hasText: process.env.SY_EMAIL_SUBJECT }).waitFor();
  assert.equal(await reports.isVisible(), false, "opening a conversation leaves the reports page");
  assert.equal(await boss.evaluate(() => location.hash), "#c/" + emailConversation);

  // Knowledge: the entry Alice proposed, edited and published by the supervisor.
  await boss.locator("#knowledge-button").click();
  const knowledge = boss.locator("#knowledge");
  const row = knowledge.locator(`tr[data-entry="sy-${emailConversation}"]`);
  await row.waitFor();
  assert.equal(await row.getAttribute("data-status"), "draft");
  await row.locator("button.edit-entry").click();
  const form = knowledge.locator("form.knowledge-form");
  assert.match(await form.locator("textarea[name=answer]").inputValue(), /Roulement remplacé, bruit disparu/);
  await form.locator("textarea[name=questions]").fill("le convoyeur fait un bruit anormal\ncomment changer le roulement du rouleau de tête");
  await form.locator("button.knowledge-publish").click();
  await knowledge.locator(`tr[data-entry="sy-${emailConversation}"][data-status="published"]`).waitFor();
  const status = await boss.evaluate(async () => (await fetch("/api/v1/knowledge")).json());
  const published = status.entries.find((e) => e.status === "published");
  assert.deepEqual(published.draft.questions, ["le convoyeur fait un bruit anormal", "comment changer le roulement du rouleau de tête"]);
  // Playwright's fake clock is a script it adds to every frame: the mail's
  // sandboxed frame refuses it, as it refuses any script (the email flow
  // checks that frame on a page without the fake clock).
  boss.problems = boss.problems.filter((p) => !/^console: Blocked script execution in '[^']*\/messages\/\d+\/html'/.test(p));
  assertNoProblems(boss);
  await boss.context().close();
});

test("an agent searches a fault code however written, opens the result and goes to the machine and the customer", async () => {
  // A customer on the widget gives the serial in the form and the code in the text.
  const customer = await newPage(browser);
  await customer.goto(BASE + "/");
  await customer.locator(".launcher").click();
  await customer.locator("form.prechat input[name=name]").fill("Inès Moreau");
  await customer.locator("form.prechat input[name=email]").fill("ines.moreau@cartonnerie.fr");
  await customer.locator("form.prechat input[name=machine_serial]").fill("SN-7788");
  await customer.locator("form.prechat button", { hasText: "Commencer" }).click();
  await customer.locator("textarea").fill("La plieuse-colleuse affiche le défaut F-042 à chaque démarrage");
  await customer.locator("textarea").press("Enter");
  await customer.locator(".msg.customer:not(.pending)", { hasText: "F-042" }).waitFor();

  // "/" focuses the search box; the code typed without its dash and accents dropped still finds it.
  await alice.evaluate(() => document.activeElement && document.activeElement.blur());
  await alice.keyboard.press("/");
  assert.equal(await alice.evaluate(() => document.activeElement.id), "search");
  await alice.keyboard.type("f042 plieuse");
  await alice.keyboard.press("Enter");
  await alice.locator("#list-title", { hasText: "Search: f042 plieuse" }).waitFor();
  const result = alice.locator("#list-items .item[data-search-result]").first();
  await result.waitFor();
  assert.deepEqual(await result.locator(".snippet mark").allInnerTexts(), ["plieuse", "F-042"]);
  // Narrowed to another channel, nothing; back to every channel, the result again.
  await alice.locator('#search-filters select[name="channel"]').selectOption("email");
  await alice.locator("#list-items .empty", { hasText: "Nothing found" }).waitFor();
  await alice.locator('#search-filters select[name="channel"]').selectOption("");
  await result.waitFor();

  // The result opens like a queue item; the serial in the facts opens the machine's history.
  await result.click();
  const view = alice.locator("#conversation");
  await view.locator(".msg.in", { hasText: "F-042" }).waitFor();
  await view.locator('[data-field="serials"] button', { hasText: "SN-7788" }).click();
  const machine = view.locator('.machine-page[data-machine-page="SN7788"]');
  await machine.waitFor();
  assert.equal(await alice.evaluate(() => location.hash), "#machine/SN-7788");
  await machine.locator(".timeline li", { hasText: "F-042" }).waitFor();

  // From the machine to its customer: every identity and conversation of theirs.
  await machine.locator(".timeline button.muted").first().click();
  const page = view.locator(".customer-page");
  await page.waitFor();
  await page.locator(".page-head h2", { hasText: "Inès Moreau" }).waitFor();
  assert.match(await page.locator("dd").nth(1).innerText(), /ines\.moreau@cartonnerie\.fr/);
  await page.locator('.machines button[data-serial="SN-7788"]').waitFor();
  await screenshot(alice, "customer-page");
  assertNoProblems(alice);
  await customer.context().close();
});

test("Level 1 on the widget: a chip answers the machine question, the photo chip opens the picker, the inbox shows what is known", async () => {
  const customer = await newPage(browser);
  await customer.goto(BASE + "/");
  await customer.locator(".launcher").click();
  await customer.locator("form.prechat button", { hasText: "Commencer" }).click();
  await customer.locator("textarea").fill("Notre machine fait un bruit anormal depuis hier");
  await customer.locator("textarea").press("Enter");

  // One question at a time, each with its quick answers.
  await customer.locator(".chips button", { hasText: "Je ne sais pas" }).click();
  await customer.locator(".msg.customer:not(.pending)", { hasText: "Je ne sais pas" }).waitFor();
  await customer.locator(".chips button", { hasText: "Aucun code affiché" }).click();
  // The photo chip opens the file picker; the photo goes as the answer.
  const chooser = customer.waitForEvent("filechooser");
  await customer.locator(".chips button", { hasText: "Envoyer une photo" }).click();
  await (await chooser).setFiles({ name: "bruit.png", mimeType: "image/png", buffer: photo() });
  await customer.locator(".msg.customer:not(.pending) img").last().waitFor();
  assert.equal(await customer.locator(".chips").count(), 0, "no question left open");

  // The agent sees what Level 1 gathered.
  const id = await alice.evaluate(async () => {
    const r = await fetch("/api/v1/conversations?queue=experts&limit=100");
    const data = await r.json();
    const found = data.conversations.find((c) => (c.preview || "").startsWith("Notre machine fait un bruit"));
    return found && found.id;
  });
  assert.ok(id, "the conversation is in the experts' queue");
  await alice.goto(BASE + "/inbox#c/" + id);
  const level1 = alice.locator("#conversation .level1");
  await level1.waitFor();
  assert.equal(await level1.getAttribute("data-stopped"), "complete");
  const known = (await level1.innerText()).replace(/^.*known: /s, "").replace(/ — .*$/s, "").split(", ");
  assert.deepEqual(known.sort(), ["fault code", "impact", "machine", "photo"], await level1.innerText());
  await screenshot(customer, "widget-level1");
  assertNoProblems(customer);
  await customer.context().close();
});

test("a knowledge answer closes in the widget, the rating takes a comment, the inbox and the worth page show them", async () => {
  const customer = await newPage(browser);
  await customer.goto(BASE + "/");
  await customer.locator(".launcher").click();
  await customer.locator("form.prechat button", { hasText: "Commencer" }).click();
  await customer.locator("textarea").fill("Bonjour, où trouver la notice de la machine ?");
  await customer.locator("textarea").press("Enter");

  // "Did this solve it?" as two chips; yes resolves it, then the rating opens a comment box.
  await customer.locator('.chips button[data-choice="feedback:solved"]').click();
  await customer.locator('.chips button[data-choice="feedback:good"]').click();
  await customer.locator("form.rating textarea").fill("Trouvé tout de suite");
  await customer.locator("form.rating button").click();
  await customer.locator(".msg.system", { hasText: "Merci pour votre avis" }).waitFor();
  assert.equal(await customer.locator(".chips").count(), 0, "nothing left to answer");

  // The supervisor sees both on the conversation, then the worth page.
  const boss = await agentPage(browser);
  await login(boss, "ADMIN");
  const id = await boss.evaluate(async () => {
    const data = await (await fetch("/api/v1/conversations?status=resolved&limit=100")).json();
    const found = data.conversations.find((c) => (c.preview || "").startsWith("Bonjour, où trouver la notice"));
    return found && found.id;
  });
  assert.ok(id, "resolved by the customer's yes");
  await boss.goto(BASE + "/inbox#c/" + id);
  await boss.locator('#conversation .knowledge-check[data-outcome="solved"]').waitFor();
  await boss.locator('#conversation .satisfaction[data-rating="good"]', { hasText: "Trouvé tout de suite" }).waitFor();

  await boss.locator("#worth-button").click();
  await boss.locator('#worth tr[data-variable="faq_share"][data-source="measured"]').waitFor();
  await boss.locator('#worth tr[data-variable="phone_share"][data-source="assumed"]').waitFor();
  await boss.locator('#worth input[name="phone_share"]').fill("50");
  await boss.locator("#worth button", { hasText: "Save the entered values" }).click();
  await boss.locator('#worth tr[data-variable="phone_share"][data-source="entered"]').waitFor();
  // A typical value nobody touched stays marked as assumed.
  await boss.locator('#worth tr[data-variable="call_minutes"][data-source="assumed"]').waitFor();
  assert.equal(await boss.locator('#worth input[name="phone_share"]').inputValue(), "50");
  await screenshot(boss, "worth-page");
  assertNoProblems(customer);
  assertNoProblems(boss);
  await customer.context().close();
  await boss.context().close();
});

test("an admin connects a mailbox through its OAuth 2 provider and sees it authorised", async () => {
  const name = process.env.SY_OAUTH_MAILBOX;
  assert.ok(name, "SY_OAUTH_MAILBOX");
  // Agents and supervisors have no such page.
  assert.equal(await alice.locator("#mailboxes-button").isVisible(), false);

  const boss = await agentPage(browser);
  await login(boss, "ADMIN");
  await boss.locator("#mailboxes-button").click();
  const row = boss.locator(`#mailboxes tr[data-mailbox="${name}"]`);
  await row.waitFor();
  // Never connected: the reader waits for an admin, and says so.
  await boss.locator(`#mailboxes tr[data-mailbox="${name}"][data-state="needs_reconnect"]`).waitFor();
  assert.match(await row.locator(".auth-state").innerText(), /needs an admin to reconnect/);

  // Connect: the provider's consent (the local authorization server approves
  // at once), back through the gateway's callback.
  await row.locator("button.connect").click();
  await boss.waitForURL(/\/oauth\/callback\?/);
  assert.match(await boss.locator("#outcome").innerText(), new RegExp(`Mailbox ${name} .* is connected`));
  await screenshot(boss, "mailbox-connected");

  await boss.goto(BASE + "/inbox#mailboxes");
  const connected = boss.locator(`#mailboxes tr[data-mailbox="${name}"][data-state="ok"]`);
  await connected.waitFor();
  assert.match(await connected.locator(".auth-state").innerText(), /connected by admin/);
  await connected.locator("button.disconnect").waitFor();
  assertNoProblems(boss);
  await boss.context().close();
});

test("a visitor reads the privacy notice, asks for erasure and forgets the chat; an admin erases them and the audit log shows it", async () => {
  const customer = await newPage(browser);
  await customer.goto(BASE + "/");
  await customer.locator(".launcher").click();
  await customer.locator("form.prechat button", { hasText: "Commencer" }).click();
  await customer.locator("textarea").fill("Merci de supprimer mes données personnelles");
  await customer.locator("textarea").press("Enter");
  await customer.locator(".msg.customer:not(.pending)", { hasText: "supprimer mes données" }).waitFor();
  // The site's notice, as the gateway's configuration names it.
  const notice = customer.locator(".foot a", { hasText: "Confidentialité" });
  await notice.waitFor();
  assert.equal(await notice.getAttribute("href"), "https://maker.example/privacy");

  // A request for erasure, filed for the admins.
  await customer.locator("[data-erase]").click();
  await customer.locator(".msg.system", { hasText: "Demande d'effacement transmise" }).waitFor();
  // Forgotten on this device: two taps, the log is empty and stays so after a reload.
  await customer.locator("[data-forget]").click();
  await customer.locator("[data-forget]", { hasText: "Confirmer" }).click();
  await customer.locator(".status.show", { hasText: "Chat effacé de cet appareil" }).waitFor();
  assert.equal(await customer.locator(".msg").count(), 0);
  const key = await customer.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith("switchyard.token")));
  assert.deepEqual(key, [], "the token left the device");
  await customer.reload();
  await customer.locator(".launcher").click();
  await customer.locator("form.prechat").waitFor();
  assert.equal(await customer.locator(".msg").count(), 0, "no history comes back");

  // Agents have no Privacy page; the admin's shows the request and erases in one click.
  assert.equal(await alice.locator("#privacy-button").isVisible(), false);
  const boss = await agentPage(browser);
  await login(boss, "ADMIN");
  await boss.locator("#privacy-button").click();
  const request = boss.locator("#privacy tr[data-request]");
  await request.waitFor();
  const address = (await request.locator("td").nth(1).innerText()).trim();
  assert.match(address, /^visitor:/);
  await boss.locator('#privacy tr[data-kind="raw_mails"]').waitFor();
  boss.once("dialog", (d) => d.accept(address));
  await request.locator("button.erase-request").click();
  await boss.locator("#privacy p", { hasText: "No request waiting." }).waitFor();
  await boss.locator('#privacy table.audit tr[data-action="customer_erasure"]').waitFor();
  // The log narrowed to one action: sign-ins only.
  await boss.locator('#privacy form.audit-lookup select[name="action"]').selectOption("login");
  await boss.locator("#privacy form.audit-lookup button").click();
  await boss.locator('#privacy table.audit tr[data-action="customer_erasure"]').waitFor({ state: "detached" });
  const actions = await boss.locator("#privacy table.audit tbody tr").evaluateAll((rows) => rows.map((r) => r.dataset.action));
  assert.ok(actions.length > 0 && actions.every((a) => a === "login"), actions.join(","));
  await screenshot(boss, "privacy-page");

  // The conversation stays as a skeleton that says so.
  const id = await boss.evaluate(async () => {
    const data = await (await fetch("/api/v1/conversations?status=resolved&limit=100")).json();
    const found = data.conversations.find((c) => c.erased_at);
    return found && found.id;
  });
  assert.ok(id, "the erased conversation is listed, resolved");
  await boss.goto(BASE + "/inbox#c/" + id);
  await boss.locator("#conversation .erased-banner").waitFor();
  assertNoProblems(customer);
  assertNoProblems(boss);
  await customer.context().close();
  await boss.context().close();
});

test("an agent chooses French: the inbox speaks it, dates included, and back to the browser's language", async () => {
  // Without a choice, the browser's language: a French browser gets the French login.
  const french = await newPage(browser);
  await french.goto(BASE + "/inbox");
  await french.locator("#login-form button[type=submit]", { hasText: "Se connecter" }).waitFor();
  await french.context().close();

  await alice.goto(BASE + "/inbox");
  await alice.locator("#logout", { hasText: "Sign out" }).waitFor();
  await alice.locator("#language").selectOption("fr");
  // The page reloads in French: the static page, the lists, the conversation's buttons.
  await alice.locator("#logout", { hasText: "Se déconnecter" }).waitFor();
  await alice.locator("#notify", { hasText: "Notifications désactivées" }).waitFor();
  assert.equal(await alice.locator('#presence option[value="online"]').innerText(), "En ligne");
  assert.equal(await alice.locator("#language").inputValue(), "fr");
  assert.equal(await alice.locator("#search").getAttribute("placeholder"), "Recherche : mots, n° de série, code, client  ( / )");
  const id = await alice.evaluate(async () => {
    const data = await (await fetch("/api/v1/conversations?status=open&limit=100")).json();
    return data.conversations[0] && data.conversations[0].id;
  });
  assert.ok(id, "an open conversation to look at");
  await alice.goto(BASE + "/inbox#c/" + id);
  await alice.locator("#conversation button.resolve", { hasText: "Résoudre" }).waitFor();
  await alice.locator("#conversation .composer .tab", { hasText: "Note privée" }).waitFor();
  await screenshot(alice, "inbox-in-french");
  // Kept in the profile: another browser of the same agent opens in French too.
  const me = await alice.evaluate(async () => (await (await fetch("/api/v1/me")).json()).agent.language);
  assert.equal(me, "fr");
  await alice.locator("#language").selectOption("");
  await alice.locator("#logout", { hasText: "Sign out" }).waitFor();
  assertNoProblems(alice);
});

test("an admin edits a rule with a mistake, sees where it is, fixes it, tries it and a chat is classified by it", async () => {
  const boss = await agentPage(browser);
  await login(boss, "ADMIN");
  await boss.locator("#rules-button").click();
  const editor = boss.locator("#rules-source");
  await editor.waitFor();
  assert.equal(await boss.evaluate(() => location.hash), "#rules");
  await boss.locator("#rules-origin", { hasText: "built-in" }).waitFor();

  // A mistake, named at its line and column as it is typed; a click puts the cursor on it.
  const broken = 'version = 1\n[keywords.cavitation]\nfr = ["cavitation"]\n[[rules]]\nname = "cavitation_inbox"\npriority = "urgentissime"\nqueue = "critical"\nwhen = { keywords = "cavitation" }\n';
  await editor.fill(broken);
  const problem = boss.locator("#rules-problems li", { hasText: "unknown priority" });
  await problem.waitFor();
  assert.match(await problem.innerText(), /line 6, column 12/);
  await problem.locator("button.rules-goto").click();
  const caret = await editor.evaluate((el) => el.selectionStart);
  assert.equal(caret, broken.indexOf('"urgentissime"'), "the cursor is where the mistake is");
  await screenshot(boss, "rules-mistake");

  // Fixed: no mistake left; tried on a message before saving.
  await editor.fill(broken.replace("urgentissime", "critical"));
  await boss.locator("#rules-summary", { hasText: "No mistake" }).waitFor();
  assert.equal(await boss.locator("#rules-problems li").count(), 0);
  await boss.locator("#rules-try-text").fill("La pompe 3 fait de la cavitation depuis ce matin");
  await boss.locator("#rules-try").click();
  await boss.locator("#rules-verdict .rules-verdict-rule", { hasText: "cavitation_inbox" }).waitFor();
  assert.equal(await boss.locator("#rules-verdict-priority").textContent(), "critical");

  // Saved: in force at once, in the history, and a chat message is classified by it.
  await boss.locator("#rules-note").fill("cavitation stops the pumps");
  await boss.locator("#rules-save").click();
  await boss.locator("#toast", { hasText: "Rules saved and in force" }).waitFor();
  await boss.locator("#rules-origin", { hasText: "inbox version" }).waitFor();
  await boss.locator("table.rules-history tbody tr", { hasText: "cavitation stops the pumps" }).waitFor();
  await screenshot(boss, "rules-saved");

  const chat = await newPage(browser);
  await chat.goto(BASE + "/");
  await chat.locator(".launcher").click();
  await chat.locator("form.prechat button", { hasText: "Commencer" }).click();
  await chat.locator("textarea").fill("Cavitation sur la pompe de gavage");
  await chat.locator("textarea").press("Enter");
  const ack = chat.locator(".msg.system").first();
  await ack.waitFor();
  const ticket = Number((await ack.innerText()).match(/SY-(\d+)/)[1]);
  const verdict = await boss.evaluate(async (id) => (await (await fetch("/api/v1/conversations/" + id)).json()).verdict, ticket);
  assert.equal(verdict.rules[0].rule, "cavitation_inbox");
  assert.equal(verdict.priority, "critical");
  await chat.context().close();

  // Back to the configured rules; both changes are in the audit log.
  await boss.locator("#rules-file").click();
  await boss.locator("#rules-origin", { hasText: "built-in" }).waitFor();
  const audit = await boss.evaluate(async () => (await (await fetch("/api/v1/admin/audit")).json()).entries.map((e) => e.action));
  assert.ok(audit.includes("rules_changed") && audit.includes("rules_back_to_file"), JSON.stringify(audit));
  assertNoProblems(boss);
  await boss.context().close();
});

test("an admin adds an agent who signs in, and dispatch follows the cap set on the team page", async () => {
  const boss = await agentPage(browser);
  await login(boss, "ADMIN");
  await boss.locator("#team-button").click();
  const team = boss.locator("#team");
  const form = team.locator("#team-add");
  await form.locator("input[name=username]").fill("carol");
  await form.locator("input[name=display_name]").fill("Carol Martin");
  await form.locator("input[name=password]").fill("carol-password-1");
  await form.locator("input[name=queues]").fill("critical");
  await form.locator("input[name=max_open]").fill("0");
  await form.locator("button[type=submit]").click();
  const row = team.locator('tr[data-agent="carol"]');
  await row.waitFor();
  assert.equal(await row.locator(".team-load").innerText(), "0 / 0");
  assert.equal(await row.locator("input[name=queues]").inputValue(), "critical");

  // The new agent signs in with the password the admin chose and goes online.
  const carol = await agentPage(browser);
  await carol.goto(BASE + "/inbox");
  await carol.fill("#login-form input[name=username]", "carol");
  await carol.fill("#login-form input[name=password]", "carol-password-1");
  await carol.click("#login-form button[type=submit]");
  await carol.locator("#me", { hasText: "Carol Martin" }).waitFor();
  await carol.locator("#presence").selectOption("online");
  await carol.locator("#toast", { hasText: "You are" }).waitFor();
  await boss.locator("#team-button").click();
  await boss.locator("#team-button").click();
  await team.locator('tr[data-agent="carol"][data-presence="online"]').waitFor();

  // A critical chat arrives: her cap is 0, so it waits in the queue.
  const chat = await newPage(browser);
  await chat.goto(BASE + "/");
  await chat.locator(".launcher").click();
  await chat.locator("form.prechat button", { hasText: "Commencer" }).click();
  await chat.locator("textarea").fill("La presse 7 est arrêtée, production bloquée, code E42");
  await chat.locator("textarea").press("Enter");
  const ack = chat.locator(".msg.system").first();
  await ack.waitFor();
  const ticket = Number((await ack.innerText()).match(/SY-(\d+)/)[1]);
  const assignee = () => boss.evaluate(async (id) => (await (await fetch("/api/v1/conversations/" + id)).json()).conversation.assignee_name, ticket);
  await new Promise((resolve) => setTimeout(resolve, 1500));
  assert.equal(await assignee(), null, "nobody has room for it");

  // Cap 1 on the team page: dispatch follows at once and offers it to her.
  await row.locator("input[name=max_open]").fill("1");
  await row.locator("button.team-save").click();
  await boss.locator("#toast", { hasText: "Queues and cap saved for Carol Martin" }).waitFor();
  await boss.waitForFunction(async (id) => (await (await fetch("/api/v1/conversations/" + id)).json()).conversation.assignee_name === "Carol Martin", ticket);
  await team.locator('tr[data-agent="carol"] .team-load', { hasText: "1 / 1" }).waitFor();
  await carol.locator("#presence").selectOption("offline");
  await screenshot(boss, "team");

  // A forgotten password: a one-time password, shown once, and her session ends.
  await team.locator('tr[data-agent="carol"] button.team-reset').click();
  const oneTime = await team.locator('tr[data-agent="carol"] .team-one-time code').innerText();
  assert.equal(oneTime.length, 20);
  const status = await carol.evaluate(async () => (await fetch("/api/v1/queues")).status);
  assert.equal(status, 401, "the reset ended her session");
  await chat.context().close();
  await carol.context().close();
  assertNoProblems(boss);
  await boss.context().close();
});

test("an admin adds a holiday on the hours page and sees the due time move, then saves it", async () => {
  const boss = await agentPage(browser);
  await login(boss, "ADMIN");
  await boss.locator("#sla-button").click();
  const page = boss.locator("#sla");
  const due = page.locator('#sla-preview tr[data-priority="faq"][data-timer="first_response"] td.due');
  await due.waitFor();
  const before = await due.getAttribute("data-local");
  const day = before.slice(0, 10);

  // The day the answer would be due is closed: the due time moves to a later day.
  const office = page.locator('fieldset.sla-calendar[data-calendar="office"]');
  await office.locator("input[name=new_holiday]").fill(day);
  await office.locator("button.sla-add-holiday").click();
  assert.match(await office.locator("textarea[name=holidays]").inputValue(), new RegExp(day));
  await boss.waitForFunction(([d]) => {
    const cell = document.querySelector('#sla-preview tr[data-priority="faq"][data-timer="first_response"] td.due');
    return cell && cell.dataset.local.slice(0, 10) > d;
  }, [day]);
  await screenshot(boss, "hours-holiday");

  // Saved and in force; then the configured hours again.
  await page.locator("#sla-save").click();
  await boss.locator("#toast", { hasText: "Service levels saved and in force" }).waitFor();
  await page.locator("#sla-origin", { hasText: "saved in the inbox" }).waitFor();
  assert.ok((await due.getAttribute("data-local")).slice(0, 10) > day);
  await page.locator("#sla-file").click();
  await page.locator("#sla-origin", { hasText: "the configuration file" }).waitFor();
  // (Within the minute the page was opened: compare the day, not the minute.)
  await boss.waitForFunction(([d]) => {
    const cell = document.querySelector('#sla-preview tr[data-priority="faq"][data-timer="first_response"] td.due');
    return cell && cell.dataset.local.slice(0, 10) === d;
  }, [day]);
  assertNoProblems(boss);
  await boss.context().close();
});

test("an admin keeps the lists, writes a knowledge entry from scratch and reads how the channels are doing", async () => {
  const boss = await agentPage(browser);
  await login(boss, "ADMIN");

  // A canned reply added on the Lists page is offered in the reply box.
  await boss.locator("#lists-button").click();
  const lists = boss.locator("#lists");
  await lists.locator("#canned-origin", { hasText: "built-in" }).waitFor();
  await lists.locator("#canned-add").click();
  const row = lists.locator("tr.canned-row").last();
  await row.locator("input[name=keyword]").fill("pompe");
  await row.locator("textarea[name=text]").fill("Pouvez-vous relever la pression de sortie de la pompe ?");
  await lists.locator("#canned-save").click();
  await boss.locator("#toast", { hasText: "Canned replies saved" }).waitFor();
  await lists.locator("#canned-origin", { hasText: "saved in the inbox" }).waitFor();
  const id = await boss.evaluate(async () => (await (await fetch("/api/v1/conversations?status=open&limit=1")).json()).conversations[0].id);
  // Same page, no reload: the reply box already knows the new reply.
  await boss.evaluate((c) => { location.hash = "#c/" + c; }, id);
  const view = boss.locator("#conversation");
  await view.locator(".reply-text").waitFor();
  await view.locator(".reply-text").pressSequentially("/pom");
  await view.locator(".canned li", { hasText: "/pompe" }).waitFor();
  await view.locator(".reply-text").press("Tab");
  assert.match(await view.locator(".reply-text").inputValue(), /pression de sortie de la pompe/);
  await view.locator(".reply-text").fill("");
  await boss.locator("#lists-button").click();
  await lists.locator("#canned-file").click();
  await lists.locator("#canned-origin", { hasText: "built-in" }).waitFor();

  // A knowledge entry written from scratch, then published.
  await boss.locator("#knowledge-button").click();
  const knowledge = boss.locator("#knowledge");
  await knowledge.locator("#knowledge-new").click();
  const form = knowledge.locator("form.knowledge-form");
  await form.locator("input[name=title]").fill("Graissage des roulements du malaxeur");
  await form.locator("textarea[name=questions]").fill("Tous les combien faut-il graisser les roulements du malaxeur ?");
  await form.locator("textarea[name=answer]").fill("Toutes les 500 heures, avec la graisse alimentaire H1 indiquée sur la plaque.");
  await form.locator("button.knowledge-save").click();
  const entry = knowledge.locator('tr[data-entry="kb-graissage-des-roulements-du-malaxeur"]');
  await entry.waitFor();
  await knowledge.locator("form.knowledge-form button.knowledge-publish").click();
  await knowledge.locator('tr[data-entry="kb-graissage-des-roulements-du-malaxeur"][data-status="published"]').waitFor();

  // The channels: the mailbox this run reads is connected.
  await boss.locator("#channels-button").click();
  const channels = boss.locator("#channels");
  await channels.locator('tr[data-mailbox="sav"] .mailbox-state', { hasText: "connected" }).waitFor();
  assert.equal(await channels.locator('tr[data-mailbox="sav"] .mailbox-state', { hasText: "not connected" }).count(), 0);
  await screenshot(boss, "channels");
  assertNoProblems(boss);
  await boss.context().close();
});
