// My tasks (CONV-7): the tasks made from messages for the signed-in staff member, open ones
// first by due date, each linking to its conversation and ticked off when done (and back).

import { type AppContext, errorText, type View } from "./app";
import { h, replace } from "./dom";
import { checkbox } from "./forms";

interface Task {
  id: string;
  conversationId: string;
  messageId: string;
  title: string;
  assigneeId: string;
  dueDate?: string;
  done: boolean;
  createdBy: string;
}

export class TasksView implements View {
  private readonly list = h("div", { class: "task-list" });
  private readonly error = h("p", { class: "error", role: "alert" });

  constructor(
    main: HTMLElement,
    private readonly ctx: AppContext,
  ) {
    replace(main, h("section", { class: "page tasks" }, h("h1", null, "My tasks"), this.error, this.list));
    void this.load();
  }

  dispose(): void {}

  private async load(): Promise<void> {
    try {
      const [{ items }, staff] = await Promise.all([this.ctx.api.get<{ items: Task[] }>("/tasks?assignee=me"), this.ctx.staff().catch(() => [])]);
      const name = (id: string) => staff.find((s) => s.id === id);
      const today = new Date().toISOString().slice(0, 10);
      replace(
        this.list,
        items.length
          ? h(
              "ul",
              { class: "plain-list" },
              items.map((t) => {
                const done = checkbox(t.title, t.done);
                done.input.addEventListener("change", () => void this.mark(t, done.input.checked));
                const by = name(t.createdBy);
                const late = !t.done && t.dueDate && t.dueDate < today;
                return h(
                  "li",
                  { class: `task${t.done ? " done" : ""}`, "data-task": t.id },
                  done.label,
                  t.dueDate ? h("span", { class: `pill${late ? " overdue" : ""}` }, late ? `Overdue since ${t.dueDate}` : `Due ${t.dueDate}`) : null,
                  by && t.createdBy !== this.ctx.session.user.id ? h("span", { class: "muted" }, ` from ${by.firstName} ${by.lastName} `) : " ",
                  h("a", { href: `#/inbox/${t.conversationId}` }, "Open the conversation"),
                );
              }),
            )
          : h("p", { class: "muted" }, "No tasks. Make one from a message with its Task button."),
      );
    } catch (e) {
      this.error.textContent = errorText(e);
    }
  }

  private async mark(t: Task, done: boolean): Promise<void> {
    this.error.textContent = "";
    try {
      await this.ctx.api.request("PATCH", `/tasks/${t.id}`, { done });
      this.ctx.announce(done ? `Done: ${t.title}` : `Open again: ${t.title}`);
    } catch (e) {
      this.error.textContent = errorText(e);
    }
    await this.load();
  }
}
