// The clinician's workflows on screen (issue 19): drafts kept as one types and resumed
// (COMPOSE-5), saved replies previewed and inserted (REPLY-6), tasks from a message (CONV-7),
// the transcript for the chart (CONV-8), read receipts (CONV-2) and a broadcast (COMPOSE-6),
// each with a refusal shown to the user.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { apiAs, launch, newPage, signIn, unique } from "./browser.mjs";

let browser;
before(async () => (browser = await launch()));
after(async () => browser?.close());

test("drafts: compose is kept as a draft while typing, resumed from the list and sent once (COMPOSE-5)", async () => {
  const doctor = await apiAs("maple:physician");
  const page = await newPage(browser);
  await signIn(page, "maple:physician");
  await page.getByRole("link", { name: "Compose" }).click();
  await page.getByRole("searchbox", { name: "Patient" }).pressSequentially("jan", { delay: 40 });
  await page.getByRole("button", { name: "Jane Smith" }).click();
  const subject = unique("Blood pressure log");
  await page.getByLabel("Subject").fill(subject);
  await page.getByLabel("Message", { exact: true }).fill("Please send me your readings from this week.");
  await page.locator(".draft-status", { hasText: "Draft saved" }).waitFor();
  await page.getByRole("link", { name: "Inbox" }).click();
  await page.locator("a.row").first().waitFor();

  await page.getByRole("link", { name: "Compose" }).click();
  await page.locator("details.drafts summary").click();
  await page.getByRole("link", { name: subject }).click();
  await page.getByLabel("Message", { exact: true }).waitFor();
  await page.waitForFunction((s) => document.querySelector("input[id^=subject]")?.value === s, subject);
  assert.equal(await page.getByLabel("Message", { exact: true }).inputValue(), "Please send me your readings from this week.");
  await page.getByRole("button", { name: "Send" }).click();
  await page.locator(".thread h2", { hasText: subject }).waitFor();
  const { items } = await doctor.call("GET", "/drafts");
  assert.equal(items.filter((d) => d.subject === subject).length, 0, "sent drafts are gone");
  await page.context().close();
});

test("thread tools: a saved reply previewed and inserted, a task from a message done in My tasks, the transcript, read receipts (REPLY-6, CONV-7, CONV-8, CONV-2)", async () => {
  const admin = await apiAs("maple:admin");
  const doctor = await apiAs("maple:physician");
  const jane = await apiAs("maple:patient_jane");
  const title = unique("Lab follow-up");
  await admin.call("POST", "/saved-replies", { title, body: "Hi {{patient.firstName}}, your results are normal.", scope: "practice" });
  const subject = unique("Cholesterol");
  const { conversation } = await doctor.call("POST", "/conversations", { kind: "patient", patientId: jane.user.id, subject, body: "Your cholesterol results are in." });
  await jane.call("GET", `/conversations/${conversation.id}`);

  const page = await newPage(browser);
  await signIn(page, "maple:physician");
  await page.goto(page.url().replace(/#.*$/, `#/inbox/${conversation.id}`));
  await page.locator(".thread h2", { hasText: subject }).waitFor();
  await page.locator(".message .receipts", { hasText: "Read by Jane Smith" }).waitFor();

  // The saved replies load when the list is first focused.
  await page.getByLabel("Insert a saved reply").focus();
  await page.locator("option", { hasText: title }).waitFor({ state: "attached" });
  await page.getByLabel("Insert a saved reply").selectOption({ label: title });
  await page.locator(".saved-text", { hasText: "Hi Jane, your results are normal." }).waitFor();
  await page.getByRole("button", { name: "Insert" }).click();
  assert.equal(await page.getByLabel("Reply", { exact: true }).inputValue(), "Hi Jane, your results are normal.");

  // A task: an empty title is refused in the dialog; then one for today, done in My tasks.
  await page.getByRole("button", { name: /New task from the message/ }).first().click();
  const dialog = page.getByRole("dialog", { name: "New task" });
  await dialog.getByLabel("Task", { exact: true }).fill("");
  await dialog.getByRole("button", { name: "Add task" }).click();
  await dialog.locator(".error", { hasText: /title/i }).waitFor();
  const task = unique("Call about statins");
  await dialog.getByLabel("Task", { exact: true }).fill(task);
  await dialog.getByRole("button", { name: "Add task" }).click();
  await page.locator("#announcer", { hasText: "Task added" }).waitFor();

  const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Export text" }).click()]);
  const transcript = await readFile(await download.path(), "utf8");
  assert.match(transcript, new RegExp(subject));
  assert.match(transcript, /Your cholesterol results are in\./);
  const [fhir] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Export FHIR" }).click()]);
  assert.equal(JSON.parse(await readFile(await fhir.path(), "utf8")).resourceType, "Bundle");

  await page.getByRole("link", { name: "Tasks" }).click();
  const row = page.locator("li.task", { hasText: task });
  await row.waitFor();
  await row.getByRole("checkbox").check();
  await page.locator("li.task.done", { hasText: task }).waitFor();
  const { items } = await doctor.call("GET", "/tasks?assignee=me");
  assert.equal(items.find((t) => t.title === task)?.done, true);
  await page.context().close();
});

test("broadcast: the physician sends one message to two patients, each in a private copy, and sees a patient's answer; none chosen is refused (COMPOSE-6)", async () => {
  const page = await newPage(browser);
  await signIn(page, "maple:physician");
  await page.getByRole("link", { name: "Compose" }).click();
  await page.getByLabel("Broadcast to patients").check();
  const subject = unique("Flu shots");
  await page.getByLabel("Subject").fill(subject);
  await page.getByLabel("Message", { exact: true }).fill("Flu shots are available on weekdays from 8 to 5.");
  await page.getByRole("button", { name: "Send" }).click();
  await page.locator(".compose .error", { hasText: "Choose the patients of the broadcast." }).waitFor();
  for (const [typed, name] of [["jan", "Jane Smith"], ["joh", "John"]]) {
    await page.getByRole("searchbox", { name: "Patient" }).pressSequentially(typed, { delay: 40 });
    await page.getByRole("button", { name: new RegExp(name) }).first().click();
  }
  await page.locator(".chosen", { hasText: "2 patients chosen" }).waitFor();
  await page.getByRole("button", { name: "Send" }).click();
  await page.locator("#announcer", { hasText: "Broadcast sent to 2 patients" }).waitFor();
  // John answers in his own copy (Jane has used most of the demo practice's 10 messages a day
  // by now, REPLY-4); the physician sees the answer under Broadcasts.
  const john = await apiAs("maple:patient_john");
  const copy = (await john.call("GET", "/inbox?limit=50")).items.find((i) => i.conversation.subject === subject);
  assert.ok(copy, "John has his copy");
  await john.call("POST", `/conversations/${copy.conversation.id}/messages`, { body: "Can I come on Saturday?" });
  await page.getByRole("button", { name: "Broadcasts" }).click();
  await page.locator("a.row", { hasText: "Can I come on Saturday?" }).click();
  await page.locator(".message", { hasText: "Can I come on Saturday?" }).waitFor();
  assert.equal(await page.locator("a.row", { hasText: subject }).count(), 2, "one copy per patient");
  await page.context().close();
});
