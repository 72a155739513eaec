// The administrator's screens (issue 19): the practice settings (SET-1) and the reply-time
// promise patients are shown (SLA-1, SLA-4), saved from the browser, with a refusal naming
// its field on screen; the reports of reply times and billing (SLA-5, EVISIT-4) with their CSV.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { apiAs, launch, newPage, signIn, unique } from "./browser.mjs";

let browser;
before(async () => (browser = await launch()));
after(async () => browser?.close());

test("settings: the administrator sets the banner and the reply promise; a bad value is refused on screen (SET-1, SLA-1)", async () => {
  const admin = await apiAs("maple:admin");
  const { settings: before } = await admin.call("GET", "/settings");
  try {
    const page = await newPage(browser);
    await signIn(page, "maple:admin");
    await page.getByRole("link", { name: "Settings", exact: true }).click();
    await page.getByRole("button", { name: "Save settings" }).waitFor();
    await page.getByLabel("Banner shown above the patient's message").fill("For emergencies call 911. We reply on weekdays.");
    await page.getByRole("spinbutton", { name: "Urgent messages: reply within" }).fill("3");
    await page.getByRole("combobox", { name: "Urgent messages: reply within (unit)" }).selectOption("businessHours");
    await page.getByLabel("Escalate at (% of the target)").fill("80");
    await page.getByRole("button", { name: "Save settings" }).click();
    await page.locator("#announcer", { hasText: "Settings saved" }).waitFor();
    const { settings } = await admin.call("GET", "/settings");
    assert.equal(settings.patientBanner, "For emergencies call 911. We reply on weekdays.");
    assert.deepEqual(settings.replyTargets.urgent, { businessHours: 3 });
    assert.equal(settings.escalation.atShare, 0.8);
    assert.deepEqual(settings.escalation.to, before.escalation.to, "the escalation target kept");

    // A refusal names its field, which gets the focus; nothing of the form is stored.
    await page.getByLabel("Longest staff message (characters)").fill("30000");
    await page.getByLabel("Messages a patient may send a day").fill("7");
    await page.getByRole("button", { name: "Save settings" }).click();
    await page.locator(".settings .error", { hasText: "bodyMaxChars must be from 1 to 20000" }).waitFor();
    assert.equal(await page.evaluate(() => document.activeElement?.id.startsWith("bodyMaxChars")), true);
    const { settings: after } = await admin.call("GET", "/settings");
    assert.equal(after.patientMessagesPerDay, settings.patientMessagesPerDay, "a refused save stores nothing");
    await page.context().close();
  } finally {
    const { patientBanner, replyTargets, escalation } = before;
    await admin.call("PUT", "/settings", { patientBanner, replyTargets, escalation });
  }
});

test("settings: only the administrators have the screen", async () => {
  const page = await newPage(browser);
  await signIn(page, "maple:physician");
  await page.locator("a.row").first().waitFor();
  assert.equal(await page.getByRole("link", { name: "Settings", exact: true }).count(), 0);
  await page.goto(page.url().replace(/#.*$/, "#/settings"));
  await page.locator("a.row").first().waitFor();
  assert.equal(await page.getByRole("button", { name: "Save settings" }).count(), 0, "the inbox, not the settings");
  await page.context().close();
});

test("reports: reply times and e-visits of a period, their CSV, and a refused range (SLA-5, EVISIT-4)", async () => {
  const jane = await apiAs("maple:patient_jane");
  const physician = await apiAs("maple:physician");
  const asked = await jane.call("POST", "/conversations", { subject: unique("Opening hours"), body: "When are you open?" });
  await physician.call("POST", `/conversations/${asked.conversation.id}/messages`, { body: "Weekdays, 8 to 5." });
  const knee = await jane.call("POST", "/conversations", { subject: unique("Knee"), body: "My knee hurts when I climb stairs." });
  await physician.call("POST", `/conversations/${knee.conversation.id}/evisit`, {});
  await physician.call("POST", `/conversations/${knee.conversation.id}/evisit/time`, { seconds: 400, source: "active" });

  const page = await newPage(browser);
  await signIn(page, "maple:admin");
  await page.getByRole("link", { name: "Reports" }).click();
  const replies = page.locator("table.report").first();
  await replies.locator("td", { hasText: /^normal$/ }).waitFor();
  const evisit = page.locator("table.report tr", { hasText: "99421" });
  await evisit.first().waitFor();
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("button", { name: "Download reply times (CSV)" }).click(),
  ]);
  const csv = await readFile(await download.path(), "utf8");
  assert.match(csv, /^key,replies,medianMinutes,p90Minutes,withinTarget\n/);
  assert.match(csv, /\nnormal,\d+,/);

  await page.getByLabel("From").fill("2026-12-31");
  await page.getByLabel("To").fill("2026-01-01");
  await page.getByRole("button", { name: "Show" }).click();
  await page.locator(".reports .error", { hasText: "after" }).waitFor();
  await page.context().close();
});

