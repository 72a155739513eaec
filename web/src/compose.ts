// Compose (COMPOSE-1, COMPOSE-2; seed 000 "Send a New Message"): a patient or team message,
// or a broadcast to chosen patients (COMPOSE-6); patient search as you type, subject, body,
// priority, attachments with upload progress. What is written is kept as a draft as it is
// typed (drafts.ts), and `#/compose/{draftId}` resumes one.

import { type AppContext, errorText, type View } from "./app";
import { AttachmentPicker } from "./attachments";
import { debounce, h, replace, uid } from "./dom";
import type { Conversation, Message, Page, PatientRef } from "./types";
import { checkbox } from "./forms";
import { type Draft, DraftKeeper, draftsList } from "./drafts";

export class ComposeView implements View {
  private patient: PatientRef | null = null;
  /** A broadcast's patients, in the order chosen. */
  private readonly audience: PatientRef[] = [];

  constructor(
    main: HTMLElement,
    ctx: AppContext,
    path: string[] = [],
  ) {
    const kindName = uid("kind");
    const patientKind = h("input", { type: "radio", name: kindName, value: "patient", checked: true });
    const teamKind = h("input", { type: "radio", name: kindName, value: "team" });
    const broadcastKind = h("input", { type: "radio", name: kindName, value: "broadcast" });
    const kind = h(
      "fieldset",
      { class: "kind" },
      h("legend", null, "Message type"),
      h("label", { class: "check" }, patientKind, " Patient"),
      h("label", { class: "check" }, teamKind, " Team"),
      h("label", { class: "check" }, broadcastKind, " Broadcast to patients"),
    );
    const audienceList = h("ul", { class: "plain-list audience", "aria-label": "Patients of the broadcast" });
    const allowResponse = checkbox("Patients may reply (each in their own copy)", true);
    const showAudience = () =>
      replace(
        audienceList,
        this.audience.map((p, i) =>
          h("li", null, `${p.firstName} ${p.lastName} `, h("button", { type: "button", class: "link", "aria-label": `Remove ${p.firstName} ${p.lastName}`, onclick: () => (this.audience.splice(i, 1), showAudience()) }, "Remove")),
        ),
      );

    // Patient search: results update as you type (GET /patients?q=).
    const searchId = uid("patient");
    const search = h("input", { type: "search", id: searchId, autocomplete: "off", placeholder: "Type at least 2 letters of a name", "aria-describedby": `${searchId}-hint` });
    const results = h("ul", { class: "search-results", "aria-label": "Matching patients" });
    const chosen = h("p", { class: "chosen", id: `${searchId}-hint`, role: "status" });
    const choose = (p: PatientRef | null) => {
      if (p && broadcastKind.checked) {
        if (!this.audience.some((a) => a.id === p.id)) this.audience.push(p);
        showAudience();
        results.replaceChildren();
        search.value = "";
        chosen.textContent = `${this.audience.length} ${this.audience.length === 1 ? "patient" : "patients"} chosen`;
        return;
      }
      this.patient = p;
      chosen.textContent = p ? `Selected: ${p.firstName} ${p.lastName}` : "";
      results.replaceChildren();
      if (p) search.value = `${p.firstName} ${p.lastName}`;
    };
    search.addEventListener(
      "input",
      debounce(async () => {
        const q = search.value.trim();
        this.patient = null;
        chosen.textContent = "";
        if (q.length < 2) {
          results.replaceChildren();
          return;
        }
        try {
          const page = await ctx.api.get<Page<PatientRef>>(`/patients?q=${encodeURIComponent(q)}&limit=10`);
          replace(
            results,
            page.items.length
              ? page.items.map((p) => h("li", null, h("button", { type: "button", class: "link", onclick: () => choose(p) }, `${p.firstName} ${p.lastName}`)))
              : h("li", { class: "muted" }, "No patient matches."),
          );
        } catch (e) {
          replace(results, h("li", { class: "error" }, errorText(e)));
        }
      }, 250),
    );
    const patientField = h("div", { class: "field" }, h("label", { for: searchId }, "Patient"), search, results, chosen, audienceList);

    // Team recipients: staff and workgroups of the practice.
    const recipientsBox = h("div", { class: "choices" }, h("p", { class: "muted" }, "Loading the team…"));
    const teamField = h("fieldset", { class: "field", hidden: true }, h("legend", null, "Recipients"), recipientsBox);
    let recipientChecks: { type: string; box: ReturnType<typeof checkbox> }[] = [];
    void Promise.all([ctx.staff(), ctx.workgroups()])
      .then(([staff, groups]) => {
        recipientChecks = [
          ...staff.filter((s) => s.id !== ctx.session.user.id).map((s) => ({ type: "staff", box: checkbox(`${s.firstName} ${s.lastName} (${s.role.replace(/_/g, " ")})`, false, s.id) })),
          ...groups.map((g) => ({ type: "workgroup", box: checkbox(`${g.name} (workgroup)`, false, g.id) })),
        ];
        replace(recipientsBox, recipientChecks.map((r) => r.box.label));
      })
      .catch((e) => replace(recipientsBox, h("p", { class: "error" }, errorText(e))));

    const toggle = () => {
      const team = teamKind.checked;
      patientField.hidden = team;
      teamField.hidden = !team;
      audienceList.hidden = allowResponse.label.hidden = !broadcastKind.checked;
    };
    for (const k of [patientKind, teamKind, broadcastKind]) k.addEventListener("change", toggle);

    const subjectId = uid("subject");
    const subject = h("input", { id: subjectId, required: true, maxlength: 200, autocomplete: "off" });
    const bodyId = uid("body");
    const body = h("textarea", { id: bodyId, rows: 8, required: true, maxlength: 20000 });
    const priorityId = uid("priority");
    const priority = h("select", { id: priorityId }, h("option", { value: "normal" }, "Normal"), h("option", { value: "urgent" }, "Urgent"), h("option", { value: "low" }, "Low"));
    const picker = new AttachmentPicker(ctx);
    const send = h("button", { type: "submit" }, "Send");
    picker.onChange(() => (send.disabled = picker.busy));
    const error = h("p", { class: "error", role: "alert" });

    // The draft: what POST /conversations would take, as far as it is written.
    const content = (): Record<string, unknown> => {
      const team = teamKind.checked;
      const recipients = recipientChecks.filter((r) => r.box.input.checked).map((r) => ({ type: r.type, id: r.box.input.value }));
      return {
        kind: team ? "team" : "patient",
        subject: subject.value,
        body: body.value,
        priority: priority.value,
        attachmentIds: picker.ids,
        ...(team ? { recipients } : this.patient ? { patientId: this.patient.id } : {}),
      };
    };
    const draft = new DraftKeeper(ctx, content, path[0] ?? null);
    const form = h(
      "form",
      { class: "compose", "aria-labelledby": "compose-title", novalidate: true },
      h("h1", { id: "compose-title" }, "New message"),
      draftsList(ctx),
      kind,
      patientField,
      teamField,
      h("div", { class: "field" }, h("label", { for: subjectId }, "Subject"), subject),
      h("div", { class: "field" }, h("label", { for: bodyId }, "Message"), body),
      h("div", { class: "field" }, h("label", { for: priorityId }, "Priority"), priority),
      allowResponse.label,
      picker.element,
      error,
      draft.status,
      h("div", { class: "form-actions" }, h("a", { href: "#/inbox", class: "button secondary" }, "Cancel"), send),
    );
    // A broadcast is not a draft (POST /drafts takes a message's fields only).
    form.addEventListener("input", () => broadcastKind.checked || draft.schedule());
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      error.textContent = "";
      const team = teamKind.checked;
      const broadcast = broadcastKind.checked;
      const recipients = recipientChecks.filter((r) => r.box.input.checked).map((r) => ({ type: r.type, id: r.box.input.value }));
      const problem = broadcast && !this.audience.length ? [search, "Choose the patients of the broadcast."] as const
        : !team && !broadcast && !this.patient ? [search, "Choose a patient from the search results."] as const
        : team && !recipients.length ? [recipientsBox, "Choose at least one recipient."] as const
        : !subject.value.trim() ? [subject, "Write a subject."] as const
        : !body.value.trim() ? [body, "Write a message."] as const
        : null;
      if (problem) {
        error.textContent = problem[1];
        const at: HTMLElement = problem[0];
        (at.matches("input, textarea") ? at : at.querySelector<HTMLElement>("input"))?.focus();
        return;
      }
      send.disabled = true;
      try {
        if (broadcast) {
          const { broadcast: sent } = await ctx.api.create<{ broadcast: { id: string; recipientCount: number } }>("/broadcasts", {
            patientIds: this.audience.map((p) => p.id),
            subject: subject.value.trim(),
            body: body.value,
            allowResponse: allowResponse.input.checked,
          });
          ctx.announce(`Broadcast sent to ${sent.recipientCount} ${sent.recipientCount === 1 ? "patient" : "patients"}`);
          ctx.navigate("#/inbox");
          return;
        }
        if (draft.id || path[0]) {
          const conversation = await draft.send();
          ctx.announce("Message sent");
          ctx.navigate(`#/inbox/${conversation.id}`);
          return;
        }
        const request: Record<string, unknown> = {
          kind: team ? "team" : "patient",
          subject: subject.value.trim(),
          body: body.value,
          priority: priority.value,
          attachmentIds: picker.ids,
        };
        if (team) request.recipients = recipients;
        else request.patientId = this.patient!.id;
        const created = await ctx.api.create<{ conversation: Conversation; message: Message }>("/conversations", request);
        ctx.announce("Message sent");
        ctx.navigate(`#/inbox/${created.conversation.id}`);
      } catch (e) {
        error.textContent = errorText(e);
        send.disabled = false;
      }
    });
    replace(main, form);
    toggle();
    search.focus();
    if (path[0]) void this.resume(ctx, path[0], { patientKind, teamKind, subject, body, priority, chosen }, () => recipientChecks);
  }

  /** Fills the form from a saved draft. */
  private async resume(
    ctx: AppContext,
    id: string,
    f: { patientKind: HTMLInputElement; teamKind: HTMLInputElement; subject: HTMLInputElement; body: HTMLTextAreaElement; priority: HTMLSelectElement; chosen: HTMLElement },
    checks: () => { type: string; box: ReturnType<typeof checkbox> }[],
  ): Promise<void> {
    try {
      const { draft } = await ctx.api.get<{ draft: Draft & { recipients?: { id: string }[]; priority?: string } }>(`/drafts/${id}`);
      (draft.kind === "team" ? f.teamKind : f.patientKind).click();
      f.subject.value = draft.subject ?? "";
      f.body.value = draft.body ?? "";
      if (draft.priority) f.priority.value = draft.priority;
      if (draft.patientId) {
        this.patient = { id: draft.patientId, firstName: "", lastName: "" };
        f.chosen.textContent = "Selected: the draft's patient (search to choose another)";
      }
      const ids = new Set((draft.recipients ?? []).map((r) => r.id));
      // The team list may still be loading: tick the draft's recipients once it is there.
      const tick = () => (checks().length ? checks().forEach((c) => (c.box.input.checked = ids.has(c.box.input.value))) : window.setTimeout(tick, 100));
      if (ids.size) tick();
      f.body.focus();
    } catch (e) {
      f.chosen.textContent = errorText(e);
    }
  }

  dispose(): void {}
}
