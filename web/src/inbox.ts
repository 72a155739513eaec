// The staff inbox (INBOX-1..5; seeds 000 and 002): stats cards, tabs, filters and search
// beside the open thread. On a phone-sized screen the list is full width and opening a
// row shows the thread in its place.

import { type AppContext, errorText, type View } from "./app";
import { debounce, formatTime, h, replace, replyDueLabel, uid } from "./dom";
import type { Conversation, InboxItem, Page, Stats, Tab } from "./types";
import { canAssign } from "./session";
import { kindLabel, ThreadView } from "./thread";

const TABS: [Tab, string][] = [
  ["all", "All"],
  ["patient", "Patient"],
  ["team", "Team"],
  ["broadcasts", "Broadcasts"],
  ["starred", "Starred"],
  ["archived", "Archived"],
];
// ROLE-2: everything the admin and provider classes may open, beyond their own inbox.
const PRACTICE_TAB: [Tab, string] = ["practice", "All practice"];

export class StaffInbox implements View {
  private tab: Tab = "all";
  private unread = "";
  private assigned = "";
  private due = "";
  private q = "";
  private items: InboxItem[] = [];
  private nextCursor?: string;
  private loadSeq = 0;
  private thread?: ThreadView;
  private readonly layout: HTMLElement;
  private readonly list: HTMLUListElement;
  private readonly listStatus: HTMLElement;
  private readonly more: HTMLButtonElement;
  private readonly threadPane: HTMLElement;
  private readonly tabButtons = new Map<Tab, HTMLButtonElement>();
  private readonly stopStats: () => void;

  constructor(
    main: HTMLElement,
    private readonly ctx: AppContext,
    path: string[],
  ) {
    const cards = {
      totalConversations: statCard("Total conversations"),
      unreadMessages: statCard("Unread messages"),
      uniquePatients: statCard("Unique patients"),
      totalMessages: statCard("Total messages"),
    };
    this.stopStats = ctx.onStats((s: Stats) => {
      for (const [key, card] of Object.entries(cards)) card.value.textContent = String(s[key as keyof Stats]);
    });

    const tabs = h("div", { class: "tabs", role: "group", "aria-label": "Inbox tabs" });
    const shown = canAssign(ctx.session.user) ? [...TABS, PRACTICE_TAB] : TABS;
    for (const [tab, label] of shown) {
      const b = h("button", { type: "button", class: "tab", "aria-pressed": String(tab === this.tab), "data-tab": tab }, label);
      b.addEventListener("click", () => {
        this.tab = tab;
        for (const [t, button] of this.tabButtons) button.setAttribute("aria-pressed", String(t === tab));
        void this.load();
      });
      this.tabButtons.set(tab, b);
      tabs.append(b);
    }
    const searchId = uid("search");
    const search = h("input", { type: "search", id: searchId, placeholder: "Subject, patient or message", autocomplete: "off" });
    search.addEventListener(
      "input",
      debounce(() => {
        const q = search.value.trim();
        // The search index needs 2 characters (INBOX-3); one alone would only be refused.
        if (q.length === 1) {
          this.listStatus.textContent = "Type at least 2 letters to search.";
          return;
        }
        if (q === this.q) return;
        this.q = q;
        void this.load();
      }, 250),
    );
    const unread = h(
      "select",
      { "aria-label": "Read state" },
      h("option", { value: "" }, "Read and unread"),
      h("option", { value: "true" }, "Unread only"),
      h("option", { value: "false" }, "Read only"),
    );
    unread.addEventListener("change", () => {
      this.unread = unread.value;
      void this.load();
    });
    const assigned = h(
      "select",
      { "aria-label": "Assignment" },
      h("option", { value: "" }, "Any assignment"),
      h("option", { value: "me" }, "Assigned to me"),
      h("option", { value: "others" }, "Assigned to others"),
    );
    assigned.addEventListener("change", () => {
      this.assigned = assigned.value;
      void this.load();
    });
    // SLA-3: questions owed a reply, soonest due first, or by how due they are.
    const due = h(
      "select",
      { "aria-label": "Reply due" },
      h("option", { value: "" }, "Newest first"),
      h("option", { value: "sort" }, "Reply due, soonest first"),
      h("option", { value: "overdue" }, "Reply overdue"),
      h("option", { value: "today" }, "Reply due today"),
      h("option", { value: "soon" }, "Reply due soon"),
    );
    due.addEventListener("change", () => {
      this.due = due.value;
      void this.load();
    });

    this.list = h("ul", { class: "conversation-list", "aria-label": "Conversations" });
    this.listStatus = h("p", { class: "muted list-status", role: "status" });
    this.more = h("button", { type: "button", class: "secondary more", hidden: true }, "Load more");
    this.more.addEventListener("click", () => void this.load(true));
    this.threadPane = h("section", { class: "thread-pane", "aria-label": "Conversation" }, placeholder());

    this.layout = h(
      "div",
      { class: "inbox-layout" },
      h("h1", { class: "sr-only" }, "Inbox"),
      h("section", { class: "stats", "aria-label": "Inbox statistics" }, Object.values(cards).map((c) => c.element)),
      h(
        "div",
        { class: "panes" },
        h(
          "section",
          { class: "list-pane", "aria-label": "Conversation list" },
          tabs,
          h(
            "div",
            { class: "filters" },
            h("label", { for: searchId, class: "sr-only" }, "Search conversations"),
            search,
            unread,
            assigned,
            due,
          ),
          this.listStatus,
          this.list,
          this.more,
        ),
        this.threadPane,
      ),
    );
    replace(main, this.layout);
    void ctx.refreshStats();
    void this.load();
    this.update(path);
  }

