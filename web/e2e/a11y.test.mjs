// Accessibility (issue 9): axe-core finds no serious or critical violation on any screen,
// and the inbox works from the keyboard alone.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { BASE_URL, launch, newPage, PHONE, seriousViolations, signIn } from "./browser.mjs";

let browser;
before(async () => (browser = await launch()));
after(async () => browser?.close());

async function clean(page, screen) {
  const violations = await seriousViolations(page);
  assert.deepEqual(violations, [], `${screen}: ${JSON.stringify(violations, null, 2)}`);
}

test("axe-core: no serious violation on any screen, desktop and phone", async () => {
  for (const viewport of [undefined, PHONE]) {
    const size = viewport ? "phone" : "desktop";
    const page = await newPage(browser, viewport);
    await page.goto(`${BASE_URL}/#/signin`);
    await page.locator("[data-user]").first().waitFor();
    await clean(page, `${size} sign-in`);
    // A wrong password's refusal, said in the form.
    await page.getByLabel("Username").fill("usr_nobody");
    await page.getByLabel("Password", { exact: true }).fill("Wrong-Password-1");
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await page.locator("#signin-error", { hasText: "Wrong username or password" }).waitFor();
    await clean(page, `${size} sign-in refused`);

    await signIn(page, "maple:physician");
    await page.locator("a.row").first().waitFor();
    await clean(page, `${size} inbox`);
    await page.locator("a.row").first().click();
    await page.locator(".thread .message").first().waitFor();
    await clean(page, `${size} thread`);
    await page.getByRole("button", { name: "Assign" }).click();
    await page.locator("dialog[open] input[type=checkbox]").first().waitFor();
    await clean(page, `${size} assign dialog`);
    await page.locator("dialog[open]").getByRole("button", { name: "Cancel" }).click();
    await page.getByRole("button", { name: "Forward" }).click();
    await page.locator("dialog[open] input[type=checkbox]").first().waitFor();
    await clean(page, `${size} forward dialog`);
    await page.keyboard.press("Escape");
    await page.getByRole("link", { name: "Compose" }).click();
    await page.getByRole("heading", { name: "New message" }).waitFor();
    await page.getByLabel("Team").check();
    await page.locator(".choices input[type=checkbox]").first().waitFor();
    await clean(page, `${size} compose`);
    await page.getByLabel("Broadcast to patients").check();
    await clean(page, `${size} compose broadcast`);
    await page.getByRole("link", { name: "Tasks" }).click();
    await page.getByRole("heading", { name: "My tasks" }).waitFor();
    await clean(page, `${size} tasks`);
    await page.getByRole("link", { name: "(your settings)" }).click();
    await page.getByRole("heading", { name: "Out of office" }).waitFor();
    await clean(page, `${size} your settings`);

    await signIn(page, "maple:admin");
    await page.goto(`${BASE_URL}/#/settings`);
    await page.getByRole("button", { name: "Save settings" }).waitFor();
    await clean(page, `${size} settings`);
    await page.getByRole("link", { name: "Reports" }).click();
    await page.locator(".report-results h2").first().waitFor();
    await clean(page, `${size} reports`);
    await page.getByRole("link", { name: "Staff" }).click();
    await page.locator(".staff-admin table tbody tr").first().waitFor();
    await clean(page, `${size} staff`);
    await page.getByRole("link", { name: "Patients" }).click();
    await page.getByLabel("Find a patient").fill("smi");
    await page.getByRole("button", { name: "Find" }).click();
    await page.getByRole("link", { name: "Jane Smith" }).click();
    await page.getByRole("heading", { name: "Jane Smith" }).waitFor();
    await clean(page, `${size} patient record`);
    await page.getByRole("link", { name: "Workgroups" }).click();
    await page.locator("form[data-workgroup]").first().waitFor();
    await clean(page, `${size} workgroups`);
    await page.getByRole("link", { name: "Audit log" }).first().click();
    await page.getByLabel("Find a patient").waitFor();
    await clean(page, `${size} audit log`);

    await signIn(page, "maple:patient_jane");
    await page.locator("a.row").first().waitFor();
    await clean(page, `${size} portal`);
    await page.locator("a.row").first().click();
    await page.locator(".thread .message").first().waitFor();
    await clean(page, `${size} portal thread`);
    await page.goto(`${BASE_URL}/#/portal/compose`);
    await page.locator(".banner p:not(.muted)").waitFor();
    await clean(page, `${size} portal compose`);
    await page.context().close();
  }
});

test("keyboard: tab to a conversation, open it, reply, and Escape closes a dialog", async () => {
  const page = await newPage(browser);
  await signIn(page, "maple:physician");
  await page.locator("a.row").first().waitFor();
  await page.getByLabel("Search conversations").focus();
  let reached = false;
  for (let i = 0; i < 40 && !reached; i++) {
    await page.keyboard.press("Tab");
    reached = await page.evaluate(() => document.activeElement?.matches("a.row") ?? false);
  }
  assert.ok(reached, "a conversation row is reachable with Tab");
  await page.keyboard.press("Enter");
  await page.locator(".thread .message").first().waitFor();
  await page.getByRole("button", { name: "Assign" }).focus();
  await page.keyboard.press("Enter");
  await page.locator("dialog[open]").waitFor();
  assert.ok(await page.evaluate(() => document.activeElement?.closest("dialog") !== null), "focus moves into the dialog");
  await page.keyboard.press("Escape");
  await page.locator("dialog[open]").waitFor({ state: "detached" });
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), "Assign", "focus returns to the opener");
  await page.getByLabel("Reply", { exact: true }).focus();
  await page.keyboard.type("Typed with the keyboard only.");
  await page.getByRole("button", { name: "Send" }).focus();
  await page.keyboard.press("Enter");
  await page.locator(".message", { hasText: "Typed with the keyboard only." }).waitFor();
  await page.context().close();
});

/** Presses Tab until the focused element matches `selector` (and `text`, if given). */
async function tabTo(page, selector, text) {
  for (let i = 0; i < 60; i++) {
    await page.keyboard.press("Tab");
    const here = await page.evaluate(([s, t]) => {
      const el = document.activeElement;
      return !!el?.matches(s) && (!t || (el.textContent ?? "").includes(t));
    }, [selector, text]);
    if (here) return;
  }
  assert.fail(`Tab never reached ${selector} ${text ?? ""}`);
}

test("keyboard: an administrator reaches a patient's record from the navigation, finds a patient and saves the record", async () => {
  const page = await newPage(browser);
  await signIn(page, "maple:admin");
  await page.locator("header .brand").focus();
  await tabTo(page, "a.nav-link", "Patients");
  await page.keyboard.press("Enter");
  await tabTo(page, "input[type=search]");
  await page.keyboard.type("smi");
  await page.keyboard.press("Enter");
  await tabTo(page, ".patient-results a", "Jane Smith");
  await page.keyboard.press("Enter");
  await page.getByRole("heading", { name: "Jane Smith" }).waitFor();
  await tabTo(page, "button[type=submit]", "Save changes");
  await page.keyboard.press("Enter");
  await page.locator("#announcer", { hasText: "Jane Smith: changes saved" }).waitFor();
  await page.context().close();
});
