// How long the inbox takes to show a loaded queue, in Debian's chromium:
// from navigation to the conversation list drawn, then to a conversation open.
// Not a test: a measurement against a running gateway, e.g. one that
// `sy-loadgen whatsapp` filled.
//
//   node tests/browser/inbox-load.mjs --url http://127.0.0.1:8080 --user admin --password … [--runs 10]

import { chromium } from "playwright-core";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    url: { type: "string", default: "http://127.0.0.1:8080" },
    user: { type: "string", default: "admin" },
    password: { type: "string" },
    runs: { type: "string", default: "10" },
    chromium: { type: "string", default: "/usr/bin/chromium" },
  },
});
if (!values.password) {
  console.error("--password is required");
  process.exit(2);
}

const browser = await chromium.launch({
  executablePath: values.chromium,
  headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run"],
});
const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
const page = await context.newPage();
await page.goto(values.url + "/inbox");
await page.fill("input[name=username]", values.user);
await page.fill("input[name=password]", values.password);
await page.click("#login-form button[type=submit]");
await page.locator("#app").waitFor({ state: "visible" });

// The busiest queue is the one to measure.
const queues = await page.evaluate(async () => (await (await fetch("/api/v1/queues")).json()).queues);
const busiest = queues.reduce((a, b) => (b.open > a.open ? b : a));
const open = queues.reduce((n, q) => n + q.open, 0);

const list = [];
const conversation = [];
for (let i = 0; i < Number(values.runs); i++) {
  const start = Date.now();
  await page.goto(values.url + "/inbox#queue/" + encodeURIComponent(busiest.name), { waitUntil: "commit" });
  await page.reload({ waitUntil: "commit" });
  await page.locator("#list-items .item").first().waitFor();
  list.push(Date.now() - start);
  const t = Date.now();
  await page.locator("#list-items .item").first().click();
  await page.locator("#conversation .timeline .msg").first().waitFor();
  conversation.push(Date.now() - t);
}
const items = await page.locator("#list-items .item").count();
await browser.close();

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(JSON.stringify({
  open_conversations: open,
  queue: busiest.name,
  queue_open: busiest.open,
  list_items_drawn: items,
  runs: list.length,
  page_to_list_ms: { median: median(list), max: Math.max(...list) },
  open_conversation_ms: { median: median(conversation), max: Math.max(...conversation) },
}, null, 2));