  update(path: string[]): boolean {
    const id = path[0];
    if (!id) {
      this.thread = undefined;
      this.layout.classList.remove("has-thread");
      replace(this.threadPane, placeholder());
      this.highlight();
      return true;
    }
    if (this.thread?.conversationId === id) return true;
    const item = this.items.find((i) => i.conversation.id === id);
    this.thread = new ThreadView(
      this.ctx,
      {
        itemChanged: (changed) => this.itemChanged(changed),
        conversationChanged: (c) => this.conversationChanged(c),
        back: () => this.ctx.navigate("#/inbox"),
      },
      id,
      item,
    );
    this.layout.classList.add("has-thread");
    replace(this.threadPane, this.thread.element);
    this.highlight();
    return true;
  }

  dispose(): void {
    this.stopStats();
  }

  private async load(append = false): Promise<void> {
    const seq = ++this.loadSeq;
    const params = new URLSearchParams({ tab: this.tab, limit: "25" });
    if (this.q) params.set("q", this.q);
    if (this.unread) params.set("unread", this.unread);
    if (this.assigned) params.set("assigned", this.assigned);
    // The due order is the All tab's, without a search; the due filters, any own tab's.
    if (this.due === "sort" && this.tab === "all" && !this.q) params.set("sort", "due");
    else if (this.due && this.due !== "sort" && this.tab !== "practice") params.set("due", this.due);
    if (append && this.nextCursor) params.set("cursor", this.nextCursor);
    this.list.setAttribute("aria-busy", "true");
    try {
      const page = await this.ctx.api.get<Page<InboxItem>>(`/inbox?${params}`);
      if (seq !== this.loadSeq) return; // a newer search or tab won
      this.items = append ? [...this.items, ...page.items] : page.items;
      this.nextCursor = page.nextCursor;
      const open = this.thread && this.items.find((i) => i.conversation.id === this.thread!.conversationId);
      if (open) this.thread!.adopt(open);
      this.renderList();
    } catch (e) {
      if (seq !== this.loadSeq) return;
      this.listStatus.textContent = errorText(e);
    } finally {
      if (seq === this.loadSeq) this.list.setAttribute("aria-busy", "false");
    }
  }

  private renderList(): void {
    replace(this.list, this.items.map((item) => this.row(item)));
    this.more.hidden = !this.nextCursor;
    const n = this.items.length;
    this.listStatus.textContent = n === 0 ? (this.q ? "No conversations match your search." : "No conversations here.") : `${n}${this.nextCursor ? "+" : ""} conversation${n === 1 ? "" : "s"}`;
    this.highlight();
  }

  private row(item: InboxItem): HTMLLIElement {
    const c = item.conversation;
    const who = c.patient ? `${c.patient.firstName} ${c.patient.lastName}` : kindLabel(c.kind);
    const unread = item.unreadCount > 0;
    return h(
      "li",
      null,
      h(
        "a",
        {
          href: `#/inbox/${c.id}`,
          class: `row${unread ? " unread" : ""}${item.urgent ? " urgent" : ""}`,
          "data-conversation": c.id,
        },
        h(
          "span",
          { class: "row-top" },
          h("span", { class: "row-who" }, who),
          h("time", { datetime: c.lastMessageAt }, formatTime(c.lastMessageAt)),
        ),
        h(
          "span",
          { class: "row-subject" },
          item.urgent ? h("span", { class: "pill urgent" }, "Urgent") : null,
          item.starred ? h("span", { class: "star", role: "img", "aria-label": "Starred" }, "★") : null,
          h("span", { class: "subject-text" }, c.subject),
          unread ? h("span", { class: "badge", "aria-label": `${item.unreadCount} unread` }, String(item.unreadCount)) : null,
        ),
        h("span", { class: "row-preview" }, h("span", { class: "last-sender" }, `${item.lastSender.displayName}: `), item.preview),
        c.status === "closed" ? h("span", { class: "pill closed" }, "Closed") : null,
        c.replyDueAt ? h("span", { class: `pill due${c.replyOverdue ? " overdue" : ""}` }, replyDueLabel(c, true)) : null,
      ),
    );
  }

  private highlight(): void {
    const id = this.thread?.conversationId;
    for (const a of this.list.querySelectorAll<HTMLAnchorElement>("a.row")) {
      if (a.dataset.conversation === id) a.setAttribute("aria-current", "true");
      else a.removeAttribute("aria-current");
    }
  }

  private itemChanged(changed: InboxItem): void {
    const i = this.items.findIndex((x) => x.conversation.id === changed.conversation.id);
    const leavesTab =
      (this.tab === "starred" && !changed.starred) ||
      (this.tab === "archived" && !changed.archived) ||
      (this.tab !== "archived" && this.tab !== "practice" && changed.archived);
    if (i >= 0 && leavesTab) this.items.splice(i, 1);
    else if (i >= 0) this.items[i] = { ...this.items[i], ...changed, conversation: { ...this.items[i].conversation, ...changed.conversation } };
    this.renderList();
  }

  /** A reply or an assignment can move the row: read the page again. */
  private conversationChanged(_: Conversation): void {
    void this.load();
  }
}

function statCard(label: string): { element: HTMLElement; value: HTMLElement } {
  const value = h("span", { class: "stat-value" }, "–");
  return { value, element: h("div", { class: "stat-card" }, value, h("span", { class: "stat-label" }, label)) };
}

function placeholder(): HTMLElement {
  return h("div", { class: "empty-thread" }, h("p", null, "Select a conversation to read it."));
}
