/**
 * A fetch that answers from handlers the test defines, and records every request.
 * Unit tests of the client and stores use it to play the gateway's side of the contract.
 */
export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Headers;
  body: unknown;
}

export type Handler = (req: RecordedRequest) => Response | Promise<Response>;

export function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}

export function problem(status: number, code: string, detail: string, extra: object = {}): Response {
  return new Response(
    JSON.stringify({ type: "about:blank", title: "Error", status, code, detail, ...extra }),
    {
      status,
      headers: { "content-type": "application/problem+json" },
    },
  );
}

export function createFakeFetch(routes: Record<string, Handler>) {
  const requests: RecordedRequest[] = [];
  const fetch = async (input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> => {
    const url = new URL(String(input), "http://dashboard.test");
    const req: RecordedRequest = {
      method: init.method ?? "GET",
      path: url.pathname,
      query: url.searchParams,
      headers: new Headers(init.headers),
      body: typeof init.body === "string" ? JSON.parse(init.body) : undefined,
    };
    requests.push(req);
    const handler = routes[`${req.method} ${req.path}`];
    if (!handler) return problem(404, "not_found", `No route ${req.method} ${req.path}`);
    return handler(req);
  };
  return { fetch: fetch as typeof globalThis.fetch, requests };
}

const sampleUser = {
  id: "u-1",
  tenantId: "t-acme",
  email: "admin@acme.test",
  role: "admin" as const,
  platformAdmin: false,
};

export const session = (accessToken: string) => ({
  accessToken,
  tokenType: "Bearer",
  expiresIn: 900,
  user: sampleUser,
});
