// The staff screens in a real browser (issue 9): the physician's seeded inbox, a thread that
// drops the badge when opened (INBOX-3), reply, assign to the nurse (ASSIGN-1), the nurse
// finds it; compose to a patient with an attachment and its upload progress (ATT-1).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { apiAs, badgeCount, eventually, launch, newPage, signIn, unique } from "./browser.mjs";

let browser;
before(async () => (browser = await launch()));
after(async () => browser?.close());

test("physician reads, replies and assigns to the nurse; the nurse finds it", async () => {
  // A patient writes first, so the physician has something unread (COMPOSE-3 routes it to
  // John's primary provider, the physician).
  const subject = unique("Refill question");
  const john = await apiAs("maple:patient_john");
  await john.call("POST", "/conversations", { subject, body: "Could I get a refill of my inhaler?" });

  const page = await newPage(browser);
  await signIn(page, "maple:physician");
  // The seeded inbox: the physician's own message to Jane and John's refill request.
  await page.locator("a.row", { hasText: "Lab results" }).first().waitFor();
  const row = page.locator("a.row", { hasText: subject });
  await row.waitFor();
  assert.match(await row.getAttribute("class"), /unread/);
  assert.equal(await row.locator(".badge").textContent(), "1");
  assert.match(await row.textContent(), /John Doe/);
  for (const label of ["Total conversations", "Unread messages", "Unique patients", "Total messages"]) {
    const card = page.locator(".stat-card", { hasText: label });
    await eventually(async () => /\d/.test(await card.locator(".stat-value").textContent()), `the ${label} card`);
  }
  const before = await eventually(() => badgeCount(page), "the unread badge");

  // Open the thread: the messages in order, and the badge drops without a reload.
  await row.click();
  await page.locator(".thread h2", { hasText: subject }).waitFor();
  await page.locator(".message", { hasText: "Could I get a refill of my inhaler?" }).waitFor();
  await eventually(async () => (await badgeCount(page)) < before, "the badge to drop");
  assert.equal(await row.locator(".badge").count(), 0, "the row's unread badge is gone");

  // Reply, then an internal note that only staff see.
  await page.getByLabel("Reply", { exact: true }).fill("Yes, the refill is on its way to your pharmacy.");
  await page.getByRole("button", { name: "Send" }).click();
  await page.locator(".message", { hasText: "the refill is on its way" }).waitFor();
  await page.getByLabel("Reply", { exact: true }).fill("Check his last spirometry first.");
  await page.getByLabel("Internal note (staff only)").check();
  await page.getByRole("button", { name: "Send" }).click();
  const note = page.locator(".message.note", { hasText: "spirometry" });
  await note.waitFor();
  assert.match(await note.textContent(), /Internal note/);

  // Star it: it shows in the Starred tab.
  await page.getByRole("button", { name: "☆ Star" }).click();
  await page.getByRole("button", { name: "★ Starred" }).waitFor();
  await page.locator('[data-tab="starred"]').click();
  await page.locator("a.row", { hasText: subject }).waitFor();
  // ROLE-2: the All practice tab lists every conversation the physician may open.
  await page.locator('[data-tab="practice"]').click();
  await page.locator("a.row", { hasText: subject }).waitFor();
  await page.locator('[data-tab="all"]').click();

  // Assign to the nurse.
  await page.getByRole("button", { name: "Assign" }).click();
  const dialog = page.locator("dialog[open]");
  await dialog.getByLabel(/Sam Rivera/).check();
  await dialog.getByLabel("Comment (optional)").fill("Can you call in the refill?");
  await dialog.getByRole("button", { name: "Save" }).click();
  await page.locator(".meta-assignees", { hasText: "Assigned to Sam Rivera" }).waitFor();
  assert.deepEqual(page.errors, []);

  // The nurse signs in and finds it under "Assigned to me".
  const nurse = await newPage(browser);
  await signIn(nurse, "maple:nurse");
  await nurse.locator('[data-tab="all"]').waitFor();
  assert.equal(await nurse.locator('[data-tab="practice"]').count(), 0, "the practice-wide view is for the admin and provider classes");
  await nurse.getByLabel("Assignment").selectOption("me");
  const assigned = nurse.locator("a.row", { hasText: subject });
  await assigned.waitFor();
  await assigned.click();
  await nurse.locator(".message", { hasText: "the refill is on its way" }).waitFor();
  await nurse.locator(".message.note", { hasText: "spirometry" }).waitFor();
  assert.deepEqual(nurse.errors, []);
  await nurse.context().close();
  await page.context().close();
});

