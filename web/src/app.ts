// What every screen gets: the API client, the signed-in user, navigation, the live
// region, and the shared caches of the practice directory.

import { Api, ApiError } from "./api";
import type { AppConfig, Session } from "./session";
import type { Page, StaffMember, Stats, Workgroup } from "./types";

/** How often the navigation badge asks for new counts (GET /inbox/stats). */
export const BADGE_POLL_MS = 15_000;

export interface View {
  /** Called when the hash changes but the same view stays: returns false to be rebuilt. */
  update?(path: string[]): boolean;
  /** Called before another view takes the page. */
  dispose(): void;
}

export class AppContext {
  private staffCache?: Promise<StaffMember[]>;
  private groupCache?: Promise<Workgroup[]>;
  private statsListeners = new Set<(stats: Stats) => void>();

  constructor(
    readonly api: Api,
    readonly session: Session,
    readonly config: AppConfig,
    private readonly announcer: HTMLElement,
  ) {}

  navigate(hash: string): void {
    if (location.hash === hash) window.dispatchEvent(new HashChangeEvent("hashchange"));
    else location.hash = hash;
  }

  /** Says something to screen readers (and to the visible status line). */
  announce(message: string): void {
    this.announcer.textContent = "";
    window.setTimeout(() => (this.announcer.textContent = message), 50);
  }

  staff(): Promise<StaffMember[]> {
    this.staffCache ??= this.api.get<Page<StaffMember>>("/staff").then((p) => p.items);
    return this.staffCache;
  }

  workgroups(): Promise<Workgroup[]> {
    this.groupCache ??= this.api.get<Page<Workgroup>>("/workgroups").then((p) => p.items);
    return this.groupCache;
  }

  /** After an administrator changed staff or workgroups: the next read asks the API again. */
  forgetDirectory(): void {
    this.staffCache = undefined;
    this.groupCache = undefined;
  }

  onStats(listener: (stats: Stats) => void): () => void {
    this.statsListeners.add(listener);
    return () => this.statsListeners.delete(listener);
  }

  /** Fetches the counts now and tells the badge and any stats cards. */
  async refreshStats(): Promise<void> {
    try {
      const stats = await this.api.get<Stats>("/inbox/stats");
      for (const l of this.statsListeners) l(stats);
    } catch {
      // The next poll tries again; a failed count must not break the page.
    }
  }
}

export function errorText(e: unknown): string {
  if (e instanceof ApiError) return e.detail || e.title;
  return "Something went wrong. Please try again.";
}
