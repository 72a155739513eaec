// Setting up the authenticator app (ACCT-3). Where the practice requires a second factor the
// user has not set up, every API route answers 403 `…/second-factor-required` and the app
// comes here; a user it is not required of comes from "Your settings". Then Cognito gives a secret for the app (as text and as a link an app on this device
// opens), the user enters a code the app shows, Cognito makes the app the user's second factor
// and the API records it (POST /me/totp). The token of this session came from the password
// alone, so the session ends and the user signs in again, with a code.

import { type AppContext, errorText, type View } from "./app";
import { authenticatorLink, finishAuthenticator, SignInError, startAuthenticator } from "./cognito";
import { h, replace } from "./dom";
import { userPool } from "./session";

interface Totp {
  totp: { required: boolean; enrolledAt: string | null };
}

export class SecondFactorView implements View {
  private disposed = false;
  private readonly section = h("section", { class: "page second-factor", "aria-labelledby": "totp-title" });

  constructor(
    main: HTMLElement,
    private readonly ctx: AppContext,
    /** Ends the session with a notice on the sign-in page. */
    private readonly signOut: (notice: string) => void,
  ) {
    replace(main, this.section);
    replace(this.section, h("h1", { id: "totp-title" }, "Set up your authenticator app"), h("p", { class: "muted" }, "Loading…"));
    void this.load();
  }

  dispose(): void {
    this.disposed = true;
  }

  private async load(): Promise<void> {
    const pool = userPool(this.ctx.config);
    const access = this.ctx.session.accessToken;
    try {
      const { totp } = await this.ctx.api.get<Totp>("/me/totp");
      if (this.disposed) return;
      if (totp.enrolledAt) return this.ctx.navigate("#/me");
      if (!pool || !access) throw new SignInError("This sign-in cannot set up an authenticator app. Sign out and sign in again.");
      const secret = await startAuthenticator(pool, access);
      if (!this.disposed) this.render(secret, totp.required, (code) => finishAuthenticator(pool, access, code));
    } catch (e) {
      if (this.disposed) return;
      this.section.append(h("p", { class: "error", role: "alert" }, e instanceof SignInError ? e.message : errorText(e)));
    }
  }

  private render(secret: string, required: boolean, finish: (code: string) => Promise<void>): void {
    const account = this.ctx.session.user.id;
    const grouped = secret.replace(/(.{4})/g, "$1 ").trim();
    const code = h("input", {
      id: "totp-code",
      inputmode: "numeric",
      autocomplete: "one-time-code",
      pattern: "[0-9]{6}",
      maxlength: 6,
      required: true,
    });
    const error = h("p", { class: "error", role: "alert" });
    const submit = h("button", { type: "submit" }, "Turn on and sign in again");
    const form = h(
      "form",
      {
        class: "practice-card",
        onsubmit: async (e: Event) => {
          e.preventDefault();
          if (submit.disabled) return;
          submit.disabled = true;
          error.textContent = "";
          try {
            await finish(code.value.replace(/\s/g, ""));
            await this.ctx.api.create("/me/totp", {});
            this.signOut("Your authenticator app is set up. Sign in again: after your password, enter the code it shows.");
          } catch (err) {
            error.textContent = err instanceof SignInError ? err.message : errorText(err);
            code.value = "";
            code.focus();
            submit.disabled = false;
          }
        },
      },
      h("div", { class: "field" }, h("label", { for: "totp-code" }, "Code from the app"), code),
      error,
      submit,
    );
    replace(
      this.section,
      h("h1", { id: "totp-title", tabindex: "-1" }, "Set up your authenticator app"),
      h("p", null, `${required ? "Your practice asks for" : "You are adding"} a second step at sign-in: a 6-digit code from an authenticator app on your phone (such as Google Authenticator, Microsoft Authenticator or 1Password).`),
      h(
        "ol",
        { class: "steps" },
        h("li", null, "In the app, add an account and choose to enter a setup key. Key:", " ", h("code", { class: "secret", "data-testid": "totp-secret" }, grouped)),
        h("li", null, "Or, with the app on this device, ", h("a", { href: authenticatorLink(secret, account, "Carethread") }, "open the key in the app"), "."),
        h("li", null, "Enter the code the app now shows for Carethread."),
      ),
      form,
    );
    this.section.querySelector<HTMLElement>("h1")?.focus();
  }
}
