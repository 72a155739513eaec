// The audit log (admin class; SEC-2): every event about a patient (`#/audit/patient/{id}`)
// or in a conversation (`#/audit/conversation/{id}`), newest first: when, who, what, the
// outcome and the event's place in its hash chain; and the chains recomputed on request
// (GET /audit/verification), which says whether anything was altered or taken away.

import { type AppContext, errorText, type View } from "./app";
import { h, replace } from "./dom";
import { patientFinder } from "./patients";
import { roleLabel } from "./session";

interface AuditEvent {
  id: string;
  at: string;
  actorId: string;
  actorRole: string;
  action: string;
  recordType: string;
  recordId: string;
  outcome: string;
  chain: { seq: number | null };
}

interface Verification {
  verified: boolean;
  chains: number;
  events: number;
  unchained: number;
  broken: { recordType: string; recordId: string; seq: number; eventId: string; problem: string }[];
}

export class AuditView implements View {
  private readonly body = h("div", { class: "audit-log" });
  private readonly error = h("p", { class: "error", role: "alert" });
  private readonly results = h("div", { "aria-live": "polite" });

  constructor(
    main: HTMLElement,
    private readonly ctx: AppContext,
    path: string[],
  ) {
    const finder = patientFinder(ctx, this.results, this.error, (id) => `#/audit/patient/${id}`);
    replace(main, h("section", { class: "page staff-admin" }, h("h1", null, "Audit log"), finder, this.error, this.results, this.body));
    this.update(path);
  }

  update(path: string[]): boolean {
    const [scope, id] = path;
    if ((scope === "patient" || scope === "conversation") && id) {
      replace(this.results);
      void this.show(scope, id);
    } else {
      replace(this.body, h("p", { class: "muted" }, "Find a patient to read every event about them; a conversation's log opens from its thread."));
    }
    return true;
  }

  dispose(): void {}

  private async show(scope: "patient" | "conversation", id: string): Promise<void> {
    const query = `${scope}Id=${encodeURIComponent(id)}`;
    const rows = h("tbody");
    const more = h("button", { type: "button", class: "secondary", hidden: true }, "Older events");
    const outcome = h("div", { class: "verification", role: "status" });
    const verify = h("button", { type: "button" }, "Verify the chain");
    verify.addEventListener("click", () => void this.verify(query, outcome, verify));
    replace(
      this.body,
      h("h2", null, scope === "patient" ? "Events about the patient" : "Events in the conversation", " ", h("code", null, id)),
      h("p", null, verify),
      outcome,
      h(
        "table",
        { class: "report" },
        h("thead", null, h("tr", null, ["When", "Who", "Action", "Record", "Outcome", "Chain #"].map((c) => h("th", { scope: "col" }, c)))),
        rows,
      ),
      more,
    );
    const staff = await this.ctx.staff().catch(() => []);
    const who = (e: AuditEvent) => {
      const s = staff.find((m) => m.id === e.actorId);
      return `${s ? `${s.firstName} ${s.lastName}` : e.actorId} (${roleLabel(e.actorRole)})`;
    };
    let cursor: string | undefined;
    const page = async () => {
      try {
        const answer = await this.ctx.api.get<{ items: AuditEvent[]; nextCursor?: string }>(`/audit?${query}&limit=50${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
        rows.append(
          ...answer.items.map((e) =>
            h(
              "tr",
              { "data-event": e.id },
              h("td", null, new Date(e.at).toLocaleString()),
              h("td", null, who(e)),
              h("td", null, e.action),
              h("td", null, e.recordType === "conversation" && scope === "patient" ? h("a", { href: `#/audit/conversation/${e.recordId}` }, e.recordId) : `${e.recordType} ${e.recordId}`),
              h("td", null, e.outcome),
              h("td", null, e.chain.seq === null ? "not linked yet" : String(e.chain.seq)),
            ),
          ),
        );
        cursor = answer.nextCursor;
        more.hidden = !cursor;
      } catch (e) {
        this.error.textContent = errorText(e);
      }
    };
    more.addEventListener("click", () => void page());
    await page();
  }

  private async verify(query: string, outcome: HTMLElement, button: HTMLButtonElement): Promise<void> {
    button.disabled = true;
    replace(outcome, h("p", { class: "muted" }, "Verifying…"));
    try {
      const v = await this.ctx.api.get<Verification>(`/audit/verification?${query}`);
      const counts = `${v.chains} ${v.chains === 1 ? "chain" : "chains"}, ${v.events} events${v.unchained ? ` (${v.unchained} written moments ago, not linked yet)` : ""}`;
      replace(
        outcome,
        v.verified
          ? h("p", { class: "verified" }, `Verified: nothing altered or taken away. ${counts}.`)
          : [
              h("p", { class: "error" }, `Broken: ${v.broken.length} ${v.broken.length === 1 ? "chain was" : "chains were"} altered. ${counts}.`),
              h("ul", null, v.broken.map((b) => h("li", null, `${b.recordType} ${b.recordId}, event #${b.seq}${b.eventId ? ` (${b.eventId})` : ""}: ${b.problem}`))),
            ],
      );
    } catch (e) {
      replace(outcome, h("p", { class: "error" }, errorText(e)));
    }
    button.disabled = false;
  }
}
