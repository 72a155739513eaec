// The same journeys on a phone-sized screen (seed 002): the list is full width, a row opens
// the thread in its place, Back returns to the list.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { apiAs, launch, newPage, PHONE, signIn, unique } from "./browser.mjs";

let browser;
before(async () => (browser = await launch()));
after(async () => browser?.close());

test("phone: the physician opens a thread from a full-width list, replies and assigns", async () => {
  const subject = unique("Phone refill");
  const john = await apiAs("maple:patient_john");
  await john.call("POST", "/conversations", { subject, body: "Asked from my phone." });

  const page = await newPage(browser, PHONE);
  await signIn(page, "maple:physician");
  const list = page.locator(".list-pane");
  const row = page.locator("a.row", { hasText: subject });
  await row.waitFor();
  const listBox = await list.boundingBox();
  assert.ok(listBox.width > PHONE.width * 0.9, `the list is full width (${listBox.width}px)`);
  assert.ok(await page.locator(".thread-pane").isHidden(), "no thread pane beside the list");

  await row.click();
  await page.locator(".thread h2", { hasText: subject }).waitFor();
  assert.ok(await list.isHidden(), "the thread takes the list's place");
  await page.getByLabel("Reply", { exact: true }).fill("Sent to your pharmacy.");
  await page.getByRole("button", { name: "Send" }).click();
  await page.locator(".message", { hasText: "Sent to your pharmacy." }).waitFor();
  await page.getByRole("button", { name: "Assign" }).click();
  const dialog = page.locator("dialog[open]");
  await dialog.getByLabel(/Sam Rivera/).check();
  await dialog.getByRole("button", { name: "Save" }).click();
  await page.locator(".meta-assignees", { hasText: "Assigned to Sam Rivera" }).waitFor();

  await page.getByRole("button", { name: "← Back" }).click();
  await row.waitFor();
  assert.ok(await page.locator(".thread-pane").isHidden());
  assert.deepEqual(page.errors, []);
  await page.context().close();

  const nurse = await newPage(browser, PHONE);
  await signIn(nurse, "maple:nurse");
  await nurse.getByLabel("Assignment").selectOption("me");
  await nurse.locator("a.row", { hasText: subject }).click();
  await nurse.locator(".message", { hasText: "Sent to your pharmacy." }).waitFor();
  await nurse.context().close();
});

test("phone: a patient writes to the practice", async () => {
  const page = await newPage(browser, PHONE);
  await signIn(page, "maple:patient_jane");
  await page.getByRole("heading", { name: "Your messages" }).waitFor();
  await page.locator(".list-head").getByRole("link", { name: "New message" }).click();
  await page.locator(".banner", { hasText: "For emergencies call 911" }).waitFor();
  assert.ok(await page.locator(".list-pane").isHidden(), "the form takes the list's place");
  const subject = unique("Phone question");
  await page.getByLabel("Subject").fill(subject);
  await page.getByLabel("Message", { exact: true }).fill("Written on my phone.");
  await page.getByRole("button", { name: "Send" }).click();
  await page.locator(".thread h2", { hasText: subject }).waitFor();

  const doctor = await newPage(browser, PHONE);
  await signIn(doctor, "maple:physician");
  await doctor.locator("a.row", { hasText: subject }).click();
  await doctor.locator(".message", { hasText: "Written on my phone." }).waitFor();
  assert.deepEqual(page.errors, []);
  await page.context().close();
  await doctor.context().close();
});
