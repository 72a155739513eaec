// The sign-in's steps after the password: a password of one's own at the first sign-in after
// an invitation (ACCT-1), and the authenticator app's code where the user has one (ACCT-3).
// Each is a form in place of the password form; a refusal is said in the form and keeps the
// user on the step, with the focus on the field to fix.

import { enterCode, setNewPassword, type SignInStep, SignInError, type UserPool } from "./cognito";
import { h } from "./dom";

type Challenge = Exclude<SignInStep, { kind: "signed-in" }>;

/** The pool's password rules (template.yaml, UserPool's PasswordPolicy), said before typing. */
const PASSWORD_RULES = "At least 12 characters, with upper- and lower-case letters and a number.";

export function challengeForm(pool: UserPool, at: Challenge, done: (next: SignInStep) => void): HTMLFormElement {
  return at.kind === "new-password" ? newPasswordForm(pool, at, done) : codeForm(pool, at, done);
}

function stepForm(
  title: string,
  intro: string,
  fields: HTMLElement[],
  action: string,
  answer: (error: HTMLElement) => Promise<SignInStep | null>,
  done: (next: SignInStep) => void,
): HTMLFormElement {
  const error = h("p", { id: "signin-error", class: "error", role: "alert" });
  const submit = h("button", { type: "submit" }, action);
  const form = h(
    "form",
    {
      class: "practice-card signin-form",
      "aria-labelledby": "signin-heading",
      onsubmit: async (e: Event) => {
        e.preventDefault();
        if (submit.disabled) return;
        error.textContent = "";
        submit.disabled = true;
        try {
          const next = await answer(error);
          if (next) return done(next);
        } catch (err) {
          error.textContent = err instanceof SignInError ? err.message : "Sign-in failed. Try again.";
          form.querySelector<HTMLInputElement>("input")?.focus();
        }
        submit.disabled = false;
      },
    },
    h("h2", { id: "signin-heading", tabindex: "-1" }, title),
    h("p", null, intro),
    fields,
    error,
    submit,
  );
  return form;
}

function field(id: string, label: string, input: HTMLInputElement, hint?: string): HTMLElement {
  if (hint) input.setAttribute("aria-describedby", `${id}-hint`);
  return h("div", { class: "field" }, h("label", { for: id }, label), hint ? h("p", { id: `${id}-hint`, class: "muted" }, hint) : null, input);
}

function newPasswordForm(pool: UserPool, at: Challenge & { kind: "new-password" }, done: (next: SignInStep) => void) {
  const attrs = { type: "password", autocomplete: "new-password", required: true, minlength: 12 };
  const password = h("input", { id: "new-password", ...attrs });
  const again = h("input", { id: "new-password-again", ...attrs });
  return stepForm(
    "Choose your password",
    "This is your first sign-in with the temporary password of your invitation. Choose the password you will use from now on.",
    [field("new-password", "New password", password, PASSWORD_RULES), field("new-password-again", "New password again", again)],
    "Set password and sign in",
    async (error) => {
      if (password.value !== again.value) {
        error.textContent = "The two passwords differ. Type the same password twice.";
        again.value = "";
        again.focus();
        return null;
      }
      try {
        return await setNewPassword(pool, at, password.value);
      } catch (err) {
        password.value = again.value = "";
        throw err;
      }
    },
    done,
  );
}

function codeForm(pool: UserPool, at: Challenge & { kind: "code" }, done: (next: SignInStep) => void) {
  const code = h("input", {
    id: "signin-code",
    inputmode: "numeric",
    autocomplete: "one-time-code",
    pattern: "[0-9]{6}",
    maxlength: 6,
    required: true,
  });
  return stepForm(
    "Enter your code",
    "Your account signs in with a second step. Open your authenticator app and enter the 6-digit code it shows for Carethread.",
    [field("signin-code", "Code", code)],
    "Sign in",
    async () => {
      try {
        return await enterCode(pool, at, code.value.replace(/\s/g, ""));
      } catch (err) {
        code.value = "";
        throw err;
      }
    },
    done,
  );
}
