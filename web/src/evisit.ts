// E-visits on a thread (EVISIT-1, EVISIT-2): a clinician turns a patient's question into an
// e-visit, the clinician's active time on the thread is measured and sent in batches, and
// the panel shows the minutes and the code they support. Active means the page is visible
// and the clinician typed, clicked or scrolled in the last 60 seconds.

import { type AppContext, errorText } from "./app";
import { formatFullTime, h, replace } from "./dom";

export interface EVisit {
  conversationId: string;
  status: "open" | "closed";
  openedAt: string;
  windowEndsAt: string;
  minutesByClinician: { id: string; minutes: number }[];
  totalMinutes: number;
  suggestedCode: string | null;
  flags: string[];
}

/** Roles that may open an e-visit (physicians and qualified professionals). */
const OPENER_ROLES = ["physician", "nurse_practitioner", "physician_assistant", "physical_therapist", "occupational_therapist", "speech_language_pathologist", "dietitian", "clinical_psychologist", "clinical_social_worker", "pharmacist"];
/** Roles whose time is recorded (clinical staff's is kept and left out of the code). */
const CLINICIAN_ROLES = [...OPENER_ROLES, "nurse", "registered_nurse", "licensed_practical_nurse", "medical_assistant"];
const IDLE_MS = 60_000;
/** Active time is sent at least this often while the thread stays open. */
const BATCH_MS = 60_000;

const FLAG_LABELS: Record<string, string> = {
  "no-consent": "no consent on record this year",
  "clinical-staff-time": "clinical staff time left out",
  "visit-before": "a visit in the 7 days before",
  "visit-within": "a visit within the window",
  "not-evaluative": "not evaluative",
};

export class EVisitPanel {
  readonly element = h("section", { class: "evisit", "aria-label": "E-visit" });
  private visit: EVisit | null = null;
  private active = 0;
  private lastActivity = Date.now();
  private timer?: number;
  private readonly onActivity = () => (this.lastActivity = Date.now());
  private readonly onLeave = () => void this.flush();

  constructor(
    private readonly ctx: AppContext,
    private readonly conversationId: string,
    /** The patient started the conversation: it may become an e-visit. */
    private readonly patientStarted: boolean,
  ) {
    const role = ctx.session.user.role;
    if (!CLINICIAN_ROLES.includes(role)) return;
    void this.load();
  }

  private get role(): string {
    return this.ctx.session.user.role;
  }

  private async load(): Promise<void> {
    try {
      const { evisit } = await this.ctx.api.get<{ evisit: EVisit | null }>(`/conversations/${this.conversationId}/evisit`);
      this.show(evisit);
    } catch {
      replace(this.element);
    }
  }

  private show(visit: EVisit | null): void {
    this.visit = visit;
    if (!visit) {
      if (!this.patientStarted || !OPENER_ROLES.includes(this.role)) return replace(this.element);
      const start = h("button", { type: "button", class: "secondary" }, "Start e-visit");
      start.addEventListener("click", () => void this.open(start));
      return replace(this.element, start);
    }
    const names = visit.minutesByClinician.map((m) => `${m.minutes} min`).join(" + ");
    const code = visit.suggestedCode ? `suggests ${visit.suggestedCode}` : "no code yet (under 5 minutes)";
    const flags = visit.flags.map((f) => FLAG_LABELS[f] ?? f);
    replace(
      this.element,
      h("p", null, h("strong", null, `E-visit ${visit.status}`), ` · ${visit.totalMinutes} min${names ? ` (${names})` : ""} · ${code}`),
      h("p", { class: "muted" }, `Window ends ${formatFullTime(visit.windowEndsAt)}${flags.length ? ` · ${flags.join(", ")}` : ""}`),
    );
    if (visit.status === "open") this.measure();
  }

  private async open(button: HTMLButtonElement): Promise<void> {
    button.disabled = true;
    try {
      const { evisit } = await this.ctx.api.create<{ evisit: EVisit }>(`/conversations/${this.conversationId}/evisit`, {});
      this.ctx.announce("E-visit started");
      this.show(evisit);
    } catch (e) {
      button.disabled = false;
      this.ctx.announce(errorText(e));
    }
  }

  /** Counts active seconds and sends them in batches, and when the thread is left. */
  private measure(): void {
    if (this.timer) return;
    for (const type of ["keydown", "pointerdown", "wheel"]) document.addEventListener(type, this.onActivity, { passive: true });
    document.addEventListener("scroll", this.onActivity, { passive: true, capture: true });
    window.addEventListener("hashchange", this.onLeave);
    document.addEventListener("visibilitychange", this.onLeave);
    let sinceBatch = 0;
    this.timer = window.setInterval(() => {
      if (!this.element.isConnected) return void this.flush(true);
      if (document.visibilityState === "visible" && Date.now() - this.lastActivity < IDLE_MS) this.active += 1;
      sinceBatch += 1000;
      if (sinceBatch >= BATCH_MS) {
        sinceBatch = 0;
        void this.flush();
      }
    }, 1000);
  }

  /** Sends the active time not sent yet; `stop` also ends the measuring. */
  private async flush(stop = !this.element.isConnected): Promise<void> {
    if (stop && this.timer) {
      window.clearInterval(this.timer);
      this.timer = undefined;
      for (const type of ["keydown", "pointerdown", "wheel"]) document.removeEventListener(type, this.onActivity);
      document.removeEventListener("scroll", this.onActivity, { capture: true });
      window.removeEventListener("hashchange", this.onLeave);
      document.removeEventListener("visibilitychange", this.onLeave);
    }
    const seconds = Math.min(this.active, 3600);
    if (seconds < 1 || !this.visit || this.visit.status !== "open") return;
    this.active -= seconds;
    try {
      const { evisit } = await this.ctx.api.create<{ evisit: EVisit }>(`/conversations/${this.conversationId}/evisit/time`, { seconds, source: "active" });
      if (this.element.isConnected) this.show(evisit);
    } catch {
      this.active += seconds; // sent with the next batch
    }
  }
}
