// Cognito's user-pool API as a browser calls it: the AWS SDKs' JSON protocol with the app
// client's id and the user's own tokens, no AWS credentials. Password sign-in and its two
// challenges (a new password at the first sign-in after an invitation; a code from the
// authenticator app, ACCT-3), the authenticator app's set-up, and signing out everywhere.
// Locally the pool is the local stack's (config.json names its endpoint); in AWS the
// regional endpoint, which the hosted sign-in's access token may call.

/** Where the user pool answers, and the app client that signs in. */
export interface UserPool {
  endpoint: string;
  clientId: string;
}

export interface Tokens {
  idToken: string;
  accessToken: string;
}

/** Where a sign-in stands: done, or waiting for the user's answer to a challenge. */
export type SignInStep =
  | { kind: "signed-in"; tokens: Tokens }
  | { kind: "new-password"; username: string; session: string }
  | { kind: "code"; username: string; session: string };

/** A refusal, with the sentence to show the user (never the password or the code). */
export class SignInError extends Error {}

async function call(pool: UserPool, action: string, body: Record<string, unknown>): Promise<Record<string, unknown>> {
  let response: Response;
  try {
    response = await fetch(pool.endpoint.replace(/\/+$/, "") + "/", {
      method: "POST",
      headers: {
        "content-type": "application/x-amz-json-1.1",
        "x-amz-target": `AWSCognitoIdentityProviderService.${action}`,
      },
      body: JSON.stringify(body),
    });
  } catch {
    throw new SignInError("The sign-in service could not be reached. Check your connection and try again.");
  }
  const answer = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  if (response.ok) return answer;
  // The error's type, without the namespace some endpoints prefix ("…#NotAuthorizedException").
  const type = String(answer.__type ?? "").split("#").pop() ?? "";
  throw new SignInError(refusal(type, String(answer.message ?? "")));
}

/** The sentence for a refusal of the user pool. */
export function refusal(type: string, message: string): string {
  switch (type) {
    case "NotAuthorizedException":
      if (/disabled/i.test(message)) return "This account is disabled. Ask your practice's administrator.";
      if (/session/i.test(message)) return "The sign-in took too long. Start again.";
      return "Wrong username or password.";
    case "UserNotFoundException":
      return "Wrong username or password.";
    case "InvalidPasswordException":
      // Cognito names the rule the password breaks ("Password must have uppercase characters").
      return `Choose another password: ${message.replace(/^.*?:\s*/, "") || "it does not meet the practice's rules"}.`;
    case "CodeMismatchException":
    case "EnableSoftwareTokenMFAException":
      return "That code is not right. Enter the code your authenticator app shows now.";
    case "ExpiredCodeException":
      return "That code has expired. Enter the code your authenticator app shows now.";
    case "PasswordResetRequiredException":
      return "This account's password must be reset first.";
    case "TooManyRequestsException":
    case "LimitExceededException":
      return "Too many attempts. Wait a minute and try again.";
    default:
      return `Sign-in failed${type ? ` (${type})` : ""}. Try again.`;
  }
}

function step(answer: Record<string, unknown>, username: string): SignInStep {
  const result = answer.AuthenticationResult as { IdToken?: string; AccessToken?: string } | undefined;
  if (result?.IdToken && result.AccessToken) {
    return { kind: "signed-in", tokens: { idToken: result.IdToken, accessToken: result.AccessToken } };
  }
  const session = String(answer.Session ?? "");
  // The challenge may name the user by Cognito's own id; answers must use that name.
  const params = (answer.ChallengeParameters ?? {}) as Record<string, string>;
  const name = params.USER_ID_FOR_SRP ?? username;
  if (answer.ChallengeName === "NEW_PASSWORD_REQUIRED") return { kind: "new-password", username: name, session };
  if (answer.ChallengeName === "SOFTWARE_TOKEN_MFA") return { kind: "code", username: name, session };
  throw new SignInError(`Sign-in needs a step this app does not offer (${String(answer.ChallengeName)}).`);
}

/** InitiateAuth with USER_PASSWORD_AUTH, as the AWS SDKs do. */
export async function signIn(pool: UserPool, username: string, password: string): Promise<SignInStep> {
  const answer = await call(pool, "InitiateAuth", {
    AuthFlow: "USER_PASSWORD_AUTH",
    ClientId: pool.clientId,
    AuthParameters: { USERNAME: username, PASSWORD: password },
  });
  return step(answer, username);
}

/** Answers the challenge Cognito asked for, with the user's answer. */
async function answer(pool: UserPool, at: Exclude<SignInStep, { kind: "signed-in" }>, responses: Record<string, string>): Promise<SignInStep> {
  const answered = await call(pool, "RespondToAuthChallenge", {
    ClientId: pool.clientId,
    ChallengeName: at.kind === "new-password" ? "NEW_PASSWORD_REQUIRED" : "SOFTWARE_TOKEN_MFA",
    Session: at.session,
    ChallengeResponses: { USERNAME: at.username, ...responses },
  });
  return step(answered, at.username);
}

/** Answers the first sign-in's challenge with the password the user chose. */
export function setNewPassword(pool: UserPool, at: SignInStep & { kind: "new-password" }, password: string): Promise<SignInStep> {
  return answer(pool, at, { NEW_PASSWORD: password });
}

/** Answers the second factor's challenge with the authenticator app's code. */
export function enterCode(pool: UserPool, at: SignInStep & { kind: "code" }, code: string): Promise<SignInStep> {
  return answer(pool, at, { SOFTWARE_TOKEN_MFA_CODE: code });
}

/** Starts setting up an authenticator app: the secret (base32) the app is given. */
export async function startAuthenticator(pool: UserPool, accessToken: string): Promise<string> {
  const answer = await call(pool, "AssociateSoftwareToken", { AccessToken: accessToken });
  return String(answer.SecretCode ?? "");
}

/** Finishes the set-up with a code the app shows, and makes the app the user's second factor:
 * from the next sign-in on, Cognito asks for a code. */
export async function finishAuthenticator(pool: UserPool, accessToken: string, code: string): Promise<void> {
  await call(pool, "VerifySoftwareToken", { AccessToken: accessToken, UserCode: code, FriendlyDeviceName: "Authenticator app" });
  await call(pool, "SetUserMFAPreference", {
    AccessToken: accessToken,
    SoftwareTokenMfaSettings: { Enabled: true, PreferredMfa: true },
  });
}

/** Revokes every refresh token of the user, on every device (ID tokens run out within the
 * hour). A failure is not the user's problem: the session ends here either way. */
export async function signOutEverywhere(pool: UserPool, accessToken: string): Promise<void> {
  await call(pool, "GlobalSignOut", { AccessToken: accessToken }).catch(() => undefined);
}

/** The link an authenticator app on the same device opens (the same secret as the text). */
export function authenticatorLink(secret: string, account: string, issuer: string): string {
  const label = encodeURIComponent(`${issuer}:${account}`);
  return `otpauth://totp/${label}?secret=${secret}&issuer=${encodeURIComponent(issuer)}&digits=6&period=30`;
}
