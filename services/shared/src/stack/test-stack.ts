/**
 * Integration-test harness: the real stack (database, every service as its own process, real
 * ports) plus small REST helpers, so each test file reads as a specification.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RunningStack, startStack } from "./stack.ts";

export const ADMIN_EMAIL = "admin@localhost";
export const ADMIN_PASSWORD = "correct-horse-battery-staple";
export const TENANT = "t-default";

export interface ApiResponse<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
}

export interface TestStack {
  stack: RunningStack;
  url: string;
  /** The stack's database name on `stack.database.url`. */
  dbName: string;
  /** JSON request against the gateway; `token` adds a Bearer header. */
  api<T = Record<string, unknown>>(
    method: string,
    path: string,
    opts?: { token?: string; body?: unknown; headers?: Record<string, string> },
  ): Promise<ApiResponse<T>>;
  /** Signs in and returns the access token. */
  login(email?: string, password?: string): Promise<string>;
  /** Creates a key as `adminToken`'s caller and returns its id and plaintext. */
  createKey(
    adminToken: string,
    body: { name?: string; role: string; expiresAt?: string },
  ): Promise<{ id: string; key: string }>;
  /** Exchanges a key for a token; returns the raw response. */
  exchange(apiKey: string, tenantId?: string): Promise<ApiResponse>;
  /** Creates another tenant with its admin and returns the admin's token. */
  createTenant(id: string): Promise<string>;
  stop(): Promise<void>;
}

/**
 * Starts a stack on a database of its own, or, with `replicaOf`, a second replica of every service
 * on another stack's database (the horizontal-scale setup).
 */
export async function startTestStack(
  env: Record<string, string> = {},
  opts: { replicaOf?: TestStack; mongoUrl?: string } = {},
): Promise<TestStack> {
  const dataDir = await mkdtemp(join(tmpdir(), "facerec-stack-"));
  // A database of its own, so test files sharing a MONGO_URL never see each other's data.
  const dbName = opts.replicaOf?.dbName ?? `test_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
  const stack = await startStack({
    dataDir,
    mongoUrl: opts.replicaOf?.stack.database.url ?? opts.mongoUrl ?? process.env.MONGO_URL,
    mongoDb: dbName,
    env: { BOOTSTRAP_ADMIN_PASSWORD: ADMIN_PASSWORD, LOG_LEVEL: "info", ...env },
    onExit: (service, code) => console.error(`${service} exited unexpectedly with code ${code}`),
  });
  const url = stack.gatewayUrl;

  const api: TestStack["api"] = async (method, path, opts = {}) => {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    let body: string | undefined;
    if (opts.body !== undefined) {
      headers["content-type"] ??= "application/json";
      body = typeof opts.body === "string" ? opts.body : JSON.stringify(opts.body);
    }
    const response = await fetch(`${url}${path}`, {
      method,
      headers,
      body,
      signal: AbortSignal.timeout(15_000),
    });
    const text = await response.text();
    const type = response.headers.get("content-type") ?? "";
    return {
      status: response.status,
      headers: response.headers,
      body: (type.includes("json") && text ? JSON.parse(text) : text) as never,
    };
  };

  const login: TestStack["login"] = async (email = ADMIN_EMAIL, password = ADMIN_PASSWORD) => {
    const response = await api<{ accessToken: string }>("POST", "/v1/auth/login", {
      body: { email, password },
    });
    if (response.status !== 200)
      throw new Error(`login failed: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body.accessToken;
  };

  const createKey: TestStack["createKey"] = async (adminToken, body) => {
    const response = await api<{ apiKey: { id: string }; key: string }>("POST", "/v1/api-keys", {
      token: adminToken,
      body: { name: `key ${crypto.randomUUID().slice(0, 8)}`, ...body },
    });
    if (response.status !== 201)
      throw new Error(`create key failed: ${response.status} ${JSON.stringify(response.body)}`);
    return { id: response.body.apiKey.id, key: response.body.key };
  };

  const exchange: TestStack["exchange"] = (apiKey, tenantId = TENANT) =>
    api("POST", "/v1/auth/token", { body: { apiKey, tenantId } });

  const createTenant: TestStack["createTenant"] = async (id) => {
    const adminEmail = `admin@${id}.example`;
    const response = await api("POST", "/v1/tenants", {
      token: await login(),
      body: { id, name: `Tenant ${id}`, adminEmail, adminPassword: ADMIN_PASSWORD },
    });
    if (response.status !== 201)
      throw new Error(`create tenant failed: ${response.status} ${JSON.stringify(response.body)}`);
    return login(adminEmail, ADMIN_PASSWORD);
  };

  return {
    stack,
    url,
    dbName,
    api,
    login,
    createKey,
    exchange,
    createTenant,
    async stop() {
      await stack.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
