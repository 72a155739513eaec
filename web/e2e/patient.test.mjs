// The patient portal in a real browser (issue 9; COMPOSE-3): the banner before writing, a
// message to the practice, the provider receives it, replies, and the patient sees it.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { apiAs, BASE_URL, eventually, launch, newPage, signIn, unique } from "./browser.mjs";

// A 1×1 PNG: the upload check compares the declared type with the bytes (ATT-2).
const PNG = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==", "base64");

let browser;
before(async () => (browser = await launch()));
after(async () => browser?.close());

test("a patient writes to the practice and the provider receives it", async () => {
  const patient = await newPage(browser);
  await signIn(patient, "maple:patient_jane");
  await patient.getByRole("heading", { name: "Your messages" }).waitFor();
  await patient.locator("a.row", { hasText: "Lab results" }).first().waitFor();

  await patient.getByRole("link", { name: "New message" }).first().click();
  // The practice banner comes before the form.
  const banner = patient.locator(".banner", { hasText: "For emergencies call 911" });
  await banner.waitFor();
  const bannerBox = await banner.boundingBox();
  const subjectBox = await patient.getByLabel("Subject").boundingBox();
  assert.ok(bannerBox.y < subjectBox.y, "the banner is above the form");
  // REPLY-4: what the practice's limits leave today, said under the message box.
  await patient.locator(".limits", { hasText: /\d+ of \d+ messages left today/ }).waitFor();
  const subject = unique("Question about my dose");
  await patient.getByLabel("Subject").fill(subject);
  await patient.getByLabel("Message", { exact: true }).fill("Should I take the new pill with food?");
  // Patients may attach files where the thread allows it (ATT-5): a new message does.
  await patient.getByLabel("Attach files").setInputFiles({ name: "pill.png", mimeType: "image/png", buffer: PNG });
  await patient.locator(".upload .upload-state", { hasText: "Uploaded" }).waitFor();
  await patient.getByRole("button", { name: "Send" }).click();
  await patient.locator(".thread h2", { hasText: subject }).waitFor();
  await patient.locator("a.row", { hasText: subject }).waitFor();
  // SLA-2: the demo practice promises two business days, and the thread says by when.
  await patient.locator(".thread .pill.due", { hasText: "Expected reply by" }).waitFor();

  // Jane's primary provider is the physician: it is in her inbox, found by searching.
  const doctor = await newPage(browser);
  await signIn(doctor, "maple:physician");
  await doctor.getByLabel("Search conversations").pressSequentially(subject.split(" ").slice(-1)[0], { delay: 20 });
  const row = doctor.locator("a.row", { hasText: subject });
  await row.waitFor();
  await eventually(async () => (await doctor.locator("a.row").count()) === 1, "the search to narrow the list to one row");
  assert.match(await row.textContent(), /Jane Smith/);
  // SLA-3: staff see the due time on the row.
  assert.match(await row.locator(".pill.due").textContent(), /^Reply due /);
  await row.click();
  const first = doctor.locator(".message", { hasText: "Should I take the new pill with food?" });
  await first.locator("button.attachment", { hasText: "pill.png" }).waitFor();
  await doctor.getByLabel("Reply", { exact: true }).fill("Yes, with breakfast.");
  await doctor.getByRole("button", { name: "Send" }).click();
  await doctor.locator(".message", { hasText: "Yes, with breakfast." }).waitFor();
  // The reply to the patient stops the clock (SLA-2).
  await eventually(async () => (await doctor.locator(".thread .pill.due").count()) === 0, "the due time to go once answered");

  // The patient sees the reply (the badge counts it until she opens the thread).
  await patient.goto(`${BASE_URL}/#/portal`);
  await patient.reload();
  const mine = patient.locator("a.row", { hasText: subject });
  await mine.waitFor();
  await eventually(async () => (await mine.locator(".badge").count()) === 1, "the unread badge on the patient's row");
  await mine.click();
  await patient.locator(".message", { hasText: "Yes, with breakfast." }).waitFor();
  // She replies in the thread; the provider's reply then closes it to answers.
  await patient.getByLabel("Your reply").fill("Thank you!");
  await patient.getByRole("button", { name: "Send" }).click();
  await patient.locator(".message", { hasText: "Thank you!" }).waitFor();
  await doctor.reload();
  await doctor.locator(".message", { hasText: "Thank you!" }).waitFor();
  await doctor.getByLabel("Reply", { exact: true }).fill("You're welcome. No need to answer this one.");
  await doctor.getByLabel("Patient may respond").uncheck();
  await doctor.getByRole("button", { name: "Send" }).click();
  await doctor.locator(".message", { hasText: "No need to answer" }).waitFor();
  await patient.reload();
  await patient.locator(".message", { hasText: "No need to answer" }).waitFor();
  await patient.locator(".notice", { hasText: "does not accept replies" }).waitFor();
  assert.equal(await patient.getByLabel("Your reply").count(), 0, "no reply box where the thread does not allow one");
  assert.deepEqual(patient.errors, []);
  assert.deepEqual(doctor.errors, []);
  await patient.context().close();
  await doctor.context().close();
});

test("a patient withdraws a question it no longer needs answered (SLA-2)", async () => {
  const patient = await newPage(browser);
  await signIn(patient, "maple:patient_jane");
  await patient.getByRole("link", { name: "New message" }).first().click();
  const subject = unique("Question I can drop");
  await patient.getByLabel("Subject").fill(subject);
  await patient.getByLabel("Message", { exact: true }).fill("Do I need to fast before the test?");
  await patient.getByRole("button", { name: "Send" }).click();
  await patient.locator(".thread .pill.due", { hasText: "Expected reply by" }).waitFor();
  await patient.getByRole("button", { name: "I no longer need a reply" }).click();
  await patient.locator(".message", { hasText: "Never mind" }).waitFor();
  await eventually(async () => (await patient.locator(".thread .pill.due").count()) === 0, "the promise to go");
});

test("the portal asks for the consent an e-visit lacks, and the answer is recorded (EVISIT-3)", async () => {
  const jane = await apiAs("maple:patient_jane");
  const path = `/patients/${jane.user.id}/evisit-consent`;
  // No current consent (a run before may have given one), then a physician opens an e-visit.
  await jane.call("PUT", path, { given: false });
  const asked = await jane.call("POST", "/conversations", { subject: unique("Consent question"), body: "Is this rash an allergy?" });
  const physician = await apiAs("maple:physician");
  await physician.call("POST", `/conversations/${asked.conversation.id}/evisit`, {});

  const patient = await newPage(browser);
  await signIn(patient, "maple:patient_jane");
  const prompt = patient.locator(".consent", { hasText: "treating your message as an e-visit" });
  await prompt.waitFor();
  await patient.getByRole("button", { name: "I agree" }).click();
  await eventually(async () => (await prompt.count()) === 0, "the prompt to go");
  const state = await jane.call("GET", path);
  assert.deepEqual([state.requested, state.current, state.consent.given], [false, true, true]);
  await patient.context().close();
});
