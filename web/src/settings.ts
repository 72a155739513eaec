// The practice settings (SET-1, SLA-1, SLA-4), for the admin class: what patients see before
// writing, the opening hours and holidays the reply-time promise runs on, the promise per
// priority and its escalation, attachments, records and sign-in. Only the fields changed are
// sent (PUT /settings takes any subset); a refusal names its field, which gets the focus.

import { type AppContext, errorText, type View } from "./app";
import { ApiError } from "./api";
import { h, replace, uid } from "./dom";
import { checkbox, select } from "./forms";

type Span = { businessMinutes?: number; businessHours?: number; businessDays?: number };
type Targets = Partial<Record<"urgent" | "normal" | "low", Span>>;
type Settings = Record<string, unknown> & {
  businessHours?: { days: number[]; open: string; close: string };
  replyTargets?: Targets;
  holidays?: string[];
  escalation?: { atShare: number; to: { type: string; id: string } } | null;
};

const DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const UNITS = ["businessMinutes", "businessHours", "businessDays"] as const;

export class SettingsView implements View {
  private readonly form = h("form", { class: "settings", "aria-labelledby": "settings-title" });
  private readonly error = h("p", { class: "error", role: "alert" });
  /** Each field: how to read its value for the API, the input that gets the focus, and the
   * value that stands for "not set" (the API leaves an unset list or promise out). */
  private fields: { name: string; read: () => unknown; focus: HTMLElement; unset?: unknown }[] = [];
  private loaded: Settings = {};

  constructor(
    main: HTMLElement,
    private readonly ctx: AppContext,
  ) {
    replace(main, h("section", { class: "page" }, h("h1", { id: "settings-title" }, "Practice settings"), this.form));
    replace(this.form, h("p", { class: "muted" }, "Loading…"));
    void this.load();
  }

  dispose(): void {}

  private async load(): Promise<void> {
    try {
      const [{ settings }, groups] = await Promise.all([this.ctx.api.get<{ settings: Settings }>("/settings"), this.ctx.workgroups()]);
      this.loaded = settings;
      this.render(settings, groups);
    } catch (e) {
      replace(this.form, h("p", { class: "error", role: "alert" }, errorText(e)));
    }
  }

  private text(name: string, label: string, s: Settings, opts: { long?: boolean; type?: string } = {}): HTMLElement {
    const id = uid(name);
    const value = s[name] === undefined || s[name] === null ? "" : String(s[name]);
    const input = opts.long
      ? h("textarea", { id, rows: 3 }, value)
      : h("input", { id, type: opts.type ?? "text", value, autocomplete: "off" });
    const numeric = opts.type === "number";
    this.fields.push({ name, read: () => (numeric ? (input.value === "" ? undefined : Number(input.value)) : input.value), focus: input });
    return h("div", { class: "field" }, h("label", { for: id }, label), input);
  }

  private flag(name: string, label: string, s: Settings): HTMLElement {
    const box = checkbox(label, Boolean(s[name]));
    this.fields.push({ name, read: () => box.input.checked, focus: box.input });
    return box.label;
  }

