// Exchanges the worker's API key for a short-lived JWT at API_URL/v1/auth/token, and names each of
// the worker guide's 401 causes with its fix.

import { failureCodeEntry } from "@facerec/proto/failure-codes.ts";

export interface IngestToken {
  readonly accessToken: string;
  /** Epoch ms at which the token expires. */
  readonly expiresAt: number;
  readonly ingestEndpoint: string;
  /** Epoch ms at which the API key itself expires; undefined when it never does. */
  readonly keyExpiresAt: number | undefined;
}

/** From this close to its key's expiry on, the worker warns (once a day). */
export const KEY_EXPIRY_WARNING_MS = 7 * 24 * 60 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * The warning to log about the key's coming expiry, or undefined: none is due when the key does
 * not expire within KEY_EXPIRY_WARNING_MS, or when one was logged less than a day ago.
 */
export function keyExpiryWarning(
  keyExpiresAt: number | undefined,
  now: number,
  lastWarnedAt: number | undefined,
): string | undefined {
  if (keyExpiresAt === undefined || keyExpiresAt - now > KEY_EXPIRY_WARNING_MS) return undefined;
  if (lastWarnedAt !== undefined && now - lastWarnedAt < DAY_MS) return undefined;
  const days = Math.max(0, Math.ceil((keyExpiresAt - now) / DAY_MS));
  const when = days === 0 ? "today" : days === 1 ? "within a day" : `in ${days} days`;
  return `the API key expires ${when} (${new Date(keyExpiresAt).toISOString()}): extend it in the dashboard (API Keys), or create a new key and put it in WORKER_API_KEY`;
}

/** The API answered 401: the key itself is unusable until an operator acts. */
export class KeyRejected extends Error {
  readonly code: string;
  readonly fix: string;
  /** The server's own explanation, kept for /status; the log says the fix instead. */
  readonly detail: string;
  constructor(code: string, detail: string) {
    super(`401 ${code}: ${detail}`);
    this.name = "KeyRejected";
    this.code = code;
    this.detail = detail;
    // The platform's failure-code table says the fix: the guide's four 401 causes, the address limit.
    this.fix = failureCodeEntry(code)?.fix ?? "check the API key and TENANT_ID in the dashboard";
  }
}

/** The API could not be reached or answered something other than a token or a 401. */
export class ApiUnreachable extends Error {
  override name = "ApiUnreachable";
}

export async function exchangeApiKey(opts: {
  apiUrl: string;
  apiKey: string;
  tenantId: string;
  timeoutMs?: number;
}): Promise<IngestToken> {
  const url = new URL("/v1/auth/token", opts.apiUrl);
  let response: Response;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify({ apiKey: opts.apiKey, tenantId: opts.tenantId }),
      signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000),
    });
  } catch (err) {
    throw new ApiUnreachable(
      `cannot reach API_URL ${opts.apiUrl} (${(err as Error).cause ?? (err as Error).message}): check API_URL and that the worker can reach the API server`,
    );
  }
  const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  if (response.status === 401)
    throw new KeyRejected(String(body.code ?? "invalid_api_key"), String(body.detail ?? ""));
  if (!response.ok || typeof body.accessToken !== "string") {
    throw new ApiUnreachable(
      `API_URL ${opts.apiUrl} answered ${response.status} ${String(body.code ?? "")} to the token exchange`,
    );
  }
  return {
    accessToken: body.accessToken,
    expiresAt: Date.now() + Number(body.expiresIn) * 1000,
    ingestEndpoint: String(body.ingestEndpoint ?? ""),
    keyExpiresAt: typeof body.keyExpiresAt === "string" ? Date.parse(body.keyExpiresAt) : undefined,
  };
}
