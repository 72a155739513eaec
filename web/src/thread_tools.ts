// What staff do with a thread besides replying: a task from a message (CONV-7), a saved reply
// picked, previewed with its variables filled in and inserted (REPLY-6), the transcript for the
// chart as text or FHIR (CONV-8), and who has read each message (CONV-2).

import { type AppContext, errorText } from "./app";
import { h, replace, uid } from "./dom";
import { modalDialog } from "./forms";
import type { Message, Receipt, StaffMember } from "./types";

interface SavedReply {
  id: string;
  title: string;
  scope: "practice" | "personal";
}

/** A task about one message, for the caller or a colleague, with a due date. */
export async function taskDialog(ctx: AppContext, conversationId: string, message: Message): Promise<void> {
  const staff = await ctx.staff();
  const title = h("input", { id: uid("task-title"), maxlength: 200, value: `Follow up: ${message.body.slice(0, 60)}` });
  const assignee = h("select", { id: uid("task-assignee") }, staff.map((s) => h("option", { value: s.id }, `${s.firstName} ${s.lastName}`)));
  assignee.value = ctx.session.user.id;
  // The local date today: a task is due some day (the API asks for one).
  const today = new Date(Date.now() - new Date().getTimezoneOffset() * 60_000).toISOString().slice(0, 10);
  const due = h("input", { id: uid("task-due"), type: "date", value: today });
  await modalDialog(
    "New task",
    [
      h("div", { class: "field" }, h("label", { for: title.id }, "Task"), title),
      h("div", { class: "field" }, h("label", { for: assignee.id }, "For"), assignee),
      h("div", { class: "field" }, h("label", { for: due.id }, "Due"), due),
    ],
    "Add task",
    async () => {
      const body = { title: title.value.trim(), assigneeId: assignee.value, dueDate: due.value };
      await ctx.api.create(`/conversations/${conversationId}/messages/${message.id}/tasks`, body);
      ctx.announce("Task added");
    },
  );
}

/** The saved replies: choose one, see it filled in for this conversation, insert it. */
export function savedReplyPicker(ctx: AppContext, conversationId: string, into: HTMLTextAreaElement): HTMLElement {
  const choose = h("select", { id: uid("saved-reply") }, h("option", { value: "" }, "Saved replies…"));
  const preview = h("div", { class: "saved-preview", "aria-live": "polite" });
  let loaded = false;
  const load = async () => {
    if (loaded) return;
    loaded = true;
    try {
      const { items } = await ctx.api.get<{ items: SavedReply[] }>("/saved-replies");
      choose.append(...items.map((r) => h("option", { value: r.id }, r.scope === "personal" ? `${r.title} (mine)` : r.title)));
    } catch (e) {
      replace(preview, h("p", { class: "error" }, errorText(e)));
    }
  };
  choose.addEventListener("focus", () => void load());
  choose.addEventListener("pointerdown", () => void load());
  choose.addEventListener("change", async () => {
    replace(preview);
    if (!choose.value) return;
    try {
      const { body } = await ctx.api.request<{ body: string }>("POST", `/saved-replies/${choose.value}/render`, { conversationId });
      const insert = h("button", { type: "button", class: "secondary" }, "Insert");
      insert.addEventListener("click", () => {
        into.value = into.value ? `${into.value}\n\n${body}` : body;
        replace(preview);
        choose.value = "";
        into.focus();
      });
      replace(preview, h("blockquote", { class: "saved-text" }, body), insert);
    } catch (e) {
      replace(preview, h("p", { class: "error" }, errorText(e)));
    }
  });
  return h("div", { class: "saved-replies" }, h("label", { for: choose.id, class: "sr-only" }, "Insert a saved reply"), choose, preview);
}

/** The transcript for the patient's chart, downloaded with the caller's token. */
export function exportButtons(ctx: AppContext, conversationId: string, problem: HTMLElement): HTMLElement[] {
  const download = (format: "text" | "fhir", label: string, file: string, type: string) =>
    h(
      "button",
      {
        type: "button",
        class: "secondary",
        onclick: async () => {
          try {
            const text = await ctx.api.request<string>("GET", `/conversations/${conversationId}/export?format=${format}`, undefined, { accept: type });
            const link = h("a", { href: URL.createObjectURL(new Blob([text], { type })), download: file });
            link.click();
            URL.revokeObjectURL(link.href);
            ctx.announce("Transcript downloaded");
          } catch (e) {
            problem.textContent = errorText(e);
          }
        },
      },
      label,
    );
  return [
    download("text", "Export text", `${conversationId}.txt`, "text/plain"),
    download("fhir", "Export FHIR", `${conversationId}.fhir.json`, "application/fhir+json"),
  ];
}

/** CONV-2: "Read by Jane Smith, 10:04" under a message, from its receipts (staff only). */
export function receiptLine(message: Message, names: Map<string, string>): HTMLElement | null {
  const read = (message.receipts ?? []).filter((r) => r.status === "read");
  const waiting = (message.receipts ?? []).filter((r) => r.status !== "read");
  if (!read.length && !waiting.length) return null;
  const who = (r: Receipt) => names.get(r.recipientId) ?? "the patient";
  const parts = [
    read.length ? `Read by ${read.map(who).join(", ")}` : "",
    waiting.length ? `not yet read by ${waiting.map(who).join(", ")}` : "",
  ].filter(Boolean);
  return h("p", { class: "receipts muted" }, parts.join("; "));
}

export function staffNames(staff: StaffMember[], patient?: { id: string; firstName: string; lastName: string }): Map<string, string> {
  const names = new Map(staff.map((s) => [s.id, `${s.firstName} ${s.lastName}`]));
  if (patient) names.set(patient.id, `${patient.firstName} ${patient.lastName}`);
  return names;
}
