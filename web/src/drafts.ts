// Drafts (COMPOSE-5): what a staff member writes in compose is saved as they type (a second
// after the last key), listed on the compose page, resumed from there, and sent in one step
// that composes the message and deletes the draft (POST /drafts/{id}/send). Drafts are private
// to their author and stored encrypted.

import { type AppContext, errorText } from "./app";
import { debounce, formatTime, h, replace } from "./dom";
import type { Conversation, Page } from "./types";

/** A draft's content: the fields of POST /conversations, any of them missing. */
export type DraftContent = Record<string, unknown>;

export interface Draft extends DraftContent {
  id: string;
  updatedAt: string;
  subject?: string;
  body?: string;
  kind?: string;
  patientId?: string;
}

/** Keeps one draft in step with the form: created on the first change, replaced after. */
export class DraftKeeper {
  readonly status = h("p", { class: "muted draft-status", role: "status" });
  private saving: Promise<void> = Promise.resolve();
  /** Sent: a save still scheduled must not make the sent message a draft again. */
  private sent = false;
  readonly schedule: () => void;

  constructor(
    private readonly ctx: AppContext,
    private readonly read: () => DraftContent,
    public id: string | null = null,
  ) {
    this.schedule = debounce(() => void this.save(), 1000);
  }

  /** Saves now (after any save under way). */
  save(): Promise<void> {
    this.saving = this.saving.then(async () => {
      if (this.sent) return;
      const content = this.read();
      // Nothing written yet (a patient searched for, a box ticked): no draft to keep.
      if (!this.id && !String(content.subject ?? "").trim() && !String(content.body ?? "").trim()) return;
      try {
        if (this.id) {
          await this.ctx.api.request("PUT", `/drafts/${this.id}`, content);
        } else {
          const { draft } = await this.ctx.api.create<{ draft: Draft }>("/drafts", content);
          this.id = draft.id;
          // The address names the draft, so a reload resumes it (if compose is still open).
          if (location.hash.startsWith("#/compose")) history.replaceState(null, "", `#/compose/${draft.id}`);
        }
        this.status.textContent = `Draft saved ${formatTime(new Date().toISOString())}`;
      } catch (e) {
        this.status.textContent = `Draft not saved: ${errorText(e)}`;
      }
    });
    return this.saving;
  }

  /** Sends the draft as it is in the form: saved first, then composed and deleted at once. */
  async send(): Promise<Conversation> {
    await this.save();
    if (!this.id) throw new Error("The draft could not be saved.");
    const { conversation } = await this.ctx.api.create<{ conversation: Conversation }>(`/drafts/${this.id}/send`, {});
    this.sent = true;
    return conversation;
  }
}

/** The caller's drafts, newest first: each resumes in compose, or is deleted. Read when
 * opened, so compose itself costs no request for them. */
export function draftsList(ctx: AppContext): HTMLElement {
  const list = h("ul", { class: "plain-list" });
  const summary = h("summary", null, "Your drafts");
  const box = h("details", { class: "drafts" }, summary, list);
  const load = async () => {
    try {
      const { items } = await ctx.api.get<Page<Draft>>("/drafts?limit=20");
      summary.textContent = `Your drafts (${items.length})`;
      replace(
        list,
        items.length
          ? items.map((d) =>
              h(
                "li",
                { "data-draft": d.id },
                h("a", { href: `#/compose/${d.id}` }, d.subject?.trim() || "(no subject)"),
                ` · ${formatTime(d.updatedAt)} `,
                h(
                  "button",
                  {
                    type: "button",
                    class: "link",
                    "aria-label": `Delete the draft ${d.subject?.trim() || "(no subject)"}`,
                    onclick: async () => {
                      try {
                        await ctx.api.request("DELETE", `/drafts/${d.id}`);
                        ctx.announce("Draft deleted");
                        await load();
                      } catch (e) {
                        list.append(h("li", { class: "error" }, errorText(e)));
                      }
                    },
                  },
                  "Delete",
                ),
              ),
            )
          : h("li", { class: "muted" }, "No drafts."),
      );
    } catch (e) {
      replace(list, h("li", { class: "error" }, errorText(e)));
    }
  };
  box.addEventListener("toggle", () => {
    if (box.open) void load();
  });
  return box;
}
