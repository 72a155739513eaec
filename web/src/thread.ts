// One conversation: the messages in order, and the reply box. Staff also get the thread's
// actions (star, archive, mark unread, assign, forward, close) and the reply options.

import { type AppContext, errorText } from "./app";
import { AttachmentPicker, attachmentLink } from "./attachments";
import { type Child, formatFullTime, h, replace, replyDueLabel, uid } from "./dom";
import { EVisitPanel } from "./evisit";
import { checkbox, modalDialog, select } from "./forms";
import { canAssign, isAdmin, isStaff } from "./session";
import { exportButtons, receiptLine, savedReplyPicker, staffNames, taskDialog } from "./thread_tools";
import type { Conversation, InboxItem, Message, Priority, Recipient, StaffMember, Workgroup } from "./types";

export interface ThreadHost {
  /** The caller's own row for this conversation changed (star, archive, unread, read). */
  itemChanged(item: InboxItem): void;
  /** The conversation itself changed (assign, close, a reply). */
  conversationChanged(conversation: Conversation): void;
  back(): void;
}

export class ThreadView {
  readonly element: HTMLElement;
  private conversation?: Conversation;
  private messages: Message[] = [];
  private item?: InboxItem;
  private readonly staff: boolean;
  /** EVISIT-1: for clinicians, made once the thread is read. */
  private evisit?: EVisitPanel;
  /** Why the last action was refused: visible, and read out (role=alert). */
  private readonly problem = h("p", { class: "error", role: "alert" });

  constructor(
    private readonly ctx: AppContext,
    private readonly host: ThreadHost,
    readonly conversationId: string,
    item?: InboxItem,
  ) {
    this.staff = isStaff(ctx.session.user);
    this.item = item;
    this.element = h("article", { class: "thread", "aria-busy": "true", "data-conversation": conversationId }, h("p", { class: "muted" }, "Loading conversation…"));
    void this.load();
  }

  private async load(): Promise<void> {
    try {
      const found = await this.ctx.api.get<{ conversation: Conversation; messages: Message[] }>(`/conversations/${this.conversationId}`);
      this.conversation = found.conversation;
      this.messages = found.messages;
      this.element.setAttribute("aria-busy", "false");
      this.render();
      // Opening marks it read for this caller (INBOX-3): the row and the badge drop now.
      if (this.item) this.host.itemChanged({ ...this.item, unreadCount: 0 });
      void this.ctx.refreshStats();
    } catch (e) {
      this.element.setAttribute("aria-busy", "false");
      replace(
        this.element,
        h("p", { role: "alert" }, errorText(e)),
        h("button", { type: "button", class: "secondary", onclick: () => this.host.back() }, "Back to inbox"),
      );
    }
  }

  private render(): void {
    const c = this.conversation!;
    const heading = h("h2", { id: uid("thread-title"), tabindex: "-1" }, c.subject);
    if (this.staff && c.kind === "patient" && !this.evisit) {
      this.evisit = new EVisitPanel(this.ctx, c.id, this.messages[0]?.sender.type === "patient");
    }
    replace(
      this.element,
      h(
        "header",
        { class: "thread-header" },
        h("button", { type: "button", class: "back secondary", onclick: () => this.host.back() }, "← Back"),
        heading,
        this.meta(c),
        this.staff ? this.actions(c) : null,
        this.evisit?.element ?? null,
        this.problem,
      ),
      h("ol", { class: "messages", "aria-label": "Messages" }, this.messages.map((m) => this.messageView(m))),
      this.replyBox(c),
    );
    this.element.setAttribute("aria-labelledby", heading.id);
    if (this.staff && this.messages.some((m) => m.receipts?.length)) void this.showReceipts();
  }

  /** CONV-2: under each message, who has read it (names from the staff list). */
  private async showReceipts(): Promise<void> {
    const names = staffNames(await this.ctx.staff().catch(() => []), this.conversation?.patient ?? undefined);
    for (const m of this.messages) {
      const line = receiptLine(m, names);
      if (line) this.element.querySelector(`[data-message="${m.id}"]`)?.append(line);
    }
  }

  /** The caller's row arrived after the thread opened (a deep link): show its flags. */
  adopt(item: InboxItem): void {
    if (this.item) return;
    this.item = { ...item, unreadCount: 0 };
    const bar = this.element.querySelector(".toolbar");
    if (bar && this.conversation) bar.replaceWith(this.actions(this.conversation));
  }

  focusHeading(): void {
    this.element.querySelector<HTMLElement>("h2")?.focus();
  }

