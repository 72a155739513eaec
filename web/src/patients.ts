// The practice's patients (admin class; ROLE-1, ACCT-1, ACCT-2): find one by name, add one
// (with portal access the API creates the portal account and sends the invitation), and open
// a record to change its contact, primary provider, care team, portal access and status, or
// to send the invitation again. Only the fields changed are sent; a refusal is shown and read
// out, with the focus on its field.

import { type AppContext, errorText, type View } from "./app";
import { ApiError } from "./api";
import { h, replace, uid } from "./dom";
import { applyChange, checkbox } from "./forms";
import { ASSIGNER_ROLES } from "./session";
import type { StaffMember } from "./types";

interface PatientRecord {
  id: string;
  firstName: string;
  lastName: string;
  email: string | null;
  phone: string | null;
  primaryProviderId: string | null;
  assignedStaffIds: string[];
  portalAccess: boolean;
  active: boolean;
}

const PROVIDER_ROLES = ASSIGNER_ROLES.filter((r) => !["admin", "practice_manager"].includes(r));

export class PatientsView implements View {
  private readonly results = h("div", { class: "patient-results", "aria-live": "polite" });
  private readonly record = h("div", { class: "patient-record" });
  private readonly error = h("p", { class: "error", role: "alert" });

  constructor(
    main: HTMLElement,
    private readonly ctx: AppContext,
    path: string[],
  ) {
    replace(main, h("section", { class: "page patients-admin" }, h("h1", null, "Patients"), patientFinder(this.ctx, this.results, this.error, (id) => `#/patients/${id}`, h("a", { href: "#/patients", class: "button secondary" }, "Add a patient")), this.error, this.results, this.record));
    if (!this.update(path)) void this.showAddForm();
  }

  /** `#/patients/{id}` opens that record; `#/patients` the form to add one. */
  update(path: string[]): boolean {
    if (!path[0]) return false;
    void this.open(path[0]);
    return true;
  }

  dispose(): void {}

  private async open(id: string): Promise<void> {
    this.error.textContent = "";
    try {
      const [{ patient }, staff] = await Promise.all([this.ctx.api.get<{ patient: PatientRecord }>(`/patients/${id}`), this.ctx.staff()]);
      replace(this.record, this.form(patient, staff));
      this.record.querySelector("h2")?.focus();
    } catch (e) {
      this.error.textContent = errorText(e);
    }
  }

  private async showAddForm(): Promise<void> {
    try {
      replace(this.record, this.form(null, await this.ctx.staff()));
    } catch (e) {
      this.error.textContent = errorText(e);
    }
  }

