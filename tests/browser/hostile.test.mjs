// Hostile content in the inbox (tests/tests/hostile_content.rs sent it): every
// conversation opened under a trap. Nothing may run (__pwn called, a dialog
// opened), navigate away, open a window or reach trap.invalid; every text the
// customer typed is shown as text.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { BASE, launch, agentPage, login, screenshot } from "./support.mjs";

const manifest = JSON.parse(readFileSync(process.env.SY_HOSTILE_MANIFEST, "utf8"));
const payloadCount = Number(process.env.SY_HOSTILE_PAYLOADS);

let browser, page;
const sprung = [];

/** What a reader sees of a text: no control, zero-width or bidi characters, whitespace collapsed. */
function visible(text) {
  return text
    .replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069]/g, " ")
    .replace(/\s+/g, " ")
    .trim();
}

before(async () => {
  browser = await launch();
  page = await agentPage(browser);
  // The trap, in every frame before any of its scripts: a payload that runs calls it.
  await page.context().addInitScript(() => {
    window.__pwn = (id) => {
      try {
        window.top.__sprung = (window.top.__sprung || []).concat([String(id)]);
      } catch (_) {
        // A sandboxed frame cannot reach the top; the console line still tells.
      }
      console.log("HOSTILE-PAYLOAD-RAN " + id);
    };
  });
  page.on("dialog", async (d) => {
    sprung.push("dialog: " + d.message());
    await d.dismiss();
  });
  page.on("popup", (p) => sprung.push("popup: " + p.url()));
  page.on("console", (m) => {
    if (m.text().startsWith("HOSTILE-PAYLOAD-RAN")) sprung.push("console: " + m.text());
  });
  // A load the page's CSP stops never leaves the browser; any other attempt on
  // trap.invalid (it fails to resolve) is a request that would have reached out.
  const trapped = (r) => new URL(r.url()).hostname.endsWith("trap.invalid");
  page.context().on("requestfailed", (r) => {
    const why = r.failure()?.errorText || "";
    if (trapped(r) && why !== "csp" && !why.includes("BLOCKED_BY_CSP")) sprung.push(`request: ${r.url()} from ${r.frame()?.url()} (${why})`);
  });
  page.context().on("requestfinished", (r) => {
    if (trapped(r)) sprung.push(`request: ${r.url()} from ${r.frame()?.url()} (answered)`);
  });
  page.on("framenavigated", (f) => {
    if (f === page.mainFrame() && !f.url().startsWith(BASE + "/inbox")) sprung.push("navigated: " + f.url());
  });
  await login(page, "ADMIN");
});

after(async () => {
  await browser?.close();
});

test("every hostile conversation opens inert, its texts shown as text", async () => {
  assert.ok(manifest.length >= payloadCount * 3, `${manifest.length} conversations for ${payloadCount} payloads`);
  const view = page.locator("#conversation");
  let opened = 0;
  let textsChecked = 0;
  let framesChecked = 0;
  for (const c of manifest) {
    await page.goto(`${BASE}/inbox#c/${c.conversation}`);
    // This conversation's thread, drawn (the previous one's may still be on screen).
    await page.waitForFunction((id) => {
      const ticket = document.querySelector("#conversation .conv-title .ticket");
      return ticket && ticket.textContent.endsWith("-" + id) && document.querySelector("#conversation .timeline article.msg");
    }, c.conversation, { timeout: 15000 });
    const shown = visible(await view.innerText());
    for (const text of c.texts) {
      const wanted = visible(text);
      // A long text may be cut in the thread; its start must be there, as text.
      const prefix = wanted.slice(0, 120);
      assert.ok(shown.includes(prefix), `${c.channel} ${c.payload}: ${JSON.stringify(prefix)} not shown as text in ${JSON.stringify(shown.slice(0, 600))}`);
      textsChecked += 1;
    }
    // An email's HTML: sandboxed without scripts, nothing executable left in it.
    for (const handle of await view.locator("iframe.mail-frame").elementHandles()) {
      const sandbox = await handle.getAttribute("sandbox");
      assert.ok(sandbox !== null && !sandbox.includes("allow-scripts"), `${c.payload}: sandbox ${sandbox}`);
      const frame = await handle.contentFrame();
      if (!frame) continue;
      await frame.waitForLoadState();
      const executable = await frame.evaluate(() => {
        const found = [];
        for (const el of document.querySelectorAll("*")) {
          if (["SCRIPT", "IFRAME", "OBJECT", "EMBED", "LINK", "FORM"].includes(el.tagName)) found.push(el.tagName);
          // The gateway's own wrapper has <meta charset> and <base target>; a mail's refresh or base URL must not survive.
          if (el.tagName === "META" && el.hasAttribute("http-equiv")) found.push("META[http-equiv]");
          if (el.tagName === "BASE" && el.hasAttribute("href")) found.push("BASE[href]");
          for (const a of el.attributes) {
            if (a.name.startsWith("on")) found.push(`${el.tagName}[${a.name}]`);
            if (/^\s*(javascript|data|vbscript):/i.test(a.value) && ["href", "src", "action", "xlink:href", "srcdoc", "formaction"].includes(a.name)) {
              found.push(`${el.tagName}[${a.name}=${a.value.slice(0, 40)}]`);
            }
          }
        }
        return found;
      });
      assert.deepEqual(executable, [], `${c.payload}: executable content left in the mail`);
      framesChecked += 1;
    }
    // Let anything that would fire on load (onerror, onload, autofocus, meta refresh) fire.
    await page.waitForTimeout(50);
    opened += 1;
    if (c.payload === "P01") await screenshot(page, `hostile-${c.channel}`);
  }
  const inPage = await page.evaluate(() => window.__sprung || []);
  assert.deepEqual(sprung.concat(inPage), [], "a payload ran, navigated or reached out");
  assert.equal(opened, manifest.length);
  assert.ok(textsChecked >= payloadCount * 4, `${textsChecked} texts checked`);
  assert.ok(framesChecked >= payloadCount, `${framesChecked} mail frames checked`);
  console.log(`opened ${opened} conversations, ${textsChecked} texts and ${framesChecked} mail frames checked, ${payloadCount} payloads`);
});
