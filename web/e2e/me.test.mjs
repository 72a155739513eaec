// Each user's own settings (issue 19): notifications of new messages (NOTIFY-1, ACCT-4: a new
// address waits for the code sent to it), the out-of-office reply (REPLY-5), and where the
// authenticator app stands (ACCT-3), with a refusal of each shown on screen.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { apiAs, launch, newPage, PHONE, signIn } from "./browser.mjs";

let browser;
before(async () => (browser = await launch()));
after(async () => browser?.close());

test("your settings: the physician sets and clears an out-of-office, turns notifications off and on; a reversed period and a wrong code are refused (REPLY-5, NOTIFY-1, ACCT-4)", async () => {
  const doctor = await apiAs("maple:physician");
  const page = await newPage(browser);
  await signIn(page, "maple:physician");
  await page.getByRole("link", { name: "Your settings" }).click();
  await page.getByRole("heading", { name: "Your settings" }).waitFor();

  await page.getByLabel("Away from").fill("2027-03-10");
  await page.getByLabel("Back on").fill("2027-03-01");
  await page.getByLabel("Reply to patients").fill("I am away until March 10. Dr. Lee covers for me.");
  await page.getByRole("button", { name: "Save out of office" }).click();
  await page.locator(".me .error", { hasText: "after" }).waitFor();
  assert.equal((await doctor.call("GET", "/me/out-of-office")).outOfOffice, null, "a refused period stores nothing");
  await page.getByLabel("Away from").fill("2027-03-01");
  await page.getByLabel("Back on").fill("2027-03-10");
  await page.getByRole("button", { name: "Save out of office" }).click();
  await page.locator(".me p", { hasText: "Set from 2027-03-0" }).waitFor();
  assert.match((await doctor.call("GET", "/me/out-of-office")).outOfOffice.text, /away until March 10/);
  await page.getByRole("button", { name: "Clear" }).click();
  await page.locator(".me p", { hasText: "Not set." }).waitFor();

  await page.getByLabel("Notify me by").selectOption("none");
  await page.getByRole("button", { name: "Save notifications" }).click();
  await page.locator(".me p", { hasText: "You get no notifications." }).waitFor();
  await page.getByLabel("Notify me by").selectOption("email");
  await page.getByLabel("New email address or mobile number (optional)").fill("dr.lee.new@example.test");
  await page.getByRole("button", { name: "Save notifications" }).click();
  await page.locator(".pending", { hasText: "We sent a 6-digit code to dr.lee.new@example.test" }).waitFor();
  await page.getByLabel("Code", { exact: true }).fill("000000");
  await page.getByRole("button", { name: "Confirm" }).click();
  await page.locator(".pending .error").filter({ hasText: /code/i }).waitFor();
  // The address on file stays in force until a code proves the new one.
  await page.getByLabel("Notify me by").selectOption("email");
  await page.getByLabel("New email address or mobile number (optional)").fill("");
  await page.getByRole("button", { name: "Save notifications" }).click();
  await page.locator(".me p", { hasText: "Notifications go to" }).waitFor();
  const { notifications } = await doctor.call("GET", "/me/notifications");
  assert.equal(notifications.channel, "email");
  assert.notEqual(notifications.destination, "dr.lee.new@example.test");
  await page.context().close();
});

test("your settings: a patient without an authenticator app is offered one, at phone width (ACCT-3)", async () => {
  const page = await newPage(browser, PHONE);
  await signIn(page, "maple:patient_jane");
  await page.getByRole("link", { name: "Your settings" }).click();
  await page.getByRole("heading", { name: "Notifications of new messages" }).waitFor();
  assert.equal(await page.getByRole("heading", { name: "Out of office" }).count(), 0, "staff only");
  await page.getByRole("link", { name: "Set up an authenticator app" }).click();
  await page.getByRole("heading", { name: "Set up your authenticator app" }).waitFor();
  await page.getByTestId("totp-secret").waitFor();
  await page.context().close();
});
