// Shared set-up of the browser tests: Debian's Chromium driven by playwright-core,
// headless, against the local gateway of `make test` (BASE_URL).
import { chromium } from "playwright-core";
import { readFileSync, mkdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const BASE_URL = process.env.BASE_URL ?? "http://127.0.0.1:3000";
const here = path.dirname(fileURLToPath(import.meta.url));
export const SCREENSHOTS = process.env.SCREENSHOT_DIR ?? path.join(here, "..", "..", "docs", "screenshots");
mkdirSync(SCREENSHOTS, { recursive: true });

export const DESKTOP = { width: 1280, height: 860 };
export const PHONE = { width: 390, height: 844 };

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    // The machine's network is closed: no background connections, no component updates.
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-dev-shm-usage",
    ],
  });
}

/** A fresh context (its own sessionStorage) at the given screen size. */
export async function newPage(browser, viewport = DESKTOP) {
  const context = await browser.newContext({ viewport, acceptDownloads: true, bypassCSP: true, isMobile: viewport === PHONE, hasTouch: viewport === PHONE });
  const page = await context.newPage();
  page.setDefaultTimeout(30_000);
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  page.errors = errors;
  return page;
}

/** Signs in through the sign-in page's demo users (`maple:physician`, `maple:patient_jane`, ...):
 * the button fills in the user's username and password and submits the form. */
export async function signIn(page, who) {
  await page.goto(`${BASE_URL}/#/signin`);
  await page.locator(`[data-user="${who}"]`).click();
  await page.locator("header.topbar").waitFor();
}

export async function shot(page, name) {
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: false });
}

const axeSource = readFileSync(path.join(here, "..", "node_modules", "axe-core", "axe.min.js"), "utf8");

/** axe-core on the page as it is now: the violations of serious or critical impact. */
export async function seriousViolations(page) {
  if (!(await page.evaluate(() => "axe" in window))) await page.addScriptTag({ content: axeSource });
  const results = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { resultTypes: ["violations"] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(" ")).slice(0, 5) }));
  });
  return results.filter((v) => v.impact === "serious" || v.impact === "critical");
}

/** The unread count the navigation badge shows (0 when hidden). */
export async function badgeCount(page) {
  const badge = page.getByTestId("nav-unread");
  if (await badge.isHidden()) return 0;
  return Number(await badge.textContent());
}

/** Polls until `fn` returns a truthy value (the browser updates on its own time). */
export async function eventually(fn, what, ms = 15_000) {
  const deadline = Date.now() + ms;
  let last;
  while (Date.now() < deadline) {
    last = await fn();
    if (last) return last;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(last)})`);
}

/** Signs a demo user in at the local stack's user pool, as the sign-in page does
 * (InitiateAuth, USER_PASSWORD_AUTH, with the endpoint and client of /config.json): its ID token. */
export async function cognitoToken(user) {
  if (!user.username || !user.password) throw new Error(`${user.key} cannot sign in (no portal user or inactive)`);
  const config = await (await fetch(`${BASE_URL}/config.json`)).json();
  const r = await fetch(`${config.cognito.endpoint.replace(/\/+$/, "")}/`, {
    method: "POST",
    headers: {
      "content-type": "application/x-amz-json-1.1",
      "x-amz-target": "AWSCognitoIdentityProviderService.InitiateAuth",
    },
    body: JSON.stringify({
      AuthFlow: "USER_PASSWORD_AUTH",
      ClientId: config.cognito.clientId,
      AuthParameters: { USERNAME: user.username, PASSWORD: user.password },
    }),
  });
  const body = await r.json();
  if (!r.ok || !body.AuthenticationResult?.IdToken) throw new Error(`sign-in of ${user.key}: ${r.status} ${JSON.stringify(body)}`);
  return body.AuthenticationResult.IdToken;
}

/** The API as a demo user, for set-up that is not what a test is about. */
export async function apiAs(who) {
  const [practiceKey, userKey] = who.split(":");
  const demo = await (await fetch(`${BASE_URL}/_local/demo-users`)).json();
  const practice = demo.practices.find((p) => p.key === practiceKey);
  const user = practice.users.find((u) => u.key === userKey);
  const token = await cognitoToken(user);
  return {
    user,
    async call(method, path, body) {
      const r = await fetch(`${BASE_URL}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await r.text();
      if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${text}`);
      return text ? JSON.parse(text) : undefined;
    },
  };
}

export function unique(label) {
  return `${label} ${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
}