test("compose to a patient with an attachment: progress, send, download", async () => {
  const page = await newPage(browser);
  await signIn(page, "maple:physician");
  await page.getByRole("link", { name: "Compose" }).click();
  await page.getByRole("heading", { name: "New message" }).waitFor();
  // Patient search updates as you type.
  await page.getByRole("searchbox", { name: "Patient" }).pressSequentially("jan", { delay: 40 });
  await page.getByRole("button", { name: "Jane Smith" }).click();
  await page.locator(".chosen", { hasText: "Selected: Jane Smith" }).waitFor();
  const subject = unique("Imaging report");
  await page.getByLabel("Subject").fill(subject);
  await page.getByLabel("Message", { exact: true }).fill("Your imaging report is attached.");
  await page.getByLabel("Priority").selectOption("urgent");
  const bytes = Buffer.concat([Buffer.from("%PDF-1.4\n% Carethread test file\n"), Buffer.alloc(200_000, 0x20), Buffer.from("\n%%EOF\n")]);
  await page.getByLabel("Attach files").setInputFiles({ name: "imaging.pdf", mimeType: "application/pdf", buffer: bytes });
  const upload = page.locator(".upload", { hasText: "imaging.pdf" });
  await upload.locator(".upload-state", { hasText: "Uploaded" }).waitFor();
  assert.equal(await upload.locator("progress").evaluate((p) => p.value), 1, "the progress bar ends full");
  await page.getByRole("button", { name: "Send" }).click();

  await page.locator(".thread h2", { hasText: subject }).waitFor();
  const message = page.locator(".message", { hasText: "Your imaging report is attached." });
  assert.match(await message.textContent(), /Urgent/);
  const link = message.locator("button.attachment", { hasText: "imaging.pdf" });
  const [download] = await Promise.all([page.waitForEvent("download"), link.click()]);
  assert.equal(download.suggestedFilename(), "imaging.pdf");
  const saved = await download.createReadStream();
  const chunks = [];
  for await (const c of saved) chunks.push(c);
  assert.ok(Buffer.concat(chunks).equals(bytes), "the downloaded bytes are the uploaded ones");
  // The new conversation is in the list, marked urgent.
  const row = page.locator("a.row", { hasText: subject });
  await row.waitFor();
  assert.match(await row.getAttribute("class"), /urgent/);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test("thread actions: archive and restore, mark unread, close and reopen, forward", async () => {
  const subject = unique("Follow-up visit");
  const doctor = await apiAs("maple:physician");
  const jane = (await apiAs("maple:patient_jane")).user;
  const created = await doctor.call("POST", "/conversations", { kind: "patient", patientId: jane.id, subject, body: "How did the new dose go?" });
  // Her answer is an incoming message, which is what "Mark unread" can mark.
  const patient = await apiAs("maple:patient_jane");
  await patient.call("POST", `/conversations/${created.conversation.id}/messages`, { body: "Much better, thanks." });

  const page = await newPage(browser);
  await signIn(page, "maple:physician");
  const row = page.locator("a.row", { hasText: subject });
  await row.click();
  await page.locator(".thread h2", { hasText: subject }).waitFor();

  // Archive: it leaves the inbox and is in the Archived tab; Unarchive brings it back.
  await page.getByRole("button", { name: "Archive", exact: true }).click();
  await row.waitFor({ state: "detached" });
  await page.locator('[data-tab="archived"]').click();
  await row.waitFor();
  await page.getByRole("button", { name: "Unarchive" }).click();
  await row.waitFor({ state: "detached" });
  await page.locator('[data-tab="all"]').click();
  await row.waitFor();

  // Mark unread: back to the list with the row's badge on.
  const before = await badgeCount(page);
  await page.getByRole("button", { name: "Mark unread" }).click();
  await page.locator(".empty-thread").waitFor();
  await row.locator(".badge").waitFor();
  await eventually(async () => (await badgeCount(page)) > before, "the badge to count it again");

  // Close and reopen (REPLY-3).
  await row.click();
  await page.getByRole("button", { name: "Close" }).click();
  await page.locator(".thread-meta .pill.closed").waitFor();
  await page.getByRole("button", { name: "Reopen" }).click();
  await page.locator(".thread-meta .pill.closed").waitFor({ state: "detached" });

  // Forward to the nurse (ASSIGN-3): a new team conversation with a copy.
  await page.getByRole("button", { name: "Forward" }).click();
  const dialog = page.locator("dialog[open]");
  await dialog.getByLabel(/Sam Rivera/).check();
  await dialog.getByLabel("Comment (optional)").fill("FYI");
  await dialog.getByRole("button", { name: "Forward" }).click();
  await page.locator(".thread-meta .pill", { hasText: "Team" }).waitFor();
  await page.locator(".message", { hasText: "How did the new dose go?" }).waitFor();
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test("team message: the practice manager writes to the nurse, who finds it in the Team tab", async () => {
  const page = await newPage(browser);
  await signIn(page, "maple:practice_manager");
  await page.getByRole("link", { name: "Compose" }).click();
  await page.getByLabel("Team").check();
  await page.getByLabel(/Sam Rivera/).check();
  const subject = unique("Rota change");
  await page.getByLabel("Subject").fill(subject);
  await page.getByLabel("Message", { exact: true }).fill("Can you cover Thursday afternoon?");
  await page.getByRole("button", { name: "Send" }).click();
  await page.locator(".thread h2", { hasText: subject }).waitFor();
  await page.context().close();

  const nurse = await newPage(browser);
  await signIn(nurse, "maple:nurse");
  await nurse.locator('[data-tab="team"]').click();
  const row = nurse.locator("a.row", { hasText: subject });
  await row.waitFor();
  assert.match(await row.textContent(), /Team/);
  await nurse.locator('[data-tab="patient"]').click();
  await row.waitFor({ state: "detached" });
  assert.deepEqual(nurse.errors, []);
  await nurse.context().close();
});

test("reply times: the physician lists the questions owed a reply, soonest due first (SLA-3)", async () => {
  const subject = unique("Waiting question");
  const jane = await apiAs("maple:patient_jane");
  await jane.call("POST", "/conversations", { subject, body: "When should I come in?" });

  const page = await newPage(browser);
  await signIn(page, "maple:physician");
  await page.locator("a.row").first().waitFor();
  await page.getByLabel("Reply due").selectOption("sort");
  const row = page.locator("a.row", { hasText: subject });
  await row.waitFor();
  assert.match(await row.locator(".pill.due").textContent(), /^Reply due /);
  // Every row listed is owed a reply.
  const rows = page.locator("a.row");
  await eventually(async () => (await rows.count()) === (await page.locator("a.row .pill.due").count()), "only rows owed a reply");
  await page.getByLabel("Reply due").selectOption("overdue");
  await eventually(async () => (await page.locator("a.row", { hasText: subject }).count()) === 0, "a new question not to be overdue");
});

test("e-visit: the physician starts one on a patient's question and active time is recorded (EVISIT-1)", async () => {
  const subject = unique("E-visit question");
  const jane = await apiAs("maple:patient_jane");
  const asked = await jane.call("POST", "/conversations", { subject, body: "My ankle is swollen since Sunday." });
  const cid = asked.conversation.id;

  const page = await newPage(browser);
  await signIn(page, "maple:physician");
  await page.locator("a.row", { hasText: subject }).click();
  await page.locator(".thread h2", { hasText: subject }).waitFor();
  await page.getByRole("button", { name: "Start e-visit" }).click();
  await page.locator(".evisit", { hasText: "E-visit open" }).waitFor();
  // Typing in the reply box is activity; leaving the thread sends the active seconds.
  await page.getByLabel("Reply", { exact: true }).pressSequentially("Keep it raised", { delay: 150 });
  await page.waitForTimeout(2500);
  await page.evaluate(() => (location.hash = "#/inbox"));
  const physician = await apiAs("maple:physician");
  await eventually(async () => {
    const { evisit } = await physician.call("GET", `/conversations/${cid}/evisit`);
    return evisit.minutesByClinician.length === 1;
  }, "the physician's active time to be recorded");

  // Back on the thread: five minutes by hand with their reason; a correction larger than the
  // physician's own time is refused on screen (EVISIT-1).
  await page.locator("a.row", { hasText: subject }).click();
  await page.locator(".evisit", { hasText: "E-visit open" }).waitFor();
  await page.getByText("Time by hand, visits").click();
  await page.getByLabel("Minutes (negative to correct your time)").fill("5");
  await page.getByLabel("Reason").fill("Reviewed the imaging report");
  await page.getByRole("button", { name: "Record time" }).click();
  await page.locator(".evisit-entries li", { hasText: "by hand" }).waitFor();
  const { evisit } = await physician.call("GET", `/conversations/${cid}/evisit`);
  assert.ok(evisit.entries.some((e) => e.source === "manual" && e.seconds === 300), JSON.stringify(evisit.entries));
  await page.getByLabel("Minutes (negative to correct your time)").fill("-30");
  await page.getByLabel("Reason").fill("Too much");
  await page.getByRole("button", { name: "Record time" }).click();
  await page.locator(".evisit .error", { hasText: "cannot take away more than" }).waitFor();
});
