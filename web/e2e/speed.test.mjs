// The page's weight and chattiness (issue 19), as a report the browser tests print, not a
// timed assertion: JavaScript shipped (gzip), the time from sign-in to the first inbox row on
// the local stack, and the API requests each screen makes when it loads (the badge's
// /inbox/stats poll counted apart). Goals: under 60 kB of JavaScript, one API request a screen.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { BASE_URL, launch, newPage } from "./browser.mjs";

const dist = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "dist", "assets");

let browser;
before(async () => (browser = await launch()));
after(async () => browser?.close());

/** The API requests a page makes while `load` runs, the badge's apart. */
async function requestsDuring(page, load) {
  const seen = [];
  const listen = (r) => {
    const url = new URL(r.url());
    if (url.origin === new URL(BASE_URL).origin && !url.pathname.startsWith("/assets") && r.resourceType() === "fetch") seen.push(url.pathname);
  };
  page.on("request", listen);
  await load();
  await page.waitForLoadState("networkidle");
  page.off("request", listen);
  return { api: seen.filter((p) => p !== "/inbox/stats" && p !== "/config.json"), badge: seen.filter((p) => p === "/inbox/stats").length };
}

test("speed: JavaScript shipped, time to the first inbox row, requests per screen (report)", async () => {
  const js = readdirSync(dist).filter((f) => f.endsWith(".js"));
  const gzip = js.reduce((sum, f) => sum + gzipSync(readFileSync(path.join(dist, f))).length, 0);

  const page = await newPage(browser);
  await page.goto(`${BASE_URL}/#/signin`);
  await page.locator('[data-user="maple:physician"]').waitFor();
  const started = Date.now();
  await page.locator('[data-user="maple:physician"]').click();
  await page.locator("a.row").first().waitFor();
  const firstRow = Date.now() - started;

  const screens = [];
  const measure = async (name, load) => screens.push({ name, ...(await requestsDuring(page, load)) });
  await measure("inbox (reload)", async () => {
    await page.reload();
    await page.locator("a.row").first().waitFor();
  });
  await measure("thread", async () => {
    await page.locator("a.row").first().click();
    await page.locator(".thread .message").first().waitFor();
  });
  await measure("compose", async () => {
    await page.getByRole("link", { name: "Compose" }).click();
    await page.getByRole("heading", { name: "New message" }).waitFor();
  });
  await page.context().close();

  const lines = [
    `JavaScript shipped: ${(gzip / 1024).toFixed(1)} kB gzip in ${js.length} file(s) (goal: under 60 kB) ${gzip < 60 * 1024 ? "met" : "MISSED"}`,
    `sign-in to the first inbox row: ${firstRow} ms on the local stack`,
    ...screens.map((s) => `${s.name}: ${s.api.length} API request(s) ${JSON.stringify(s.api)}, badge ${s.badge} (goal: 1) ${s.api.length <= 1 ? "met" : "missed"}`),
  ];
  console.log(`\nweb speed report\n  ${lines.join("\n  ")}\n`);
  assert.ok(js.length > 0 && screens.length === 3, "the report has its figures");
});
