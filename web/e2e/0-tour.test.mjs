// The README's screenshots (docs/screenshots/): a tour of the demo practice as `make dev`
// seeds it, taken before any other browser test adds its data (the file's name makes it run
// first), so no screen shows a test run's ids. The few things the tour adds are what a
// practice would have: a task, an e-visit on John's refill question, a compose in progress.
import { test, before, after } from "node:test";
import { apiAs, BASE_URL, launch, newPage, PHONE, shot, signIn } from "./browser.mjs";

let browser;
before(async () => (browser = await launch()));
after(async () => browser?.close());

const PDF = Buffer.concat([Buffer.from("%PDF-1.4\n% Carethread demo file\n"), Buffer.alloc(20_000, 0x20), Buffer.from("\n%%EOF\n")]);

test("tour: the staff screens", async () => {
  const doctor = await apiAs("maple:physician");
  const { items } = await doctor.call("GET", "/inbox?limit=25");
  const lab = items.find((i) => i.conversation.subject === "Lab results").conversation;
  const [message] = (await doctor.call("GET", `/conversations/${lab.id}`)).messages;
  await doctor.call("POST", `/conversations/${lab.id}/messages/${message.id}/tasks`, { title: "Call Jane about her lab results", assigneeId: doctor.user.id, dueDate: new Date().toISOString().slice(0, 10) });

  const page = await newPage(browser);
  await signIn(page, "maple:physician");
  await page.locator("a.row").first().waitFor();
  await shot(page, "staff-inbox");
  await page.locator("a.row", { hasText: "Lab results" }).click();
  await page.locator(".thread .message").first().waitFor();
  await shot(page, "staff-thread");
  await page.getByRole("button", { name: "Assign" }).click();
  await page.locator("dialog[open]").waitFor();
  await shot(page, "staff-assign");
  await page.keyboard.press("Escape");

  await page.getByRole("link", { name: "Tasks" }).click();
  await page.locator("li.task").first().waitFor();
  await shot(page, "staff-tasks");
  await page.getByRole("link", { name: "(your settings)" }).click();
  await page.getByRole("heading", { name: "Out of office" }).waitFor();
  await shot(page, "your-settings");

  await page.getByRole("link", { name: "Compose" }).click();
  await page.getByRole("searchbox", { name: "Patient" }).pressSequentially("jan", { delay: 40 });
  await page.getByRole("button", { name: "Jane Smith" }).click();
  await page.getByLabel("Subject").fill("Imaging report");
  await page.getByLabel("Message", { exact: true }).fill("Your imaging report is attached. Everything looks as expected.");
  await page.getByLabel("Attach files").setInputFiles({ name: "imaging.pdf", mimeType: "application/pdf", buffer: PDF });
  await page.locator(".upload .upload-state", { hasText: "Uploaded" }).waitFor();
  await shot(page, "staff-compose");

  // An e-visit on John's refill question, with five minutes recorded by hand.
  await page.getByRole("link", { name: "Inbox" }).click();
  await page.locator("a.row", { hasText: "Refill request" }).click();
  await page.getByRole("button", { name: "Start e-visit", exact: true }).click();
  await page.locator(".evisit", { hasText: "E-visit open" }).waitFor();
  await page.getByText("Time by hand, visits").click();
  await page.getByLabel("Minutes (negative to correct your time)").fill("5");
  await page.getByLabel("Reason").fill("Reviewed the medication list");
  await page.getByRole("button", { name: "Record time" }).click();
  await page.locator(".evisit-entries li", { hasText: "by hand" }).waitFor();
  await shot(page, "evisit-time-by-hand");
  await page.context().close();
});

test("tour: the patient portal, desktop and phone", async () => {
  const page = await newPage(browser);
  await signIn(page, "maple:patient_jane");
  await page.locator("a.row", { hasText: "Lab results" }).waitFor();
  await shot(page, "portal-inbox");
  await page.locator("a.row", { hasText: "Lab results" }).click();
  await page.locator(".thread .message").first().waitFor();
  await shot(page, "portal-thread");
  await page.getByRole("link", { name: "New message" }).first().click();
  await page.locator(".limits", { hasText: "left today" }).waitFor();
  await page.getByLabel("Subject").fill("Question about my dose");
  await page.getByLabel("Message", { exact: true }).fill("Should I take the new pill with food?");
  await shot(page, "portal-compose");
  await page.context().close();

  const john = await newPage(browser);
  await signIn(john, "maple:patient_john");
  await john.locator(".consent", { hasText: "treating your message as an e-visit" }).waitFor();
  await shot(john, "portal-evisit-consent");
  await john.context().close();

  const phone = await newPage(browser, PHONE);
  await signIn(phone, "maple:patient_jane");
  await phone.locator(".list-head").getByRole("link", { name: "New message" }).click();
  await phone.locator(".limits", { hasText: "left today" }).waitFor();
  await shot(phone, "phone-portal-compose");
  await phone.context().close();

  const staffPhone = await newPage(browser, PHONE);
  await signIn(staffPhone, "maple:physician");
  await staffPhone.locator("a.row").first().waitFor();
  await shot(staffPhone, "phone-inbox");
  await staffPhone.locator("a.row", { hasText: "Lab results" }).click();
  await staffPhone.locator(".thread .message").first().waitFor();
  await shot(staffPhone, "phone-thread");
  await staffPhone.context().close();
});

test("tour: the administrators' screens", async () => {
  const page = await newPage(browser);
  await signIn(page, "maple:admin");
  await page.goto(`${BASE_URL}/#/settings`);
  await page.getByRole("button", { name: "Save settings" }).waitFor();
  await shot(page, "admin-settings");
  await page.getByRole("link", { name: "Reports" }).click();
  await page.locator(".report-results h2").first().waitFor();
  await shot(page, "admin-reports");
  await page.getByRole("link", { name: "Staff" }).click();
  await page.locator(".staff-admin table tbody tr").first().waitFor();
  await shot(page, "admin-staff");
  await page.getByRole("link", { name: "Patients" }).click();
  await page.getByLabel("Find a patient").fill("smi");
  await page.getByRole("button", { name: "Find" }).click();
  await page.getByRole("link", { name: "Jane Smith" }).click();
  await page.getByRole("heading", { name: "Jane Smith" }).waitFor();
  await shot(page, "admin-patient");
  await page.getByRole("link", { name: "Audit log" }).last().click();
  await page.locator(".audit-log tbody tr").first().waitFor();
  await page.getByRole("button", { name: "Verify the chain" }).click();
  await page.locator(".verification p").first().waitFor();
  await shot(page, "admin-audit-log");
  await page.getByRole("link", { name: "Workgroups" }).click();
  await page.locator("form[data-workgroup]").first().waitFor();
  await shot(page, "admin-workgroups");
  await page.context().close();
});
