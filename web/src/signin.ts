// Sign-in. Locally: the demo users of `make dev` (GET /_local/demo-users) and a token from
// POST /_local/token. In AWS: a button to Cognito's hosted sign-in.

import type { View } from "./app";
import { h, replace } from "./dom";
import { type AppConfig, roleLabel, saveSession, sessionFromToken, startCognitoSignIn } from "./session";

interface DemoUser {
  key: string;
  id: string;
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
  constructor(
    private readonly root: HTMLElement,
    private readonly config: AppConfig,
  ) {
    void this.render();
  }

  dispose(): void {}

  private async render(): Promise<void> {
    const status = h("p", { role: "status", class: "muted" }, "Loading…");
    const notice = sessionStorage.getItem("carethread.notice");
    sessionStorage.removeItem("carethread.notice");
    const main = h(
      "main",
      { id: "main", class: "signin", tabindex: "-1" },
      h("h1", null, "Sign in to Carethread"),
      notice ? h("p", { class: "notice", role: "alert" }, notice) : null,
      status,
    );
    replace(this.root, main);
    if (this.config.auth === "cognito") {
      replace(
        main,
        h("h1", null, "Sign in to Carethread"),
        h("p", null, "Sign in with your practice account."),
        h("button", { type: "button", onclick: () => void startCognitoSignIn(this.config) }, "Sign in"),
      );
      return;
    }
    let practices: DemoPractice[] = [];
    try {
      const response = await fetch("/_local/demo-users");
      practices = ((await response.json()) as { practices: DemoPractice[] }).practices;
    } catch {
      status.textContent = "The demo users could not be loaded. Is `make dev` running?";
      return;
    }
    if (practices.length === 0) {
      status.textContent = "No demo users yet: `make dev` seeds them when it starts.";
      return;
    }
    status.textContent = "Local development: choose a demo user.";
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
                    onclick: () => void this.signIn(practice, u, status),
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

  private async signIn(practice: DemoPractice, user: DemoUser, status: HTMLElement): Promise<void> {
    const response = await fetch("/_local/token", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ sub: user.id, practiceId: practice.id, role: user.role, patientId: user.patientId }),
    });
    if (!response.ok) {
      status.textContent = "Sign-in failed.";
      return;
    }
    const { token } = (await response.json()) as { token: string };
    saveSession(sessionFromToken(token, user.name));
    const target = user.role === "patient" ? "#/portal" : "#/inbox";
    if (location.hash === target) window.dispatchEvent(new HashChangeEvent("hashchange"));
    else location.hash = target;
  }
}
