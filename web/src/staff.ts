// The practice's staff (admin class; ROLE-1, ACCT-2): everyone with their role, email and
// status, deactivated users too; add one (the API creates the account and sends the
// invitation), edit names and contact, change a role, deactivate and reactivate, send the
// invitation again. A refusal is shown and read out.

import { type AppContext, errorText, type View } from "./app";
import { h, replace, uid } from "./dom";
import { applyChange, modalDialog } from "./forms";
import { roleLabel } from "./session";

interface Member {
  id: string;
  firstName: string;
  lastName: string;
  role: string;
  email: string;
  phone: string;
  active: boolean;
}

const ROLES = ["physician", "nurse_practitioner", "physician_assistant", "nurse", "medical_assistant", "front_desk", "billing", "practice_manager", "admin"];

export class StaffView implements View {
  private readonly list = h("div", { class: "staff-list" });
  private readonly error = h("p", { class: "error", role: "alert" });

  constructor(
    main: HTMLElement,
    private readonly ctx: AppContext,
  ) {
    replace(main, h("section", { class: "page staff-admin" }, h("h1", null, "Staff"), this.addForm(), this.error, this.list));
    void this.load();
  }

  dispose(): void {}

  private async load(): Promise<void> {
    try {
      const { items } = await this.ctx.api.get<{ items: Member[] }>("/staff?include=inactive");
      replace(
        this.list,
        h(
          "table",
          { class: "report" },
          h("thead", null, h("tr", null, ["Name", "Role", "Email", "Status", ""].map((c) => h("th", { scope: "col" }, c)))),
          h("tbody", null, items.map((m) => this.row(m))),
        ),
      );
    } catch (e) {
      this.error.textContent = errorText(e);
    }
  }

  private row(m: Member): HTMLElement {
    const name = `${m.firstName} ${m.lastName}`;
    const role = h("select", { "aria-label": `Role of ${name}` }, [...new Set([...ROLES, m.role])].map((r) => h("option", { value: r }, roleLabel(r))));
    role.value = m.role;
    role.addEventListener("change", () => void this.act(`${name} is now ${roleLabel(role.value)}`, () => this.patch(m.id, { role: role.value })));
    const toggle = h("button", { type: "button", class: "secondary" }, m.active ? "Deactivate" : "Reactivate");
    toggle.setAttribute("aria-label", `${m.active ? "Deactivate" : "Reactivate"} ${name}`);
    toggle.addEventListener("click", () => void this.act(`${name} ${m.active ? "deactivated" : "reactivated"}`, () => this.patch(m.id, { active: !m.active })));
    const edit = h("button", { type: "button", class: "secondary", "aria-label": `Edit ${name}` }, "Edit");
    edit.addEventListener("click", () => void this.editDialog(m));
    const invite = h("button", { type: "button", class: "secondary", "aria-label": `Invite again ${name}` }, "Invite again");
    invite.addEventListener("click", () => void this.act(`Invitation sent to ${name}`, () => this.ctx.api.create(`/staff/${m.id}/invitation`, {})));
    return h(
      "tr",
      { "data-staff": m.id },
      h("td", null, name),
      h("td", null, role),
      h("td", null, m.email),
      h("td", null, m.active ? "active" : "deactivated"),
      h("td", { class: "row-actions" }, edit, toggle, m.active ? invite : null),
    );
  }

  /** Names and contact (ACCT-2): only what changed is sent; a refusal stays in the dialog. */
  private async editDialog(m: Member): Promise<void> {
    const fields = (["firstName", "lastName", "email", "phone"] as const).map((name) => {
      const input = h("input", { id: uid(name), value: m[name] ?? "", autocomplete: "off", type: name === "email" ? "email" : name === "phone" ? "tel" : "text" });
      const label = { firstName: "First name", lastName: "Last name", email: "Email", phone: "Phone" }[name];
      return { name, input, element: h("div", { class: "field" }, h("label", { for: input.id }, label), input) };
    });
    await modalDialog(`Edit ${m.firstName} ${m.lastName}`, fields.map((f) => f.element), "Save", async () => {
      const changed = Object.fromEntries(fields.filter((f) => f.input.value.trim() !== (m[f.name] ?? "")).map((f) => [f.name, f.input.value.trim()]));
      if (Object.keys(changed).length) await this.patch(m.id, changed);
      this.ctx.forgetDirectory();
      this.ctx.announce(`${m.firstName} ${m.lastName} saved`);
      await this.load();
    });
  }

  private patch(id: string, body: Record<string, unknown>): Promise<unknown> {
    return this.ctx.api.request("PATCH", `/staff/${id}`, body);
  }

  private act(done: string, change: () => Promise<unknown>): Promise<void> {
    return applyChange(this.ctx, this.error, done, change, () => this.load());
  }

  private addForm(): HTMLElement {
    const field = (label: string, input: HTMLInputElement | HTMLSelectElement) => {
      input.id = uid("staff");
      return h("div", { class: "field" }, h("label", { for: input.id }, label), input);
    };
    const first = h("input", { required: true, autocomplete: "off" });
    const last = h("input", { required: true, autocomplete: "off" });
    const email = h("input", { type: "email", required: true, autocomplete: "off" });
    const phone = h("input", { type: "tel", autocomplete: "off", placeholder: "+15551234567" });
    const role = h("select", null, ROLES.map((r) => h("option", { value: r }, roleLabel(r))));
    const form = h(
      "form",
      { class: "staff-add", novalidate: true },
      h("h2", null, "Add a staff member"),
      h("div", { class: "field-row" }, field("First name", first), field("Last name", last), field("Role", role)),
      h("div", { class: "field-row" }, field("Email", email), field("Phone", phone)),
      h("div", { class: "form-actions" }, h("button", { type: "submit" }, "Add and invite")),
    );
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const body = { firstName: first.value, lastName: last.value, role: role.value, email: email.value, ...(phone.value ? { phone: phone.value } : {}) };
      void this.act(`${first.value} ${last.value} added; the invitation is on its way`, async () => {
        await this.ctx.api.create("/staff", body);
        form.reset();
      });
    });
    return form;
  }
}
