// The user's own settings, staff and patients alike: how they hear of new messages (NOTIFY-1;
// a new address or number is used only once proven with the code sent to it, ACCT-4), the
// out-of-office reply (staff, REPLY-5) and the authenticator app (ACCT-3).

import { type AppContext, errorText, type View } from "./app";
import { ApiError } from "./api";
import { h, replace, uid } from "./dom";
import { isStaff } from "./session";

interface Notifications {
  notifications: {
    channel: "email" | "sms" | "none";
    destination: string | null;
    pending?: { channel: string; destination: string; expiresAt: string; attemptsLeft: number };
  };
}

interface OutOfOffice {
  outOfOffice: { from: string; to: string; text: string } | null;
}

const CHANNELS = [
  ["email", "Email"],
  ["sms", "Text message (SMS)"],
  ["none", "No notifications"],
] as const;

export class MeView implements View {
  private readonly section = h("section", { class: "page me", "aria-labelledby": "me-title" });

  constructor(
    main: HTMLElement,
    private readonly ctx: AppContext,
  ) {
    replace(main, this.section);
    replace(this.section, h("h1", { id: "me-title" }, "Your settings"), h("p", { class: "muted" }, "Loading…"));
    void this.load();
  }

  dispose(): void {}

  private async load(): Promise<void> {
    const staff = isStaff(this.ctx.session.user);
    try {
      const [notifications, away, totp] = await Promise.all([
        this.ctx.api.get<Notifications>("/me/notifications"),
        staff ? this.ctx.api.get<OutOfOffice>("/me/out-of-office") : Promise.resolve(null),
        this.ctx.api.get<{ totp: { required: boolean; enrolledAt: string | null } }>("/me/totp"),
      ]);
      replace(
        this.section,
        h("h1", { id: "me-title" }, "Your settings"),
        this.notificationsForm(notifications),
        away ? this.outOfOfficeForm(away) : null,
        h(
          "section",
          { class: "practice-card", "aria-labelledby": "totp-heading" },
          h("h2", { id: "totp-heading" }, "Authenticator app"),
          totp.totp.enrolledAt
            ? h("p", null, `Set up on ${new Date(totp.totp.enrolledAt).toLocaleDateString()}: every sign-in asks for its code.`)
            : h("p", null, totp.totp.required ? "Your practice requires one. " : "Not set up. A code from an app at every sign-in protects your account. ", h("a", { href: "#/second-factor" }, "Set up an authenticator app")),
        ),
      );
    } catch (e) {
      this.section.append(h("p", { class: "error", role: "alert" }, errorText(e)));
    }
  }

  private notificationsForm(current: Notifications): HTMLElement {
    const n = current.notifications;
    const channel = h("select", { id: uid("channel") }, CHANNELS.map(([v, label]) => h("option", { value: v }, label)));
    channel.value = n.channel;
    const destination = h("input", { id: uid("destination"), autocomplete: "off", placeholder: "The one on file" });
    const error = h("p", { class: "error", role: "alert" });
    const pending = h("div", { class: "pending" });
    const now = h("p", { class: "muted" }, n.channel === "none" ? "You get no notifications." : `Notifications go to ${n.destination ?? "the address on file"}.`);
    const form = h(
      "form",
      { class: "practice-card", novalidate: true, "aria-labelledby": "notify-heading" },
      h("h2", { id: "notify-heading" }, "Notifications of new messages"),
      h("p", null, "A notification only says there is a new message; it never holds what the message says."),
      now,
      h("div", { class: "field" }, h("label", { for: channel.id }, "Notify me by"), channel),
      h("div", { class: "field" }, h("label", { for: destination.id }, "New email address or mobile number (optional)"), destination),
      error,
      h("div", { class: "form-actions" }, h("button", { type: "submit" }, "Save notifications")),
      pending,
    );
    const showPending = (p: NonNullable<Notifications["notifications"]["pending"]>) => {
      const code = h("input", { id: uid("code"), inputmode: "numeric", autocomplete: "one-time-code", maxlength: 6 });
      const verify = h("button", { type: "button" }, "Confirm");
      const codeError = h("p", { class: "error", role: "alert" });
      verify.addEventListener("click", async () => {
        codeError.textContent = "";
        try {
          await this.ctx.api.request("POST", "/me/notifications/verification", { code: code.value.trim() });
          this.ctx.announce("Notifications saved");
          await this.load();
        } catch (e) {
          codeError.textContent = errorText(e);
          code.focus();
        }
      });
      replace(
        pending,
        h("p", null, `We sent a 6-digit code to ${p.destination}. Until you enter it, notifications keep going where they went.`),
        h("div", { class: "field" }, h("label", { for: code.id }, "Code"), code),
        codeError,
        verify,
      );
      code.focus();
    };
    if (n.pending) showPending(n.pending);
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      error.textContent = "";
      const body = { channel: channel.value, ...(destination.value.trim() && channel.value !== "none" ? { destination: destination.value.trim() } : {}) };
      try {
        const answer = await this.ctx.api.request<Notifications>("PUT", "/me/notifications", body);
        if (answer.notifications.pending && body.destination) return showPending(answer.notifications.pending);
        this.ctx.announce("Notifications saved");
        await this.load();
      } catch (err) {
        error.textContent = errorText(err);
        (err instanceof ApiError && err.field === "destination" ? destination : channel).focus();
      }
    });
    return form;
  }

  private outOfOfficeForm(current: OutOfOffice): HTMLElement {
    const o = current.outOfOffice;
    const day = (iso?: string) => (iso ? iso.slice(0, 10) : "");
    const from = h("input", { id: uid("from"), type: "date", value: day(o?.from) });
    const to = h("input", { id: uid("to"), type: "date", value: day(o?.to) });
    const text = h("textarea", { id: uid("away-text"), rows: 3 }, o?.text ?? "");
    const error = h("p", { class: "error", role: "alert" });
    const save = async (body: unknown, done: string) => {
      error.textContent = "";
      try {
        await this.ctx.api.request("PUT", "/me/out-of-office", body);
        this.ctx.announce(done);
        await this.load();
      } catch (err) {
        error.textContent = errorText(err);
        const field = err instanceof ApiError ? { from, to, text }[err.field as "from" | "to" | "text"] : undefined;
        (field ?? from).focus();
      }
    };
    const form = h(
      "form",
      { class: "practice-card", novalidate: true, "aria-labelledby": "away-heading" },
      h("h2", { id: "away-heading" }, "Out of office"),
      h("p", null, o ? `Set from ${day(o.from)} to ${day(o.to)}: patients who write to you get the reply below.` : "Not set. While you are away, patients who write to you get this reply."),
      h("div", { class: "field-row" }, h("div", { class: "field" }, h("label", { for: from.id }, "Away from"), from), h("div", { class: "field" }, h("label", { for: to.id }, "Back on"), to)),
      h("div", { class: "field" }, h("label", { for: text.id }, "Reply to patients"), text),
      error,
      h("div", { class: "form-actions" }, h("button", { type: "submit" }, "Save out of office"), o ? h("button", { type: "button", class: "secondary", onclick: () => void save(null, "Out of office cleared") }, "Clear") : null),
    );
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      // Whole days in the user's own time zone: from the first day's start to the return day's.
      const at = (d: string) => (d ? new Date(`${d}T00:00:00`).toISOString() : "");
      void save({ from: at(from.value), to: at(to.value), text: text.value }, "Out of office saved");
    });
    return form;
  }
}
