// E-visits on a thread (EVISIT-1..3): a clinician turns a patient's question into an e-visit,
// the clinician's active time on the thread is measured and sent in batches, and the panel
// shows the minutes and the code they support. Active means the page is visible and the
// clinician typed, clicked or scrolled in the last 60 seconds. The panel also takes time
// entered or corrected by hand (with its reason), the evaluative mark and a visit's date; in
// the portal, the patient answers the practice's request for consent.

import { type AppContext, errorText } from "./app";
import { formatFullTime, h, replace, uid } from "./dom";

export interface EVisit {
  conversationId: string;
  patientId: string;
  status: "open" | "closed";
  openedAt: string;
  windowOpensAt: string;
  windowEndsAt: string;
  minutesByClinician: { id: string; minutes: number }[];
  totalMinutes: number;
  suggestedCode: string | null;
  flags: string[];
  recordedAt: string | null;
  entries: { clinicianId: string; seconds: number; source: "active" | "manual"; at: string }[];
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
    const recorded = visit.recordedAt ? ` · recorded ${formatFullTime(visit.recordedAt)}` : "";
    replace(
      this.element,
      h("p", null, h("strong", null, `E-visit ${visit.status}`), ` · ${visit.totalMinutes} min${names ? ` (${names})` : ""} · ${code}${recorded}`),
      h("p", { class: "muted" }, `Window ${formatFullTime(visit.windowOpensAt)} to ${formatFullTime(visit.windowEndsAt)}${flags.length ? ` · ${flags.join(", ")}` : ""}`),
      visit.status === "open" ? this.tools(visit) : null,
    );
    if (visit.status === "open") this.measure();
  }

  /** Time by hand, the evaluative mark and a visit's date, folded away until wanted. */
  private tools(visit: EVisit): HTMLElement {
    const mine = visit.entries.filter((e) => e.clinicianId === this.ctx.session.user.id);
    const entries = h(
      "ul",
      { class: "evisit-entries", "aria-label": "Your time entries" },
      mine.map((e) => h("li", null, `${e.seconds < 0 ? "−" : ""}${clock(Math.abs(e.seconds))} ${e.source === "manual" ? "by hand" : "measured"} · ${formatFullTime(e.at)}`)),
    );
    const minutesId = uid("evisit-minutes");
    const reasonId = uid("evisit-reason");
    const minutes = h("input", { id: minutesId, type: "number", step: 1, min: -60, max: 60, required: true });
    const reason = h("input", { id: reasonId, required: true, maxlength: 500, autocomplete: "off" });
    const error = h("p", { class: "error", role: "alert" });
    const time = h(
      "form",
      { class: "evisit-time" },
      h("label", { for: minutesId }, "Minutes (negative to correct your time)"),
      minutes,
      h("label", { for: reasonId }, "Reason"),
      reason,
      h("button", { type: "submit", class: "secondary" }, "Record time"),
      error,
    );
    time.addEventListener("submit", (e) => {
      e.preventDefault();
      const seconds = Math.round(Number(minutes.value) * 60);
      void this.act(error, "Time recorded", () => this.ctx.api.create<{ evisit: EVisit }>(`/conversations/${this.conversationId}/evisit/time`, { seconds, source: "manual", reason: reason.value }));
    });
    const evaluative = h("input", { type: "checkbox", checked: !visit.flags.includes("not-evaluative") });
    evaluative.addEventListener("change", () => {
      const body = { evaluative: evaluative.checked };
      void this.act(error, "E-visit updated", () => this.ctx.api.request<{ evisit: EVisit }>("PATCH", `/conversations/${this.conversationId}/evisit`, body));
    });
    const dateId = uid("visit-date");
    const date = h("input", { id: dateId, type: "date", required: true });
    const visitForm = h("form", { class: "evisit-visit" }, h("label", { for: dateId }, "Office visit on"), date, h("button", { type: "submit", class: "secondary" }, "Record visit"));
    visitForm.addEventListener("submit", (e) => {
      e.preventDefault();
      void this.act(error, "Visit recorded", async () => {
        await this.ctx.api.create(`/patients/${visit.patientId}/visits`, { date: date.value });
        return this.ctx.api.get<{ evisit: EVisit }>(`/conversations/${this.conversationId}/evisit`);
      });
    });
    return h(
      "details",
      { class: "evisit-tools" },
      h("summary", null, "Time by hand, visits"),
      mine.length ? entries : null,
      time,
      h("label", { class: "check" }, evaluative, " Evaluative (not scheduling or results only)"),
      visitForm,
    );
  }

  /** Runs one change and shows the e-visit it answers, or says what was refused. */
  private async act(error: HTMLElement, done: string, change: () => Promise<{ evisit: EVisit | null }>): Promise<void> {
    error.textContent = "";
    try {
      const { evisit } = await change();
      this.ctx.announce(done);
      this.show(evisit);
      this.element.querySelector("details")?.setAttribute("open", "");
    } catch (e) {
      error.textContent = errorText(e);
    }
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

function clock(seconds: number): string {
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
}

/** EVISIT-3: in the portal, the practice's request for the patient's yearly consent. */
export function consentPrompt(ctx: AppContext): HTMLElement {
  const box = h("section", { class: "consent", "aria-label": "E-visit consent" });
  const path = `/patients/${ctx.session.user.id}/evisit-consent`;
  const answer = async (given: boolean): Promise<void> => {
    try {
      await ctx.api.request("PUT", path, { given });
      ctx.announce(given ? "Thank you: your consent is recorded for a year" : "Your answer is recorded");
      replace(box);
    } catch (e) {
      replace(box, h("p", { class: "error", role: "alert" }, errorText(e)));
    }
  };
  void ctx.api
    .get<{ requested: boolean }>(path)
    .then(({ requested }) => {
      if (!requested) return;
      const yes = h("button", { type: "button" }, "I agree");
      const no = h("button", { type: "button", class: "secondary" }, "No");
      yes.addEventListener("click", () => void answer(true));
      no.addEventListener("click", () => void answer(false));
      replace(
        box,
        h("h2", null, "Your care team is treating your message as an e-visit"),
        h("p", null, "An e-visit is an online evaluation by your clinician. It may be billed to your insurance like a visit, and you may owe a copay. Your answer holds for a year."),
        h("div", { class: "actions" }, yes, no),
      );
    })
    .catch(() => replace(box));
  return box;
}
