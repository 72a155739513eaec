// The reports (admin class): reply times in business minutes by staff, workgroup or priority
// (SLA-5), and the billing report's billable messages and e-visits (REPLY-2, EVISIT-4), for a
// date range, each with its CSV download.

import { type AppContext, errorText, type View } from "./app";
import { h, replace, uid } from "./dom";
import { select } from "./forms";

interface Group {
  key: string;
  replies: number;
  medianMinutes: number;
  p90Minutes: number;
  withinTarget: number | null;
}
interface EVisitRow {
  conversationId: string;
  patientId: string;
  windowOpensAt: string;
  totalMinutes: number;
  suggestedCode: string | null;
  flags: string[];
}
interface Billing {
  items: { feeCode: string }[];
  evisits: EVisitRow[];
}

const day = (d: Date) => d.toISOString().slice(0, 10);

export class ReportsView implements View {
  private readonly from = h("input", { id: uid("from"), type: "date" });
  private readonly to = h("input", { id: uid("to"), type: "date" });
  private readonly groupBy = select("Reply times by", ["priority", "staff", "workgroup"], ["priority", "staff member", "workgroup"]);
  private readonly error = h("p", { class: "error", role: "alert" });
  private readonly results = h("div", { class: "report-results" });

  constructor(
    main: HTMLElement,
    private readonly ctx: AppContext,
  ) {
    const now = new Date();
    this.from.value = day(new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1)));
    this.to.value = day(now);
    const form = h(
      "form",
      { class: "report-range" },
      h("label", { for: this.from.id }, "From"),
      this.from,
      h("label", { for: this.to.id }, "To"),
      this.to,
      this.groupBy.label,
      h("button", { type: "submit" }, "Show"),
    );
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      void this.load();
    });
    replace(main, h("section", { class: "page reports" }, h("h1", null, "Reports"), form, this.error, this.results));
    void this.load();
  }

  dispose(): void {}

  private query(): string {
    return `from=${this.from.value}&to=${this.to.value}`;
  }

  private async load(): Promise<void> {
    this.error.textContent = "";
    const by = this.groupBy.input.value;
    try {
      const [times, billing, staff, groups] = await Promise.all([
        this.ctx.api.get<{ groups: Group[] }>(`/reports/response-times?${this.query()}&groupBy=${by}`),
        this.ctx.api.get<Billing>(`/reports/billing?${this.query()}`),
        this.ctx.staff(),
        this.ctx.workgroups(),
      ]);
      const name = (key: string) => {
        const member = staff.find((s) => s.id === key);
        return member ? `${member.firstName} ${member.lastName}` : (groups.find((g) => g.id === key)?.name ?? key);
      };
      replace(
        this.results,
        h("h2", null, "Reply times (business minutes)"),
        this.table(
          [by === "staff" ? "Staff member" : by === "workgroup" ? "Workgroup" : "Priority", "Replies", "Median", "90th percentile", "Within target"],
          times.groups.map((g) => [name(g.key), String(g.replies), g.medianMinutes.toFixed(0), g.p90Minutes.toFixed(0), g.withinTarget === null ? "no target" : `${Math.round(g.withinTarget * 100)}%`]),
          "No replies in this period.",
        ),
        this.download("Download reply times (CSV)", `/reports/response-times?${this.query()}&groupBy=${by}`, "reply-times.csv"),
        h("h2", null, "Billing"),
        h("p", null, `${billing.items.length} billable messages.`),
        this.table(
          ["Patient", "Window opened", "Minutes", "Code", "Check before billing"],
          billing.evisits.map((v) => [v.patientId, new Date(v.windowOpensAt).toLocaleDateString(), String(v.totalMinutes), v.suggestedCode ?? "none", v.flags.join(", ") || "-"]),
          "No e-visits in this period.",
        ),
        this.download("Download billing (CSV)", `/reports/billing?${this.query()}`, "billing.csv"),
      );
    } catch (e) {
      this.error.textContent = errorText(e);
    }
  }

  private table(head: string[], rows: string[][], empty: string): HTMLElement {
    if (!rows.length) return h("p", { class: "muted" }, empty);
    return h(
      "table",
      { class: "report" },
      h("thead", null, h("tr", null, head.map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", null, rows.map((r) => h("tr", null, r.map((c) => h("td", null, c))))),
    );
  }

  /** The CSV comes with the caller's token, so it is fetched, then saved from a blob. */
  private download(label: string, path: string, file: string): HTMLElement {
    const button = h("button", { type: "button", class: "secondary" }, label);
    button.addEventListener("click", async () => {
      try {
        const csv = await this.ctx.api.request<string>("GET", path, undefined, { accept: "text/csv" });
        const link = h("a", { href: URL.createObjectURL(new Blob([csv], { type: "text/csv" })), download: file });
        link.click();
        URL.revokeObjectURL(link.href);
      } catch (e) {
        this.error.textContent = errorText(e);
      }
    });
    return h("p", null, button);
  }
}
