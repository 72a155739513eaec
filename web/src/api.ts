// The HTTP client: bearer token, problem+json errors (API.md "Conventions"), an
// Idempotency-Key on every creating POST, and uploads with progress.

import type { Upload } from "./types";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string,
    readonly field?: string,
  ) {
    super(detail || title);
  }
}

export interface ApiOptions {
  /** Sends an Idempotency-Key: a retry of the same action creates nothing twice. */
  idempotencyKey?: string;
  /** The media type wanted (`text/csv` for a report's CSV); the answer is then its text. */
  accept?: string;
}

export class Api {
  constructor(
    private readonly baseUrl: string,
    private readonly token: () => string | null,
    /** Ends the session; gets the problem's `type` (…/sign-in-again: the account changed). */
    private readonly onUnauthorized: (problemType?: string) => void,
    /** The practice requires a second factor the user has not set up (ACCT-3). */
    private readonly onSecondFactorRequired: () => void = () => undefined,
  ) {}

  async request<T>(method: string, path: string, body?: unknown, options: ApiOptions = {}): Promise<T> {
    const headers: Record<string, string> = { accept: options.accept ?? "application/json" };
    const token = this.token();
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    if (options.idempotencyKey) headers["idempotency-key"] = options.idempotencyKey;
    let response: Response;
    try {
      response = await fetch(this.baseUrl + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      throw new ApiError(0, "Network error", "The server could not be reached. Check your connection and try again.");
    }
    if (response.status === 401) {
      const problem = (await response.json().catch(() => null)) as { type?: unknown } | null;
      const type = typeof problem?.type === "string" ? problem.type : undefined;
      this.onUnauthorized(type);
      throw new ApiError(
        401,
        "Signed out",
        type?.endsWith("/sign-in-again") ? "Your account changed: sign in again." : "Your session has ended. Please sign in again.",
      );
    }
    if (response.status === 204) return undefined as T;
    const text = await response.text();
    // Another media type asked for (a CSV report) comes back as its text.
    if (response.ok && options.accept && options.accept !== "application/json") return text as T;
    const parsed: unknown = text ? JSON.parse(text) : undefined;
    if (!response.ok) {
      const p = (parsed ?? {}) as { type?: string; title?: string; detail?: string; field?: string };
      if (response.status === 403 && p.type?.endsWith("/second-factor-required")) this.onSecondFactorRequired();
      throw new ApiError(response.status, p.title ?? response.statusText, p.detail ?? "", p.field);
    }
    return parsed as T;
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>("GET", path);
  }

  /** A creating POST, with a fresh Idempotency-Key for this one action. */
  create<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>("POST", path, body, { idempotencyKey: crypto.randomUUID() });
  }
}

/** Sends a file to a presigned upload, reporting progress as a fraction 0..1. */
export function uploadFile(upload: Upload, file: File, onProgress: (fraction: number) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(upload.method, upload.url);
    let body: XMLHttpRequestBodyInit = file;
    if (upload.method === "POST") {
      const form = new FormData();
      for (const [k, v] of Object.entries(upload.fields ?? {})) form.append(k, v);
      form.append("file", file);
      body = form;
    } else {
      for (const [k, v] of Object.entries(upload.headers ?? {})) {
        // The browser sets these itself and refuses scripts that try.
        if (!["host", "content-length"].includes(k.toLowerCase())) xhr.setRequestHeader(k, v);
      }
    }
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) onProgress(e.loaded / e.total);
    };
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(1);
        resolve();
      } else {
        reject(new ApiError(xhr.status, "Upload failed", "The file could not be uploaded. Try again."));
      }
    };
    xhr.onerror = () => reject(new ApiError(0, "Upload failed", "The file could not be uploaded. Try again."));
    xhr.send(body);
  });
}