  private meta(c: Conversation): HTMLElement {
    const parts: Child[] = [];
    // A patient knows whose thread it is: the patient line and the kind are for staff.
    if (c.patient && this.staff) parts.push(h("span", { class: "meta-patient" }, `Patient: ${c.patient.firstName} ${c.patient.lastName}`));
    if (this.staff) parts.push(h("span", { class: "pill" }, kindLabel(c.kind)));
    if (c.status === "closed") parts.push(h("span", { class: "pill closed" }, "Closed"));
    if (c.context) parts.push(h("span", null, `About: ${c.context.label}`));
    const due = replyDueLabel(c, this.staff);
    if (due) parts.push(h("span", { class: `pill due${c.replyOverdue ? " overdue" : ""}` }, due));
    if (due && !this.staff) parts.push(h("button", { type: "button", class: "secondary", onclick: () => void this.withdraw() }, "I no longer need a reply"));
    const assigned = h("span", { class: "meta-assignees" });
    if (c.assignees.length) {
      void this.names(c.assignees).then((names) => (assigned.textContent = `Assigned to ${names.join(", ")}`));
    }
    parts.push(assigned);
    return h("p", { class: "thread-meta" }, parts);
  }

  /** SLA-2: the patient's "never mind" stops the reply clock. */
  private async withdraw(): Promise<void> {
    try {
      const { message } = await this.ctx.api.create<{ message: Message }>(`/conversations/${this.conversationId}/withdraw`, {});
      this.messages.push(message);
      this.conversation = { ...this.conversation!, replyDueAt: null, replyDueLocal: undefined };
      this.ctx.announce("Your question is withdrawn: no reply is expected.");
      this.render();
    } catch (e) {
      this.problem.textContent = errorText(e);
    }
  }

  private async names(recipients: Recipient[]): Promise<string[]> {
    let staff: StaffMember[] = [];
    let groups: Workgroup[] = [];
    try {
      [staff, groups] = await Promise.all([this.ctx.staff(), this.ctx.workgroups()]);
    } catch {
      // Names are a nicety; ids still say who.
    }
    return recipients.map((r) => {
      if (r.type === "workgroup") return groups.find((g) => g.id === r.id)?.name ?? r.id;
      const s = staff.find((x) => x.id === r.id);
      return s ? `${s.firstName} ${s.lastName}` : r.id;
    });
  }

  private actions(c: Conversation): HTMLElement {
    const item = this.item;
    const starred = item?.starred ?? false;
    const archived = item?.archived ?? false;
    const bar = h("div", { class: "toolbar", role: "toolbar", "aria-label": "Conversation actions" });
    const button = (label: string, onclick: () => void, extra: Record<string, unknown> = {}) =>
      h("button", { type: "button", class: "secondary", onclick, ...extra }, label);
    bar.append(
      button(starred ? "★ Starred" : "☆ Star", () => void this.setState({ starred: !starred }), { "aria-pressed": String(starred) }),
      button(archived ? "Unarchive" : "Archive", () => void this.setState({ archived: !archived })),
      button("Mark unread", () => void this.setState({ unread: true })),
    );
    if (canAssign(this.ctx.session.user) && c.kind !== "broadcast") bar.append(button("Assign", () => void this.assignDialog()));
    bar.append(button("Forward", () => void this.forwardDialog()));
    bar.append(
      c.status === "open"
        ? button("Close", () => void this.transition("close"))
        : button("Reopen", () => void this.transition("reopen")),
    );
    bar.append(...exportButtons(this.ctx, c.id, this.problem));
    if (isAdmin(this.ctx.session.user)) bar.append(h("a", { href: `#/audit/conversation/${c.id}`, class: "button secondary" }, "Audit log"));
    return bar;
  }

  private async setState(change: { starred?: boolean; archived?: boolean; unread?: boolean }): Promise<void> {
    this.problem.textContent = "";
    try {
      const item = await this.ctx.api.request<InboxItem>("PUT", `/conversations/${this.conversationId}/state`, change);
      this.item = item;
      this.host.itemChanged(item);
      void this.ctx.refreshStats();
      if (change.unread) {
        this.ctx.announce("Marked unread");
        this.host.back();
        return;
      }
      this.ctx.announce(change.starred !== undefined ? (item.starred ? "Starred" : "Star removed") : item.archived ? "Archived" : "Moved back to the inbox");
      this.render();
    } catch (e) {
      this.problem.textContent = errorText(e);
    }
  }

  private async transition(action: "close" | "reopen"): Promise<void> {
    this.problem.textContent = "";
    try {
      const { conversation } = await this.ctx.api.request<{ conversation: Conversation }>("POST", `/conversations/${this.conversationId}/${action}`, {});
      this.conversation = { ...this.conversation!, ...conversation };
      this.host.conversationChanged(this.conversation);
      this.ctx.announce(action === "close" ? "Conversation closed" : "Conversation reopened");
      this.render();
    } catch (e) {
      this.problem.textContent = errorText(e);
    }
  }