  private render(s: Settings, groups: { id: string; name: string }[]): void {
    this.fields = [];
    const hours = s.businessHours;
    const days = DAYS.map((d, i) => checkbox(d, hours?.days.includes(i + 1) ?? false, String(i + 1)));
    const open = h("input", { id: uid("open"), type: "time", value: hours?.open ?? "" });
    const close = h("input", { id: uid("close"), type: "time", value: hours?.close ?? "" });
    this.fields.push({
      name: "businessHours",
      read: () => {
        const open_days = days.filter((d) => d.input.checked).map((d) => Number(d.input.value));
        return open_days.length || open.value || close.value ? { days: open_days, open: open.value, close: close.value } : undefined;
      },
      focus: open,
    });
    const holidaysId = uid("holidays");
    const holidays = h("textarea", { id: holidaysId, rows: 3 }, (s.holidays ?? []).join("\n"));
    this.fields.push({ name: "holidays", read: () => holidays.value.split(/\s+/).filter(Boolean), focus: holidays, unset: [] });

    const targets = (["urgent", "normal", "low"] as const).map((priority) => {
      const current = s.replyTargets?.[priority] ?? {};
      const unit = UNITS.find((u) => current[u] !== undefined) ?? "businessDays";
      const amountId = uid(`target-${priority}`);
      const amount = h("input", { id: amountId, type: "number", min: 1, step: 1, value: current[unit] ?? "" });
      const units = select("in", [...UNITS], ["business minutes", "business hours", "business days"]);
      units.input.value = unit;
      const label = `${priority[0].toUpperCase()}${priority.slice(1)} messages: reply within`;
      units.input.setAttribute("aria-label", `${label} (unit)`);
      return { priority, amount, units, row: h("div", { class: "field inline-field" }, h("label", { for: amountId }, label), amount, units.label) };
    });
    this.fields.push({
      name: "replyTargets",
      read: () => Object.fromEntries(targets.filter((t) => t.amount.value !== "").map((t) => [t.priority, { [t.units.input.value]: Number(t.amount.value) }])),
      focus: targets[0].amount,
      unset: {},
    });
    const shareId = uid("share");
    const share = h("input", { id: shareId, type: "number", min: 1, max: 100, step: 1, value: s.escalation ? Math.round(s.escalation.atShare * 100) : "" });
    // A target is `type:id`; a staff member chosen through the API stays a choice here.
    const current = s.escalation ? `${s.escalation.to.type}:${s.escalation.to.id}` : "";
    const values = ["", ...groups.map((g) => `workgroup:${g.id}`)];
    const labels = ["nobody (no escalation)", ...groups.map((g) => g.name)];
    if (current.startsWith("staff:")) values.push(current), labels.push("the staff member set before");
    const to = select("to", values, labels);
    to.input.value = current;
    this.fields.push({
      name: "escalation",
      read: () => {
        const [type, id] = to.input.value.split(":");
        return id && share.value ? { atShare: Number(share.value) / 100, to: { type, id } } : null;
      },
      focus: share,
      unset: null,
    });

    const save = h("button", { type: "submit" }, "Save settings");
    replace(
      this.form,
      h(
        "fieldset",
        null,
        h("legend", null, "Before a patient writes"),
        this.text("patientBanner", "Banner shown above the patient's message", s, { long: true }),
        this.text("urgentPhone", "Phone for urgent matters", s, { type: "tel" }),
        this.text("patientMessagesPerDay", "Messages a patient may send a day", s, { type: "number" }),
        this.text("patientBodyMaxChars", "Longest patient message (characters)", s, { type: "number" }),
        this.text("bodyMaxChars", "Longest staff message (characters)", s, { type: "number" }),
      ),
      h(
        "fieldset",
        null,
        h("legend", null, "Opening hours"),
        this.text("timeZone", "Time zone (e.g. America/Chicago)", s),
        h("div", { class: "field days", role: "group", "aria-label": "Open on" }, days.map((d) => d.label)),
        h("div", { class: "field inline-field" }, h("label", { for: open.id }, "Opens"), open, h("label", { for: close.id }, "Closes"), close),
        this.text("afterHoursText", "Automatic reply outside the opening hours", s, { long: true }),
        h("div", { class: "field" }, h("label", { for: holidaysId }, "Holidays (one date a line, YYYY-MM-DD)"), holidays),
      ),
      h(
        "fieldset",
        null,
        h("legend", null, "Reply-time promise"),
        h("p", { class: "muted" }, "Patients see when to expect a reply, counted in opening hours. Leave a priority empty to promise nothing for it."),
        targets.map((t) => t.row),
        h("div", { class: "field inline-field" }, h("label", { for: shareId }, "Escalate at (% of the target)"), share, to.label),
      ),
      h(
        "fieldset",
        null,
        h("legend", null, "Attachments and records"),
        this.text("attachmentMaxBytes", "Largest attachment (bytes)", s, { type: "number" }),
        this.flag("malwareScanning", "Scan attachments for malware before anyone downloads them", s),
        this.text("attachmentRetentionDays", "Delete a file this many days after the patient downloaded it (0: never)", s, { type: "number" }),
        this.text("retentionDays", "Delete conversations idle this many days (0: never)", s, { type: "number" }),
        this.text("broadcastMaxRecipients", "Most patients in one broadcast", s, { type: "number" }),
      ),
      h(
        "fieldset",
        null,
        h("legend", null, "Sign-in"),
        this.flag("totpRequiredForStaff", "Staff must use an authenticator app", s),
        this.flag("totpRequiredForPatients", "Patients must use an authenticator app", s),
      ),
      this.error,
      h("div", { class: "form-actions" }, save),
    );
    this.form.onsubmit = (e) => {
      e.preventDefault();
      void this.save(save);
    };
  }

  /** The fields whose value differs from what was loaded. */
  private changes(): Record<string, unknown> {
    const patch: Record<string, unknown> = {};
    for (const f of this.fields) {
      const value = f.read();
      const before = this.loaded[f.name] ?? f.unset;
      if (value !== undefined && JSON.stringify(value) !== JSON.stringify(before)) patch[f.name] = value;
    }
    return patch;
  }

  private async save(button: HTMLButtonElement): Promise<void> {
    this.error.textContent = "";
    const patch = this.changes();
    if (!Object.keys(patch).length) return this.ctx.announce("Nothing changed");
    button.disabled = true;
    try {
      const { settings } = await this.ctx.api.request<{ settings: Settings }>("PUT", "/settings", patch);
      this.loaded = settings;
      this.ctx.announce("Settings saved");
    } catch (e) {
      this.error.textContent = errorText(e);
      const field = e instanceof ApiError ? e.field?.split(".")[0] : undefined;
      this.fields.find((f) => f.name === field)?.focus.focus();
    } finally {
      button.disabled = false;
    }
  }
}
