// A practice set up from nothing in the browser (issue 19's "done when"; ACCT-1..3, ROLE-1,
// SET-1). The operator command made the practice and its first administrator (its local face,
// POST /_local/practices, which requires a second factor of staff as a new practice does).
// Each invited user reads the temporary password of its invitation (POST /_local/invitations
// stands in for the e-mail), chooses a password of its own, sets up the authenticator app
// where the practice requires one, and signs in with its code. The administrator adds a
// physician and a patient and sets the banner; the physician writes to the patient, who reads
// it under that banner and answers.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { BASE_URL, launch, newPage, seriousViolations, shot, unique } from "./browser.mjs";

let browser;
before(async () => (browser = await launch()));
after(async () => browser?.close());

const PASSWORD = "Birch-Practice-2026";

async function local(path, body) {
  const r = await fetch(`${BASE_URL}/_local/${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  const answer = await r.json();
  if (!r.ok) throw new Error(`/_local/${path}: ${r.status} ${JSON.stringify(answer)}`);
  return answer;
}

/** The code an authenticator app shows now for a base32 secret (RFC 6238: SHA-1, 30 s, 6 digits). */
function totp(secret) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = 0, held = 0;
  const key = [];
  for (const c of secret.replace(/[\s=]/g, "").toUpperCase()) {
    bits = (bits << 5) | alphabet.indexOf(c);
    held += 5;
    if (held >= 8) {
      held -= 8;
      key.push((bits >> held) & 0xff);
      bits &= (1 << held) - 1;
    }
  }
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 30_000)));
  const mac = createHmac("sha1", Buffer.from(key)).update(counter).digest();
  const at = mac[mac.length - 1] & 0x0f;
  return String((mac.readUInt32BE(at) & 0x7fffffff) % 1_000_000).padStart(6, "0");
}

/** A code that stays valid for the next few seconds of the test. */
async function code(secret) {
  if (Date.now() % 30_000 > 27_000) await new Promise((r) => setTimeout(r, 3_500));
  return totp(secret);
}

/** An invited user's first sign-in: the invitation's temporary password, a password of its
 * own, then (staff) the authenticator app's set-up and a sign-in with its code. */
async function firstSignIn(page, username, { secondFactor, shots = false }) {
  const { temporaryPassword } = await local("invitations", { username });
  await page.goto(`${BASE_URL}/#/signin`);
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password", { exact: true }).fill(temporaryPassword);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Choose your password" }).waitFor();
  // A refusal keeps the user on the step, saying why.
  await page.getByLabel("New password", { exact: true }).fill(PASSWORD);
  await page.getByLabel("New password again").fill(PASSWORD + "x");
  await page.getByRole("button", { name: "Set password and sign in" }).click();
  await page.locator("#signin-error", { hasText: "The two passwords differ" }).waitFor();
  if (shots) await shot(page, "signin-new-password");
  assert.deepEqual(await seriousViolations(page), [], "axe: the new-password step");
  await page.getByLabel("New password again").fill(PASSWORD);
  await page.getByRole("button", { name: "Set password and sign in" }).click();
  await page.locator("header.topbar").waitFor();
  if (!secondFactor) return;

  // The practice requires a second factor: the app asks for one before anything else.
  await page.getByRole("heading", { name: "Set up your authenticator app" }).waitFor();
  const secret = (await page.getByTestId("totp-secret").textContent()).replace(/\s/g, "");
  await page.getByLabel("Code from the app").fill(totp(secret) === "000000" ? "111111" : "000000");
  await page.getByRole("button", { name: "Turn on and sign in again" }).click();
  await page.locator(".second-factor .error", { hasText: "That code is not right" }).waitFor();
  if (shots) await shot(page, "totp-setup");
  assert.deepEqual(await seriousViolations(page), [], "axe: the authenticator set-up");
  await page.getByLabel("Code from the app").fill(await code(secret));
  await page.getByRole("button", { name: "Turn on and sign in again" }).click();
  await page.locator(".notice", { hasText: "Your authenticator app is set up" }).waitFor();
  // A token names the second of its sign-in: one from the second of the set-up counts as older.
  await new Promise((r) => setTimeout(r, 1_100));
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Enter your code" }).waitFor();
  assert.deepEqual(await seriousViolations(page), [], "axe: the code step");
  await page.getByLabel("Code", { exact: true }).fill(await code(secret));
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.locator("header.topbar").waitFor();
}

