// Compose (COMPOSE-1, COMPOSE-2; seed 000 "Send a New Message"): a patient or team message,
// patient search as you type, subject, body, priority, attachments with upload progress.

import { type AppContext, errorText, type View } from "./app";
import { AttachmentPicker } from "./attachments";
import { debounce, h, replace, uid } from "./dom";
import type { Conversation, Message, Page, PatientRef } from "./types";
import { checkbox } from "./forms";

export class ComposeView implements View {
  private patient: PatientRef | null = null;

  constructor(
    main: HTMLElement,
    ctx: AppContext,
  ) {
    const kindName = uid("kind");
    const patientKind = h("input", { type: "radio", name: kindName, value: "patient", checked: true });
    const teamKind = h("input", { type: "radio", name: kindName, value: "team" });
    const kind = h(
      "fieldset",
      { class: "kind" },
      h("legend", null, "Message type"),
      h("label", { class: "check" }, patientKind, " Patient"),
      h("label", { class: "check" }, teamKind, " Team"),
    );

    // Patient search: results update as you type (GET /patients?q=).
    const searchId = uid("patient");
    const search = h("input", { type: "search", id: searchId, autocomplete: "off", placeholder: "Type at least 2 letters of a name", "aria-describedby": `${searchId}-hint` });
    const results = h("ul", { class: "search-results", "aria-label": "Matching patients" });
    const chosen = h("p", { class: "chosen", id: `${searchId}-hint`, role: "status" });
    const choose = (p: PatientRef | null) => {
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
    const patientField = h("div", { class: "field" }, h("label", { for: searchId }, "Patient"), search, results, chosen);

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
    };
    patientKind.addEventListener("change", toggle);
    teamKind.addEventListener("change", toggle);

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

    const form = h(
      "form",
      { class: "compose", "aria-labelledby": "compose-title", novalidate: true },
      h("h1", { id: "compose-title" }, "New message"),
      kind,
      patientField,
      teamField,
      h("div", { class: "field" }, h("label", { for: subjectId }, "Subject"), subject),
      h("div", { class: "field" }, h("label", { for: bodyId }, "Message"), body),
      h("div", { class: "field" }, h("label", { for: priorityId }, "Priority"), priority),
      picker.element,
      error,
      h("div", { class: "form-actions" }, h("a", { href: "#/inbox", class: "button secondary" }, "Cancel"), send),
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      error.textContent = "";
      const team = teamKind.checked;
      const recipients = recipientChecks.filter((r) => r.box.input.checked).map((r) => ({ type: r.type, id: r.box.input.value }));
      const problem = !team && !this.patient ? [search, "Choose a patient from the search results."] as const
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
    search.focus();
  }

  dispose(): void {}
}
