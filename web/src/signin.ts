// Sign-in. Locally: a username and password form that signs in at the local stack's Cognito
// user pool, and under it the demo users of `make dev` (GET /_local/demo-users), each a
// button that fills in its username and password and signs in. In AWS: a button to Cognito's
// hosted sign-in.

import type { View } from "./app";
import { h, replace } from "./dom";
import { signIn, type SignInStep, SignInError, type UserPool } from "./cognito";
import { type AppConfig, roleLabel, saveSession, sessionFromToken, startCognitoSignIn } from "./session";
import { challengeForm } from "./signin_steps";

interface DemoUser {
  key: string;
  id: string;
  /** The Cognito username (the user's id); null for a patient without a portal user. */
  username: string | null;
  /** The demo password; null when the user cannot sign in. */
  password: string | null;
  name: string;
  role: string;
  patientId?: string;
  active: boolean;
  portalAccess: boolean;
}

interface DemoPractice {
  key: string;
  id: string;
  name?: string;
  users: DemoUser[];
}

export class SignIn implements View {
  private disposed = false;
  /** The demo users' names by username: the header shows the name (the token has none). */
  private readonly names = new Map<string, string>();

  constructor(
    private readonly root: HTMLElement,
    private readonly config: AppConfig,
  ) {
    void this.render();
  }

  dispose(): void {
    this.disposed = true;
  }

  private async render(): Promise<void> {
    const notice = sessionStorage.getItem("carethread.notice");
    sessionStorage.removeItem("carethread.notice");
    const heading = h("h1", null, "Sign in to Carethread");
    const noticeLine = notice ? h("p", { class: "notice", role: "alert" }, notice) : null;
    const config = this.config;
    if (config.auth === "cognito") {
      replace(
        this.root,
        h(
          "main",
          { id: "main", class: "signin", tabindex: "-1" },
          heading,
          noticeLine,
          h("p", null, "Sign in with your practice account."),
          h("button", { type: "button", onclick: () => void startCognitoSignIn(config) }, "Sign in"),
        ),
      );
      return;
    }
    const cognito = config.cognito;
    const username = h("input", {
      id: "signin-username",
      name: "username",
      autocomplete: "username",
      autocapitalize: "none",
      spellcheck: "false",
      required: true,
    });
    const password = h("input", {
      id: "signin-password",
      name: "password",
      type: "password",
      autocomplete: "current-password",
      required: true,
    });
    // Always in the page, so that screen readers announce what is written into it.
    const error = h("p", { id: "signin-error", class: "error", role: "alert" });
    const submit = h("button", { type: "submit" }, "Sign in");
    const form: HTMLFormElement = h(
      "form",
      {
        class: "practice-card signin-form",
        "aria-labelledby": "signin-heading",
        onsubmit: (e: Event) => {
          e.preventDefault();
          void this.submit(cognito, username, password, error, submit, form);
        },
      },
      h("h2", { id: "signin-heading" }, "Your account"),
      h("div", { class: "field" }, h("label", { for: "signin-username" }, "Username"), username),
      h("div", { class: "field" }, h("label", { for: "signin-password" }, "Password"), password),
      error,
      submit,
    );
    const status = h("p", { role: "status", class: "muted" }, "Loading the demo users…");
    const main = h("main", { id: "main", class: "signin", tabindex: "-1" }, heading, noticeLine, form, status);
    replace(this.root, main);
    if (!cognito?.endpoint || !cognito.clientId) {
      error.textContent = "The local user pool is not configured (config.json has no cognito endpoint). Is `make dev` running?";
      submit.disabled = true;
    }

    let practices: DemoPractice[] = [];
    try {
      const response = await fetch("/_local/demo-users");
      practices = ((await response.json()) as { practices: DemoPractice[] }).practices;
    } catch {
      status.textContent = "The demo users could not be loaded. Is `make dev` running?";
      return;
    }
    if (this.disposed) return;
    if (practices.length === 0) {
      status.textContent = "No demo users yet: `make dev` seeds them when it starts.";
      return;
    }
    for (const u of practices.flatMap((p) => p.users)) if (u.username) this.names.set(u.username, u.name);
    status.textContent = "Local development: choose a demo user to sign in as (it fills in the form).";
    const choose = (user: DemoUser) => {
      username.value = user.username ?? "";
      password.value = user.password ?? "";
      if (!user.username || !user.password) {
        error.textContent = `${user.name} cannot sign in: ${whyNot(user)}.`;
        (user.username ? password : username).focus();
        return;
      }
      void this.submit(cognito, username, password, error, submit, form);
    };
    for (const practice of practices) {
      const staff = practice.users.filter((u) => u.role !== "patient");
      const patients = practice.users.filter((u) => u.role === "patient");
      const group = (title: string, users: DemoUser[]) =>
        h(
          "section",
          { class: "user-group", "aria-label": `${practice.name ?? practice.key}: ${title}` },
          h("h3", null, title),
          h(
            "ul",
            { class: "user-list" },
            users.map((u) =>
              h(
                "li",
                null,
                h(
                  "button",
                  {
                    type: "button",
                    class: "user-choice",
                    "data-user": `${practice.key}:${u.key}`,
                    onclick: () => choose(u),
                  },
                  h("span", { class: "user-name" }, u.name),
                  h(
                    "span",
                    { class: "user-role" },
                    roleLabel(u.role),
                    !u.active ? " · inactive" : "",
                    u.role === "patient" && !u.portalAccess ? " · no portal access" : "",
                  ),
                ),
              ),
            ),
          ),
        );
      main.append(
        h(
          "section",
          { class: "practice-card" },
          h("h2", null, practice.name ?? practice.key),
          group("Practice team", staff),
          group("Patients", patients),
        ),
      );
    }
  }