  /** The record's form: a new patient's when `p` is null. */
  private form(p: PatientRecord | null, staff: StaffMember[]): HTMLElement {
    const fields: Record<string, HTMLInputElement | HTMLSelectElement> = {};
    const text = (name: keyof PatientRecord, label: string, type = "text", hint?: string) => {
      const input = h("input", { id: uid(name), name, type, autocomplete: "off", value: (p?.[name] as string | null) ?? "", placeholder: hint });
      fields[name] = input;
      return h("div", { class: "field" }, h("label", { for: input.id }, label), input);
    };
    const provider = h(
      "select",
      { id: uid("provider"), name: "primaryProviderId" },
      h("option", { value: "" }, "None"),
      staff.filter((s) => PROVIDER_ROLES.includes(s.role)).map((s) => h("option", { value: s.id }, `${s.firstName} ${s.lastName}`)),
    );
    provider.value = p?.primaryProviderId ?? "";
    fields.primaryProviderId = provider;
    const team = staff.map((s) => ({ id: s.id, ...checkbox(`${s.firstName} ${s.lastName}`, p?.assignedStaffIds.includes(s.id) ?? false, s.id) }));
    const portal = checkbox("Portal access (sends the invitation)", p?.portalAccess ?? true);
    const error = h("p", { class: "error", role: "alert" });
    const title = p ? `${p.firstName} ${p.lastName}` : "Add a patient";
    const form = h(
      "form",
      { class: "staff-add", novalidate: true, "aria-labelledby": "patient-title" },
      h("h2", { id: "patient-title", tabindex: "-1" }, title, p && !p.active ? " (deactivated)" : ""),
      h("div", { class: "field-row" }, text("firstName", "First name"), text("lastName", "Last name")),
      h("div", { class: "field-row" }, text("email", "Email", "email"), text("phone", "Mobile phone", "tel", "+15551234567")),
      h("div", { class: "field" }, h("label", { for: provider.id }, "Primary provider"), provider),
      h("fieldset", null, h("legend", null, "Care team"), team.map((t) => t.label)),
      portal.label,
      error,
      h("div", { class: "form-actions" }, h("button", { type: "submit" }, p ? "Save changes" : "Add patient"), p ? this.lifecycle(p) : null),
    );
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      error.textContent = "";
      const now: Record<string, unknown> = {};
      for (const [name, input] of Object.entries(fields)) now[name] = input.value.trim();
      now.assignedStaffIds = team.filter((t) => t.input.checked).map((t) => t.id);
      now.portalAccess = portal.input.checked;
      try {
        if (p) {
          // Only what changed: PATCH keeps every field left out.
          const before: Record<string, unknown> = { ...p, email: p.email ?? "", phone: p.phone ?? "", primaryProviderId: p.primaryProviderId ?? "" };
          const changed = Object.fromEntries(Object.entries(now).filter(([k, v]) => JSON.stringify(v) !== JSON.stringify(before[k])));
          if (Object.keys(changed).length) await this.ctx.api.request("PATCH", `/patients/${p.id}`, changed);
          this.ctx.announce(`${title}: changes saved`);
          await this.open(p.id);
        } else {
          const body = Object.fromEntries(Object.entries(now).filter(([, v]) => v !== ""));
          const { patient } = await this.ctx.api.create<{ patient: PatientRecord }>("/patients", body);
          this.ctx.announce(`${patient.firstName} ${patient.lastName} added${patient.portalAccess ? "; the invitation is on its way" : ""}`);
          this.ctx.navigate(`#/patients/${patient.id}`);
        }
      } catch (err) {
        error.textContent = errorText(err);
        const field = err instanceof ApiError && err.field ? fields[err.field] : undefined;
        field?.focus();
      }
    });
    return form;
  }

  /** Deactivate or reactivate, and the invitation again where the patient has the portal. */
  private lifecycle(p: PatientRecord): HTMLElement[] {
    const name = `${p.firstName} ${p.lastName}`;
    const act = (label: string, done: string, change: () => Promise<unknown>) =>
      h("button", { type: "button", class: "secondary", onclick: () => applyChange(this.ctx, this.error, done, change, () => this.open(p.id)) }, label);
    const toggle = p.active
      ? act("Deactivate", `${name} deactivated`, () => this.ctx.api.request("PATCH", `/patients/${p.id}`, { active: false }))
      : act("Reactivate", `${name} reactivated`, () => this.ctx.api.request("PATCH", `/patients/${p.id}`, { active: true }));
    const invite = act("Invite again", `Invitation sent to ${name}`, () => this.ctx.api.create(`/patients/${p.id}/invitation`, {}));
    const audit = h("a", { href: `#/audit/patient/${p.id}`, class: "button secondary" }, "Audit log");
    return p.portalAccess && p.active ? [toggle, invite, audit] : [toggle, audit];
  }
}

/** Find a patient by name (GET /patients?q=, two letters or more): the matches, each a link
 * to `href(id)`, in `results`. */
export function patientFinder(ctx: AppContext, results: HTMLElement, error: HTMLElement, href: (id: string) => string, extra?: HTMLElement): HTMLElement {
  const q = h("input", { id: uid("patient-q"), type: "search", autocomplete: "off", minlength: 2 });
  const form = h("form", { class: "report-range", role: "search", novalidate: true }, h("label", { for: q.id }, "Find a patient"), q, h("button", { type: "submit" }, "Find"), extra);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    error.textContent = "";
    try {
      const { items } = await ctx.api.get<{ items: { id: string; firstName: string; lastName: string }[] }>(`/patients?q=${encodeURIComponent(q.value)}`);
      replace(
        results,
        items.length
          ? h("ul", { class: "plain-list" }, items.map((p) => h("li", null, h("a", { href: href(p.id) }, `${p.firstName} ${p.lastName}`))))
          : h("p", { class: "muted" }, "No patient by that name."),
      );
    } catch (err) {
      error.textContent = errorText(err);
      q.focus();
    }
  });
  return form;
}