test("a practice from nothing: the first administrator adds a physician and a patient and sets the banner; the invited users sign in and message each other (ACCT-1..3, ROLE-1, SET-1)", async () => {
  const stamp = unique("").trim();
  const made = await local("practices", { name: "Birch Family Practice", adminFirstName: "Ada", adminLastName: "Birch", adminEmail: `ada.${stamp}@birch.test` });

  // The administrator: first sign-in, then the staff, the patient and the settings.
  const admin = await newPage(browser);
  await firstSignIn(admin, made.adminId, { secondFactor: true, shots: true });
  await admin.getByRole("link", { name: "Staff" }).click();
  await admin.getByLabel("First name").fill("Omar");
  await admin.getByLabel("Last name").fill("Haddad");
  await admin.getByLabel("Role", { exact: true }).selectOption("physician");
  await admin.getByLabel("Email", { exact: true }).fill(`omar.${stamp}@birch.test`);
  await admin.getByRole("button", { name: "Add and invite" }).click();
  const doctorRow = admin.locator("tr", { hasText: "Omar Haddad" });
  await doctorRow.waitFor();
  const doctorId = await doctorRow.getAttribute("data-staff");

  await admin.getByRole("link", { name: "Patients" }).click();
  await admin.getByRole("heading", { name: "Add a patient" }).waitFor();
  await admin.getByLabel("First name").fill("Rosa");
  await admin.getByLabel("Last name").fill("Lindqvist");
  await admin.getByLabel("Email").fill(`rosa.${stamp}@mail.test`);
  await admin.getByLabel("Mobile phone").fill("12345");
  await admin.getByLabel("Primary provider").selectOption(doctorId);
  await admin.getByRole("button", { name: "Add patient" }).click();
  // A refusal names its field and focuses it; nothing is stored.
  await admin.locator(".patient-record .error", { hasText: "phone" }).waitFor();
  assert.equal(await admin.evaluate(() => document.activeElement?.getAttribute("name")), "phone");
  await admin.getByLabel("Mobile phone").fill("");
  await admin.getByRole("button", { name: "Add patient" }).click();
  await admin.getByRole("heading", { name: "Rosa Lindqvist" }).waitFor();
  const patientId = new URL(admin.url()).hash.split("/").pop();
  assert.match(patientId, /^pat_/);

  await admin.getByRole("link", { name: "Settings", exact: true }).click();
  await admin.getByLabel("Banner shown above the patient's message").fill("Birch Family Practice: for emergencies call 911.");
  await admin.getByRole("button", { name: "Save settings" }).click();
  await admin.locator("#announcer", { hasText: "Settings saved" }).waitFor();

  // The physician, invited by the administrator, writes to the patient.
  const doctor = await newPage(browser);
  await firstSignIn(doctor, doctorId, { secondFactor: true });
  await doctor.getByRole("link", { name: "Compose" }).click();
  await doctor.getByRole("searchbox", { name: "Patient" }).pressSequentially("ros", { delay: 40 });
  await doctor.getByRole("button", { name: "Rosa Lindqvist" }).click();
  await doctor.getByLabel("Subject").fill("Welcome to Birch");
  await doctor.getByLabel("Message", { exact: true }).fill("Welcome to the practice. Write here any time.");
  await doctor.getByRole("button", { name: "Send" }).click();
  await doctor.locator(".thread h2", { hasText: "Welcome to Birch" }).waitFor();

  // The patient: a portal user without a second factor (the practice does not require one).
  const patient = await newPage(browser);
  await firstSignIn(patient, patientId, { secondFactor: false });
  await patient.getByRole("heading", { name: "Your messages" }).waitFor();
  await patient.locator("a.row", { hasText: "Welcome to Birch" }).click();
  await patient.locator(".message", { hasText: "Welcome to the practice." }).waitFor();
  await patient.getByLabel("Your reply").fill("Thank you, Dr. Haddad.");
  await patient.getByRole("button", { name: "Send" }).click();
  await patient.locator(".message", { hasText: "Thank you, Dr. Haddad." }).waitFor();
  await patient.getByRole("link", { name: "New message" }).first().click();
  await patient.locator(".banner", { hasText: "Birch Family Practice: for emergencies call 911." }).waitFor();

  await doctor.reload();
  await doctor.locator(".message", { hasText: "Thank you, Dr. Haddad." }).waitFor();
  for (const page of [admin, doctor, patient]) {
    // The refusals the test provoked (and the 403 that sends a user to the set-up) are logged
    // by the browser as failed loads; nothing else may be.
    assert.deepEqual(page.errors.filter((e) => !/status of 4\d\d/.test(e)), [], "no page errors");
    await page.context().close();
  }
});