  private async submit(
    pool: UserPool | undefined,
    username: HTMLInputElement,
    password: HTMLInputElement,
    error: HTMLElement,
    submit: HTMLButtonElement,
    form: HTMLFormElement,
  ): Promise<void> {
    if (!pool || submit.disabled) return;
    const name = username.value.trim();
    if (!name || !password.value) {
      error.textContent = "Enter your username and password.";
      (name ? password : username).focus();
      return;
    }
    error.textContent = "";
    submit.disabled = true;
    submit.textContent = "Signing in…";
    let step: SignInStep;
    try {
      step = await signIn(pool, name, password.value);
    } catch (e) {
      if (this.disposed) return;
      error.textContent = e instanceof SignInError ? e.message : "Sign-in failed. Try again.";
      password.value = "";
      password.focus();
      submit.disabled = false;
      submit.textContent = "Sign in";
      return;
    }
    this.continue(pool, step, name, form);
  }

  /** The next step of a sign-in: the app, or the form of the challenge Cognito asks for,
   * in place of the password form. */
  private continue(pool: UserPool, step: SignInStep, name: string, form: HTMLFormElement): void {
    if (this.disposed) return;
    if (step.kind !== "signed-in") {
      const next = challengeForm(pool, step, (answered) => this.continue(pool, answered, name, next));
      form.replaceWith(next);
      next.querySelector<HTMLInputElement>("input")?.focus();
      return;
    }
    saveSession(sessionFromToken(step.tokens.idToken, this.names.get(name), step.tokens.accessToken));
    const target = sessionFromToken(step.tokens.idToken).user.role === "patient" ? "#/portal" : "#/inbox";
    if (location.hash === target) window.dispatchEvent(new HashChangeEvent("hashchange"));
    else location.hash = target;
  }
}

function whyNot(user: DemoUser): string {
  if (user.role === "patient" && !user.portalAccess) return "no portal access";
  if (!user.active) return "the account is inactive";
  return "no account at the user pool";
}
