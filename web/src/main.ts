// The web inbox: staff screens (inbox, thread, compose; the admins' staff, reports and settings) and the patient portal, on the
// API of API.md. Routes live in the URL's hash so they can never shadow an API path.

import { Api } from "./api";
import { AppContext, BADGE_POLL_MS, type View } from "./app";
import { h, replace } from "./dom";
import { StaffInbox } from "./inbox";
import { ComposeView } from "./compose";
import { Portal } from "./portal";
import {
  type AppConfig,
  clearSession,
  finishCognitoSignIn,
  isAdmin,
  isStaff,
  loadSession,
  roleLabel,
  type Session,
  signedOutNotice,
  userPool,
} from "./session";
import { signOutEverywhere } from "./cognito";
import { SecondFactorView } from "./second_factor";
import { PatientsView } from "./patients";
import { WorkgroupsView } from "./workgroups";
import { AuditView } from "./audit";
import { MeView } from "./me";
import { TasksView } from "./tasks";
import { ReportsView } from "./reports";
import { SettingsView } from "./settings";
import { StaffView } from "./staff";
import { SignIn } from "./signin";
import type { Stats } from "./types";

const root = document.getElementById("app")!;
/** The administration screens (admin class), in the navigation's order. */
const ADMIN_SCREENS = [
  ["staff", "Staff"],
  ["patients", "Patients"],
  ["workgroups", "Workgroups"],
  ["reports", "Reports"],
  ["audit", "Audit log"],
  ["settings", "Settings"],
] as const;
let config: AppConfig = { auth: "local", apiBaseUrl: "" };
let current: { kind: string; view: View } | null = null;
let ctx: AppContext | null = null;
let poller: number | undefined;

async function boot(): Promise<void> {
  try {
    const response = await fetch("/config.json", { cache: "no-store" });
    if (response.ok) config = (await response.json()) as AppConfig;
  } catch {
    // Without a config the app assumes the local gateway.
  }
  if (config.auth === "cognito") await finishCognitoSignIn(config);
  window.addEventListener("hashchange", route);
  route();
}

/** Ends the session here and, with `everywhere`, the user's refresh tokens on every device. */
function signOut(notice?: string, everywhere = false): void {
  const pool = userPool(config);
  const access = loadSession()?.accessToken;
  if (everywhere && pool && access) void signOutEverywhere(pool, access);
  clearSession();
  if (notice) sessionStorage.setItem("carethread.notice", notice);
  ctx = null;
  window.clearInterval(poller);
  location.hash = "#/signin";
}

function shell(session: Session): { main: HTMLElement; context: AppContext } {
  const announcer = h("div", { class: "sr-only", role: "status", "aria-live": "polite", id: "announcer" });
  // A 401 ends this session (once, and never a newer one a late answer arrives in), with a
  // notice on the sign-in page: "sign in again" when the account changed since sign-in.
  const api = new Api(
    config.apiBaseUrl,
    () => session.token,
    (problemType) => {
      if (ctx?.session.token === session.token) signOut(signedOutNotice(problemType));
    },
    () => {
      if (ctx?.session.token === session.token) location.hash = "#/second-factor";
    },
  );
  const context = new AppContext(api, session, config, announcer);
  const staff = isStaff(session.user);
  const badge = h("span", { class: "badge", hidden: true, "data-testid": "nav-unread" });
  const inboxLink = h("a", { href: staff ? "#/inbox" : "#/portal", class: "nav-link" }, staff ? "Inbox" : "Messages", " ", badge);
  const main = h("main", { id: "main", tabindex: "-1" });
  const header = h(
    "header",
    { class: "topbar" },
    h("a", { class: "brand", href: staff ? "#/inbox" : "#/portal" }, "Carethread"),
    h(
      "nav",
      { "aria-label": "Main" },
      inboxLink,
      h("a", { href: staff ? "#/compose" : "#/portal/compose", class: "nav-link" }, staff ? "Compose" : "New message"),
      staff ? h("a", { href: "#/tasks", class: "nav-link" }, "Tasks") : null,
      isAdmin(session.user) ? ADMIN_SCREENS.map(([page, label]) => h("a", { href: `#/${page}`, class: "nav-link" }, label)) : null,
    ),
    h(
      "div",
      { class: "who" },
      h("a", { class: "who-name", href: "#/me" }, session.user.name, h("span", { class: "sr-only" }, " (your settings)")),
      h("span", { class: "who-role" }, roleLabel(session.user.role)),
      h("button", { type: "button", class: "secondary", onclick: () => signOut(undefined, true) }, "Sign out"),
    ),
  );
  context.onStats((stats: Stats) => {
    const n = stats.unreadMessages;
    badge.hidden = n === 0;
    badge.textContent = String(n);
    inboxLink.setAttribute("aria-label", n ? `${staff ? "Inbox" : "Messages"}, ${n} unread` : staff ? "Inbox" : "Messages");
  });
  replace(root, header, main, announcer);
  window.clearInterval(poller);
  // A hidden tab does not poll (it catches up when shown): the badge costs API calls only
  // while someone can see it.
  poller = window.setInterval(() => {
    if (document.visibilityState === "visible") void context.refreshStats();
  }, BADGE_POLL_MS);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") void context.refreshStats();
  });
  void context.refreshStats();
  return { main, context };
}

function route(): void {
  const path = location.hash.replace(/^#\/?/, "").split("/").filter(Boolean);
  const session = loadSession();
  if (!session || path[0] === "signin") {
    if (session && path[0] === "signin") clearSession();
    ctx = null;
    current?.view.dispose();
    current = { kind: "signin", view: new SignIn(root, config) };
    return;
  }
  const staff = isStaff(session.user);
  let kind = path[0] ?? "";
  const pages = isAdmin(session.user) ? ["inbox", "compose", "tasks", ...ADMIN_SCREENS.map(([page]) => page)] : ["inbox", "compose", "tasks"];
  if (kind !== "second-factor" && kind !== "me") {
    if (staff && !pages.includes(kind)) kind = "inbox";
    if (!staff && kind !== "portal") kind = "portal";
  }
  if (!ctx || ctx.session.token !== session.token) {
    current?.view.dispose();
    current = null;
    const built = shell(session);
    ctx = built.context;
  }
  for (const link of document.querySelectorAll<HTMLAnchorElement>("header nav a")) {
    if (link.hash === `#/${path.join("/")}` || (link.hash === `#/${kind}` && path.length <= 2 && path[1] !== "compose")) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  if (current && current.kind === kind && current.view.update?.(path.slice(1))) return;
  current?.view.dispose();
  const main = document.getElementById("main")!;
  const app = ctx;
  const screens: Record<string, () => View> = {
    "second-factor": () => new SecondFactorView(main, app, (notice) => signOut(notice)),
    compose: () => new ComposeView(main, app, path.slice(1)),
    settings: () => new SettingsView(main, app),
    reports: () => new ReportsView(main, app),
    staff: () => new StaffView(main, app),
    patients: () => new PatientsView(main, app, path.slice(1)),
    workgroups: () => new WorkgroupsView(main, app),
    audit: () => new AuditView(main, app, path.slice(1)),
    me: () => new MeView(main, app),
    tasks: () => new TasksView(main, app),
    inbox: () => new StaffInbox(main, app, path.slice(1)),
  };
  const view = (screens[kind] ?? (() => new Portal(main, app, path.slice(1))))();
  current = { kind, view };
}

void boot();
