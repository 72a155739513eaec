// Who is signed in. Both ways end with a Cognito ID token, whose `cognito:username` is the
// user's id and whose `custom:` claims the API's JWT authorizer reads. Locally: a username and
// password form that signs in at the local stack's user pool (InitiateAuth with
// USER_PASSWORD_AUTH). In AWS: Cognito's hosted sign-in (authorization code with PKCE).

import type { UserPool } from "./cognito";

/** In AWS: the hosted UI of the stack's user pool. */
export interface HostedCognito {
  domain: string;
  clientId: string;
  redirectUri: string;
  /** The pool's region: the user's own calls (the authenticator app's set-up, signing out
   * everywhere) go to its regional endpoint. */
  region: string;
}

/** Locally: the user pool's API on the local AWS stack (moto). */
export interface LocalCognito {
  endpoint: string;
  clientId: string;
  region: string;
}

export type AppConfig =
  | { auth: "cognito"; apiBaseUrl: string; cognito: HostedCognito }
  | { auth: "local"; apiBaseUrl: string; cognito?: LocalCognito };

export interface User {
  id: string;
  name: string;
  role: string;
  practiceId: string;
  patientId?: string;
}

export interface Session {
  /** The ID token: the API's bearer token. */
  token: string;
  /** The access token: the user's own calls to the user pool (ACCT-3 set-up, sign-out). */
  accessToken?: string;
  user: User;
}

const KEY = "carethread.session";

export function loadSession(): Session | null {
  const raw = sessionStorage.getItem(KEY);
  if (!raw) return null;
  try {
    const session = JSON.parse(raw) as Session;
    const exp = claims(session.token).exp;
    if (typeof exp === "number" && exp * 1000 < Date.now()) return null;
    return session;
  } catch {
    return null;
  }
}

export function saveSession(session: Session): void {
  sessionStorage.setItem(KEY, JSON.stringify(session));
}

export function clearSession(): void {
  sessionStorage.removeItem(KEY);
}

export function claims(token: string): Record<string, unknown> {
  const part = token.split(".")[1] ?? "";
  const json = atob(part.replace(/-/g, "+").replace(/_/g, "/"));
  return JSON.parse(new TextDecoder().decode(Uint8Array.from(json, (c) => c.charCodeAt(0)))) as Record<string, unknown>;
}

/** The session of a Cognito ID token. The user's id is its Cognito username (`sub` is
 * Cognito's own UUID, which the API does not know). */
export function sessionFromToken(token: string, name?: string, accessToken?: string): Session {
  const c = claims(token);
  const username = c["cognito:username"];
  if (typeof username !== "string" || !username) throw new Error("The ID token has no cognito:username claim.");
  const given = [c.given_name, c.family_name].filter(Boolean).join(" ");
  return {
    token,
    accessToken,
    user: {
      id: username,
      name: name ?? (given || String(c.email ?? username)),
      role: String(c["custom:role"]),
      practiceId: String(c["custom:practice_id"]),
      patientId: c["custom:patient_id"] ? String(c["custom:patient_id"]) : undefined,
    },
  };
}

export const ASSIGNER_ROLES = ["admin", "practice_manager", "physician", "nurse_practitioner", "physician_assistant"];

export function isStaff(user: User): boolean {
  return user.role !== "patient";
}

/** The admin class (ROLE-1): practice settings and administration. */
export function isAdmin(user: User): boolean {
  return user.role === "admin" || user.role === "practice_manager";
}

export function canAssign(user: User): boolean {
  return ASSIGNER_ROLES.includes(user.role);
}

export function roleLabel(role: string): string {
  return role.replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase());
}

/** The notice of the sign-in page after the API answered 401 (see Api's onUnauthorized):
 * `sign-in-again` means the account changed since the token was issued (a new role, a
 * deactivation), so the token's claims are stale. */
export function signedOutNotice(problemType?: string): string {
  return problemType?.endsWith("/sign-in-again")
    ? "Your account changed: sign in again."
    : "Your session has ended or your account is not active. Please sign in again.";
}

/** The user pool's API for the user's own calls, if the config names one. */
export function userPool(config: AppConfig): UserPool | undefined {
  if (config.auth === "cognito") {
    const c = config.cognito;
    return c.region ? { endpoint: `https://cognito-idp.${c.region}.amazonaws.com`, clientId: c.clientId } : undefined;
  }
  return config.cognito?.endpoint && config.cognito.clientId ? config.cognito : undefined;
}

// ---- Cognito hosted sign-in (authorization code + PKCE)

function base64url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export async function startCognitoSignIn(config: AppConfig & { auth: "cognito" }): Promise<void> {
  const c = config.cognito;
  const verifier = base64url(crypto.getRandomValues(new Uint8Array(32)));
  const challenge = base64url(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier))));
  const state = base64url(crypto.getRandomValues(new Uint8Array(16)));
  sessionStorage.setItem("carethread.pkce", JSON.stringify({ verifier, state }));
  const params = new URLSearchParams({
    response_type: "code",
    client_id: c.clientId,
    redirect_uri: c.redirectUri,
    // The last scope lets the access token set up the authenticator app (ACCT-3) and sign out
    // everywhere at the user pool's API.
    scope: "openid email profile aws.cognito.signin.user.admin",
    code_challenge_method: "S256",
    code_challenge: challenge,
    state,
  });
  location.assign(`https://${c.domain}/oauth2/authorize?${params}`);
}

/** Completes a hosted sign-in when the page was opened with `?code=…&state=…`. */
export async function finishCognitoSignIn(config: AppConfig): Promise<Session | null> {
  const query = new URLSearchParams(location.search);
  const code = query.get("code");
  const saved = JSON.parse(sessionStorage.getItem("carethread.pkce") ?? "null") as { verifier: string; state: string } | null;
  if (!code || !saved || query.get("state") !== saved.state || config.auth !== "cognito") return null;
  sessionStorage.removeItem("carethread.pkce");
  const c = config.cognito;
  const response = await fetch(`https://${c.domain}/oauth2/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      client_id: c.clientId,
      code,
      redirect_uri: c.redirectUri,
      code_verifier: saved.verifier,
    }),
  });
  history.replaceState(null, "", location.pathname + location.hash);
  if (!response.ok) return null;
  const tokens = (await response.json()) as { id_token: string; access_token?: string };
  const session = sessionFromToken(tokens.id_token, undefined, tokens.access_token);
  saveSession(session);
  return session;
}
