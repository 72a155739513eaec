// The practice's workgroups (admin class; ROLE-6): each with its members, a new one, a new
// name, members added or taken away (the whole list is sent; members added join the
// workgroup's open conversations moments later). A refusal is shown and read out.

import { type AppContext, errorText, type View } from "./app";
import { h, replace, uid } from "./dom";
import { applyChange, checkbox } from "./forms";
import type { StaffMember, Workgroup } from "./types";

export class WorkgroupsView implements View {
  private readonly list = h("div", { class: "workgroup-list" });
  private readonly error = h("p", { class: "error", role: "alert" });

  constructor(
    main: HTMLElement,
    private readonly ctx: AppContext,
  ) {
    replace(main, h("section", { class: "page staff-admin" }, h("h1", null, "Workgroups"), this.addForm(), this.error, this.list));
    void this.load();
  }

  dispose(): void {}

  private async load(): Promise<void> {
    try {
      const [{ items }, staff] = await Promise.all([this.ctx.api.get<{ items: Workgroup[] }>("/workgroups"), this.ctx.staff()]);
      replace(this.list, items.length ? items.map((g) => this.group(g, staff)) : h("p", { class: "muted" }, "No workgroups yet."));
    } catch (e) {
      this.error.textContent = errorText(e);
    }
  }

  private group(g: Workgroup, staff: StaffMember[]): HTMLElement {
    const nameId = uid("group-name");
    const name = h("input", { id: nameId, value: g.name, autocomplete: "off", required: true });
    const members = staff.map((s) => ({ id: s.id, ...checkbox(`${s.firstName} ${s.lastName}`, g.memberIds.includes(s.id), s.id) }));
    const form = h(
      "form",
      { class: "staff-add", "data-workgroup": g.id, "aria-label": `Workgroup ${g.name}` },
      h("div", { class: "field" }, h("label", { for: nameId }, "Name"), name),
      h("fieldset", null, h("legend", null, `Members of ${g.name}`), members.map((m) => m.label)),
      h("div", { class: "form-actions" }, h("button", { type: "submit" }, `Save ${g.name}`)),
    );
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const memberIds = members.filter((m) => m.input.checked).map((m) => m.id);
      const body = { ...(name.value.trim() !== g.name ? { name: name.value.trim() } : {}), memberIds };
      void this.act(`${name.value.trim()} saved`, () => this.ctx.api.request("PATCH", `/workgroups/${g.id}`, body));
    });
    return form;
  }

  private addForm(): HTMLElement {
    const nameId = uid("new-group");
    const name = h("input", { id: nameId, autocomplete: "off", required: true });
    const form = h(
      "form",
      { class: "report-range" },
      h("label", { for: nameId }, "New workgroup"),
      name,
      h("button", { type: "submit" }, "Add workgroup"),
    );
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      void this.act(`${name.value.trim()} added`, async () => {
        await this.ctx.api.create("/workgroups", { name: name.value.trim(), memberIds: [] });
        form.reset();
      });
    });
    return form;
  }

  private act(done: string, change: () => Promise<unknown>): Promise<void> {
    return applyChange(this.ctx, this.error, done, change, () => this.load());
  }
}