  private messageView(m: Message): HTMLElement {
    const mine = m.sender.id === this.ctx.session.user.id;
    const label = m.internal ? "Internal note" : senderKind(m.sender.type);
    return h(
      "li",
      {
        class: `message${m.internal ? " note" : ""}${mine ? " mine" : ""}${m.priority === "urgent" ? " urgent" : ""}`,
        "data-message": m.id,
      },
      h(
        "div",
        { class: "message-head" },
        h("span", { class: "sender" }, m.sender.displayName),
        h("span", { class: `sender-label${m.internal ? " note-label" : ""}` }, label),
        m.priority !== "normal" ? h("span", { class: `pill ${m.priority}` }, m.priority === "urgent" ? "Urgent" : "Low") : null,
        h("time", { datetime: m.createdAt }, formatFullTime(m.createdAt)),
        this.staff ? h("button", { type: "button", class: "link", "aria-label": `New task from the message of ${m.sender.displayName}`, onclick: () => void taskDialog(this.ctx, this.conversationId, m).catch((e) => (this.problem.textContent = errorText(e))) }, "Task") : null,
      ),
      h("div", { class: "message-body" }, m.body),
      m.attachments.length
        ? h("ul", { class: "message-attachments", "aria-label": "Attachments" }, m.attachments.map((a) => h("li", null, attachmentLink(this.ctx, a))))
        : null,
    );
  }