test("staff: the administrator adds a nurse, who is listed and invited, deactivates, reactivates and edits her; a bad email and a bad phone are refused (ROLE-1, ACCT-2)", async () => {
  const admin = await apiAs("maple:admin");
  const page = await newPage(browser);
  await signIn(page, "maple:admin");
  await page.getByRole("link", { name: "Staff" }).click();
  await page.locator("table.report tbody tr").first().waitFor();
  const last = `Okafor${Date.now().toString(36)}`;

  // Refused first: an email that is none. Nothing is added.
  await page.getByLabel("First name").fill("Ngozi");
  await page.getByLabel("Last name").fill(last);
  await page.getByLabel("Role", { exact: true }).selectOption("nurse");
  await page.getByLabel("Email").fill("not-an-email");
  await page.getByRole("button", { name: "Add and invite" }).click();
  await page.locator(".staff-admin .error", { hasText: /email/i }).waitFor();
  assert.equal(await page.locator("tr", { hasText: last }).count(), 0);

  await page.getByLabel("Email").fill(`ngozi.${last.toLowerCase()}@example.test`);
  await page.getByRole("button", { name: "Add and invite" }).click();
  const row = page.locator("tr", { hasText: last });
  await row.waitFor();
  assert.match(await row.textContent(), /Nurse.*active/s);

  await page.getByRole("button", { name: `Deactivate Ngozi ${last}` }).click();
  await row.locator("td", { hasText: "deactivated" }).waitFor();
  const { items } = await admin.call("GET", "/staff?include=inactive");
  assert.equal(items.find((s) => s.lastName === last).active, false);
  await page.getByRole("button", { name: `Reactivate Ngozi ${last}` }).click();
  await row.locator("td", { hasText: /^active$/ }).waitFor();

  // Edit: a bad phone is refused in the dialog; a new email is saved.
  await page.getByRole("button", { name: `Edit Ngozi ${last}` }).click();
  const dialog = page.getByRole("dialog", { name: `Edit Ngozi ${last}` });
  await dialog.getByLabel("Phone").fill("12345");
  await dialog.getByRole("button", { name: "Save" }).click();
  await dialog.locator(".error", { hasText: "phone" }).waitFor();
  await dialog.getByLabel("Phone").fill("");
  await dialog.getByLabel("Email").fill(`n.${last.toLowerCase()}@example.test`);
  await dialog.getByRole("button", { name: "Save" }).click();
  await row.locator("td", { hasText: `n.${last.toLowerCase()}@example.test` }).waitFor();
  await page.context().close();
});

test("patients: the administrator finds a patient and changes the care team; a one-letter search is refused; the record's audit log verifies (ACCT-2, SEC-2)", async () => {
  const page = await newPage(browser);
  await signIn(page, "maple:admin");
  await page.getByRole("link", { name: "Patients" }).click();
  // Refused first: one letter is not a search.
  await page.getByLabel("Find a patient").fill("s");
  await page.getByRole("button", { name: "Find" }).click();
  await page.locator(".patients-admin .error", { hasText: "2 letters" }).waitFor();
  await page.getByLabel("Find a patient").fill("smi");
  await page.getByRole("button", { name: "Find" }).click();
  await page.getByRole("link", { name: "Jane Smith" }).click();
  await page.getByRole("heading", { name: "Jane Smith" }).waitFor();
  const team = page.locator("fieldset", { hasText: "Care team" });
  const front = team.getByRole("checkbox").last();
  const was = await front.isChecked();
  await front.setChecked(!was);
  await page.getByRole("button", { name: "Save changes" }).click();
  await page.locator("#announcer", { hasText: "Jane Smith: changes saved" }).waitFor();
  await page.getByRole("heading", { name: "Jane Smith" }).waitFor();
  assert.equal(await page.locator("fieldset", { hasText: "Care team" }).getByRole("checkbox").last().isChecked(), !was);
  await page.locator("fieldset", { hasText: "Care team" }).getByRole("checkbox").last().setChecked(was);
  await page.getByRole("button", { name: "Save changes" }).click();
  await page.locator("#announcer", { hasText: "Jane Smith: changes saved" }).waitFor();

  await page.getByRole("link", { name: "Audit log" }).last().click();
  await page.getByRole("heading", { name: /Events about the patient/ }).waitFor();
  await page.locator(".audit-log tbody tr").first().waitFor();
  assert.ok((await page.locator(".audit-log tbody tr", { hasText: "patient.update" }).count()) >= 1, "the change is in the log");
  await page.getByRole("button", { name: "Verify the chain" }).click();
  const verdict = page.locator(".verification p:not(.muted)");
  await verdict.waitFor({ timeout: 90_000 });
  assert.match(await page.locator(".verification").textContent(), /^Verified: nothing altered or taken away/);
  await page.context().close();
});

test("workgroups: the administrator adds one, gives it members and renames it; a name taken is refused (ROLE-6)", async () => {
  const admin = await apiAs("maple:admin");
  const page = await newPage(browser);
  await signIn(page, "maple:admin");
  await page.getByRole("link", { name: "Workgroups" }).click();
  await page.locator("form[data-workgroup]").first().waitFor();
  await page.getByLabel("New workgroup").fill("Front Office");
  await page.getByRole("button", { name: "Add workgroup" }).click();
  await page.locator(".staff-admin > .error", { hasText: "a workgroup with this name exists" }).waitFor();

  const name = unique("Triage");
  await page.getByLabel("New workgroup").fill(name);
  await page.getByRole("button", { name: "Add workgroup" }).click();
  const group = page.locator("form[data-workgroup]", { hasText: `Members of ${name}` });
  await group.waitFor();
  await group.getByRole("checkbox").first().check();
  await group.getByLabel("Name").fill(`${name} desk`);
  await group.getByRole("button", { name: `Save ${name}` }).click();
  await page.locator("#announcer", { hasText: `${name} desk saved` }).waitFor();
  const { items } = await admin.call("GET", "/workgroups");
  const saved = items.find((g) => g.name === `${name} desk`);
  assert.equal(saved?.memberIds.length, 1, JSON.stringify(items));
  await page.context().close();
});
