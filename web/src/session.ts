// Who is signed in. Locally: a picker of the demo users and `POST /_local/token`. In AWS:
// Cognito's hosted sign-in (authorization code with PKCE), whose ID token carries the
// `custom:` claims the API's JWT authorizer reads.

export interface AppConfig {
  auth: "local" | "cognito";
  apiBaseUrl: string;
  cognito?: { domain: string; clientId: string; redirectUri: string };
}

export interface User {
  id: string;
  name: string;
  role: string;
  practiceId: string;
  patientId?: string;
}

export interface Session {
  token: string;
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

export function sessionFromToken(token: string, name?: string): Session {
  const c = claims(token);
  const given = [c.given_name, c.family_name].filter(Boolean).join(" ");
  return {
    token,
    user: {
      id: String(c.sub),
      name: name ?? (given || String(c.email ?? c.sub)),
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

export function canAssign(user: User): boolean {
  return ASSIGNER_ROLES.includes(user.role);
}

export function roleLabel(role: string): string {
  return role.replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase());
}

// ---- Cognito hosted sign-in (authorization code + PKCE)

function base64url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export async function startCognitoSignIn(config: AppConfig): Promise<void> {
  const c = config.cognito!;
  const verifier = base64url(crypto.getRandomValues(new Uint8Array(32)));
  const challenge = base64url(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier))));
  const state = base64url(crypto.getRandomValues(new Uint8Array(16)));
  sessionStorage.setItem("carethread.pkce", JSON.stringify({ verifier, state }));
  const params = new URLSearchParams({
    response_type: "code",
    client_id: c.clientId,
    redirect_uri: c.redirectUri,
    scope: "openid email profile",
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
  if (!code || !saved || query.get("state") !== saved.state || !config.cognito) return null;
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
  const tokens = (await response.json()) as { id_token: string };
  const session = sessionFromToken(tokens.id_token);
  saveSession(session);
  return session;
}