  private replyBox(c: Conversation): HTMLElement | null {
    if (!this.staff && (c.status !== "open" || !c.allowResponse)) {
      return h("p", { class: "notice" }, "This conversation does not accept replies. Start a new message to write to the practice.");
    }
    if (c.kind === "broadcast" && this.staff) return null;
    const bodyId = uid("reply");
    const body = h("textarea", { id: bodyId, name: "body", rows: 4, required: true, maxlength: 20000 });
    const error = h("p", { class: "error", role: "alert" });
    const send = h("button", { type: "submit" }, "Send");
    const allowFiles = this.staff || c.allowAttachments;
    const picker = allowFiles ? new AttachmentPicker(this.ctx, c.id) : null;
    picker?.onChange(() => (send.disabled = picker.busy));
    const fields: Child[] = [h("label", { for: bodyId }, this.staff ? "Reply" : "Your reply"), body];
    let options: () => Record<string, unknown> = () => ({});
    if (this.staff) {
      fields.push(savedReplyPicker(this.ctx, c.id, body));
      const priority = select("Priority", ["normal", "urgent", "low"], ["Normal", "Urgent", "Low"]);
      const internal = checkbox("Internal note (staff only)", false);
      fields.push(h("div", { class: "reply-options" }, priority.label, internal.label));
      let patientOptions: { mask: ReturnType<typeof checkbox>; respond: ReturnType<typeof checkbox>; files: ReturnType<typeof checkbox> } | null = null;
      if (c.kind === "patient" || c.kind === "sms") {
        patientOptions = {
          mask: checkbox('Show my name as "Clinic Staff"', false),
          respond: checkbox("Patient may respond", c.allowResponse),
          files: checkbox("Patient may attach files", c.allowAttachments),
        };
        fields.push(h("div", { class: "reply-options" }, patientOptions.mask.label, patientOptions.respond.label, patientOptions.files.label));
      }
      options = () => {
        const out: Record<string, unknown> = { priority: priority.input.value as Priority, internal: internal.input.checked };
        if (patientOptions && !internal.input.checked) {
          out.options = {
            maskName: patientOptions.mask.input.checked,
            allowResponse: patientOptions.respond.input.checked,
            allowAttachments: patientOptions.files.input.checked,
          };
        }
        return out;
      };
    }
    if (picker) fields.push(picker.element);
    const form = h("form", { class: "reply", "aria-label": "Write a reply" }, fields, error, h("div", { class: "form-actions" }, send));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      error.textContent = "";
      if (!body.value.trim()) {
        error.textContent = "Write a message first.";
        body.focus();
        return;
      }
      send.disabled = true;
      try {
        const { message, replyDueAt } = await this.ctx.api.create<{ message: Message; replyDueAt?: string | null }>(`/conversations/${c.id}/messages`, {
          body: body.value,
          attachmentIds: picker?.ids ?? [],
          ...options(),
        });
        this.messages.push(message);
        const extra = (options().options ?? {}) as { allowResponse?: boolean; allowAttachments?: boolean };
        this.conversation = {
          ...c,
          lastMessageAt: message.createdAt,
          messageCount: c.messageCount + 1,
          allowResponse: extra.allowResponse ?? c.allowResponse,
          allowAttachments: extra.allowAttachments ?? c.allowAttachments,
          // SLA-2: a reply the patient sees keeps no promise open; a patient's may start one.
          ...(replyDueAt === undefined ? {} : { replyDueAt, ...(replyDueAt ? {} : { replyDueLocal: undefined, replyOverdue: undefined }) }),
        };
        this.host.conversationChanged(this.conversation);
        this.ctx.announce("Reply sent");
        this.render();
        this.element.querySelector<HTMLTextAreaElement>("form.reply textarea")?.focus();
      } catch (e) {
        error.textContent = errorText(e);
        send.disabled = false;
      }
    });
    return form;
  }

  /** The practice's staff for a dialog, or null (and the reason shown) when unavailable. */
  private async colleagues(): Promise<StaffMember[] | null> {
    try {
      return await this.ctx.staff();
    } catch (e) {
      this.problem.textContent = errorText(e);
      return null;
    }
  }

  private async assignDialog(): Promise<void> {
    const staff = await this.colleagues();
    if (!staff) return;
    const current = new Set(this.conversation!.assignees.filter((a) => a.type === "staff").map((a) => a.id));
    const boxes = staff.map((s) => checkbox(`${s.firstName} ${s.lastName} (${roleName(s.role)})`, current.has(s.id), s.id));
    const comment = h("textarea", { id: uid("assign-comment"), rows: 2, maxlength: 2000 });
    await modalDialog(
      "Assign conversation",
      [h("fieldset", null, h("legend", null, "Assign to"), h("div", { class: "choices" }, boxes.map((b) => b.label))), h("label", { for: comment.id }, "Comment (optional)"), comment],
      "Save",
      async () => {
        const assignees = boxes.filter((b) => b.input.checked).map((b) => ({ type: "staff", id: b.input.value }));
        if (!assignees.length) throw new Error("Choose at least one staff member.");
        const body: Record<string, unknown> = { assignees };
        if (comment.value.trim()) body.comment = comment.value.trim();
        const { conversation } = await this.ctx.api.request<{ conversation: Conversation }>("POST", `/conversations/${this.conversationId}/assign`, body, {
          idempotencyKey: crypto.randomUUID(),
        });
        this.conversation = { ...this.conversation!, ...conversation };
        this.host.conversationChanged(this.conversation);
        this.ctx.announce("Assigned");
        this.render();
      },
    );
  }

  private async forwardDialog(): Promise<void> {
    const staff = await this.colleagues();
    if (!staff) return;
    const me = this.ctx.session.user.id;
    const messageBoxes = this.messages.map((m) => checkbox(`${m.sender.displayName}: ${m.body.slice(0, 60)}`, true, m.id));
    const staffBoxes = staff.filter((s) => s.id !== me).map((s) => checkbox(`${s.firstName} ${s.lastName} (${roleName(s.role)})`, false, s.id));
    const comment = h("textarea", { id: uid("forward-comment"), rows: 2, maxlength: 2000 });
    await modalDialog(
      "Forward conversation",
      [
        h("fieldset", null, h("legend", null, "Messages to include"), h("div", { class: "choices" }, messageBoxes.map((b) => b.label))),
        h("fieldset", null, h("legend", null, "Forward to"), h("div", { class: "choices" }, staffBoxes.map((b) => b.label))),
        h("label", { for: comment.id }, "Comment (optional)"),
        comment,
      ],
      "Forward",
      async () => {
        const messageIds = messageBoxes.filter((b) => b.input.checked).map((b) => b.input.value);
        const recipients = staffBoxes.filter((b) => b.input.checked).map((b) => ({ type: "staff", id: b.input.value }));
        if (!messageIds.length) throw new Error("Choose at least one message.");
        if (!recipients.length) throw new Error("Choose at least one colleague.");
        const body: Record<string, unknown> = { messageIds, recipients };
        if (comment.value.trim()) body.comment = comment.value.trim();
        const { conversation } = await this.ctx.api.create<{ conversation: Conversation }>(`/conversations/${this.conversationId}/forward`, body);
        this.ctx.announce("Forwarded");
        this.ctx.navigate(`#/inbox/${conversation.id}`);
      },
    );
  }
}

export function kindLabel(kind: Conversation["kind"]): string {
  return { patient: "Patient", team: "Team", broadcast: "Broadcast", sms: "SMS" }[kind] ?? kind;
}

function senderKind(type: string): string {
  return { patient: "Patient", system: "System", sms: "Text message" }[type] ?? "Staff";
}

function roleName(role: string): string {
  return role.replace(/_/g, " ");
}
