// The patient portal (COMPOSE-3, ATT-5): the patient's own conversations, the practice
// banner before writing, compose and reply where the thread allows, attachments where
// allowed.

import { type AppContext, errorText, type View } from "./app";
import { AttachmentPicker } from "./attachments";
import { formatTime, h, replace, replyDueLabel, uid } from "./dom";
import type { Conversation, InboxItem, Message, Page } from "./types";
import { consentPrompt } from "./evisit";
import { ThreadView } from "./thread";

export class Portal implements View {
  private readonly layout: HTMLElement;
  private readonly list: HTMLUListElement;
  private readonly listStatus: HTMLElement;
  private readonly pane: HTMLElement;
  private items: InboxItem[] = [];
  private openId?: string;

  constructor(
    main: HTMLElement,
    private readonly ctx: AppContext,
    path: string[],
  ) {
    this.list = h("ul", { class: "conversation-list", "aria-label": "Your conversations" });
    this.listStatus = h("p", { class: "muted list-status", role: "status" });
    this.pane = h("section", { class: "thread-pane", "aria-label": "Conversation" });
    this.layout = h(
      "div",
      { class: "inbox-layout portal" },
      h(
        "div",
        { class: "panes" },
        h(
          "section",
          { class: "list-pane", "aria-labelledby": "portal-title" },
          h("div", { class: "list-head" }, h("h1", { id: "portal-title" }, "Your messages"), h("a", { href: "#/portal/compose", class: "button" }, "New message")),
          consentPrompt(ctx),
          this.listStatus,
          this.list,
        ),
        this.pane,
      ),
    );
    replace(main, this.layout);
    void this.load();
    this.update(path);
  }

  update(path: string[]): boolean {
    const [first] = path;
    this.openId = first && first !== "compose" ? first : undefined;
    this.layout.classList.toggle("has-thread", Boolean(first));
    if (first === "compose") {
      replace(this.pane, this.composeForm());
    } else if (first) {
      const thread = new ThreadView(
        this.ctx,
        {
          itemChanged: () => this.renderList(),
          conversationChanged: () => void this.load(),
          back: () => this.ctx.navigate("#/portal"),
        },
        first,
        this.items.find((i) => i.conversation.id === first),
      );
      replace(this.pane, thread.element);
    } else {
      replace(this.pane, h("div", { class: "empty-thread" }, h("p", null, "Select a conversation, or write a new message to the practice.")));
    }
    this.highlight();
    return true;
  }

  dispose(): void {}

  private async load(): Promise<void> {
    try {
      const page = await this.ctx.api.get<Page<InboxItem>>("/inbox?limit=50");
      this.items = page.items;
      this.renderList();
    } catch (e) {
      this.listStatus.textContent = errorText(e);
    }
  }

  private renderList(): void {
    if (this.openId) {
      const open = this.items.find((i) => i.conversation.id === this.openId);
      if (open) open.unreadCount = 0;
    }
    this.listStatus.textContent = this.items.length ? "" : "No messages yet.";
    replace(
      this.list,
      this.items.map((item) => {
        const c = item.conversation;
        const unread = item.unreadCount > 0;
        return h(
          "li",
          null,
          h(
            "a",
            { href: `#/portal/${c.id}`, class: `row${unread ? " unread" : ""}`, "data-conversation": c.id },
            h("span", { class: "row-top" }, h("span", { class: "row-who" }, item.lastSender.displayName), h("time", { datetime: c.lastMessageAt }, formatTime(c.lastMessageAt))),
            h(
              "span",
              { class: "row-subject" },
              h("span", { class: "subject-text" }, c.subject),
              unread ? h("span", { class: "badge", "aria-label": `${item.unreadCount} unread` }, String(item.unreadCount)) : null,
            ),
            h("span", { class: "row-preview" }, item.preview),
          ),
        );
      }),
    );
    this.highlight();
  }

  private highlight(): void {
    for (const a of this.list.querySelectorAll<HTMLAnchorElement>("a.row")) {
      if (a.dataset.conversation === this.openId) a.setAttribute("aria-current", "true");
      else a.removeAttribute("aria-current");
    }
  }

  /** The banner comes first (COMPOSE-3): the patient reads it before writing, with what the
   * practice's limits leave today (REPLY-4). */
  private composeForm(): HTMLElement {
    const banner = h("div", { class: "banner", role: "note", "aria-label": "From your practice" }, h("p", { class: "muted" }, "Loading…"));
    const limits = h("p", { class: "limits muted", id: uid("limits") });
    const subjectId = uid("subject");
    const subject = h("input", { id: subjectId, required: true, maxlength: 200, autocomplete: "off" });
    const bodyId = uid("body");
    const body = h("textarea", { id: bodyId, rows: 8, required: true, maxlength: 20000, "aria-describedby": limits.id });
    void this.ctx.api
      .get<{ banner: string | null; limits?: { messagesPerDay: number; messagesLeftToday: number; bodyMaxChars: number } }>("/portal/banner")
      .then((b) => {
        replace(banner, b.banner ? h("p", null, b.banner) : h("p", { class: "muted" }, "Your care team will reply here."));
        if (!b.limits) return;
        const l = b.limits;
        body.maxLength = l.bodyMaxChars;
        limits.textContent =
          l.messagesLeftToday > 0
            ? `${l.messagesLeftToday} of ${l.messagesPerDay} messages left today; up to ${l.bodyMaxChars.toLocaleString()} characters each.`
            : `You have sent the ${l.messagesPerDay} messages a day the practice accepts. For anything urgent, call the practice.`;
      })
      .catch(() => replace(banner, h("p", { class: "muted" }, "For emergencies, call 911.")));
    const picker = new AttachmentPicker(this.ctx);
    const send = h("button", { type: "submit" }, "Send");
    picker.onChange(() => (send.disabled = picker.busy));
    const error = h("p", { class: "error", role: "alert" });
    const form = h(
      "form",
      { class: "compose", "aria-labelledby": "portal-compose-title", novalidate: true },
      h("button", { type: "button", class: "back secondary", onclick: () => this.ctx.navigate("#/portal") }, "← Back"),
      h("h2", { id: "portal-compose-title" }, "Write to your practice"),
      banner,
      h("div", { class: "field" }, h("label", { for: subjectId }, "Subject"), subject),
      h("div", { class: "field" }, h("label", { for: bodyId }, "Message"), body, limits),
      picker.element,
      error,
      h("div", { class: "form-actions" }, send),
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      error.textContent = "";
      if (!subject.value.trim() || !body.value.trim()) {
        error.textContent = !subject.value.trim() ? "Write a subject." : "Write a message.";
        (!subject.value.trim() ? subject : body).focus();
        return;
      }
      send.disabled = true;
      try {
        const created = await this.ctx.api.create<{ conversation: Conversation; message: Message }>("/conversations", {
          subject: subject.value.trim(),
          body: body.value,
          attachmentIds: picker.ids,
        });
        // SLA-2: the confirmation says when to expect the answer.
        const due = replyDueLabel(created.conversation, false);
        this.ctx.announce(due ? `Message sent. ${due}.` : "Message sent");
        await this.load();
        this.ctx.navigate(`#/portal/${created.conversation.id}`);
      } catch (e) {
        error.textContent = errorText(e);
        send.disabled = false;
      }
    });
    return form;
  }
}
