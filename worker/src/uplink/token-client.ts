// Exchanges the worker's API key for a short-lived JWT at API_URL/v1/auth/token, and names each of
// the worker guide's 401 causes with its fix.

export interface IngestToken {
  readonly accessToken: string;
  /** Epoch ms at which the token expires. */
  readonly expiresAt: number;
  readonly ingestEndpoint: string;
}

/** The four causes of the guide's "401 Authentication Errors" section, and what the operator should do. */
export const AUTH_FAILURE_FIXES: Readonly<Record<string, string>> = {
  invalid_api_key:
    "Check API key: ensure the WORKER_API_KEY environment variable contains a valid key (copy it from the dashboard, or create a new one)",
  key_inactive: "Check key status: verify the key is active in the dashboard (API Keys)",
  key_expired:
    "Check expiration: ensure the key hasn't expired (extend it in the dashboard or create a new key)",
  tenant_mismatch: "Check tenant ID: ensure TENANT_ID matches the tenant the API key belongs to",
};

/** The API answered 401: the key itself is unusable until an operator acts. */
export class KeyRejected extends Error {
  readonly code: string;
  readonly fix: string;
  constructor(code: string, detail: string) {
    const fix = AUTH_FAILURE_FIXES[code] ?? "Check the API key and TENANT_ID in the dashboard";
    super(`401 ${code}: ${detail} ${fix}.`);
    this.name = "KeyRejected";
    this.code = code;
    this.fix = fix;
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
  };
}
