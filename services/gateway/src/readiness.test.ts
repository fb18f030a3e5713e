/** /readyz tells the truth about dependencies; CORS admits only the configured dashboard origin. */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { isDeepStrictEqual } from "node:util";
import { startTestStack, type TestStack } from "@facerec/shared/stack/test-stack.ts";
import { until } from "@facerec/shared/test-support/until.ts";

describe("readiness and CORS", () => {
  let t: TestStack;
  before(async () => {
    t = await startTestStack({ DASHBOARD_ORIGIN: "https://dashboard.example" });
  });
  after(() => t.stop());

  it("reports not ready while a dependency is down and ready again when it is back", async () => {
    assert.equal((await t.api("GET", "/readyz")).status, 200);
    // Without the keys service the ingest is not ready either: it accepts no token until its
    // revocation feed is back.
    const expected = {
      keys: { auth: true, keys: false, ingest: false, people: true },
      ingest: { auth: true, keys: true, ingest: false, people: true },
    };
    for (const service of ["keys", "ingest"] as const) {
      await t.stack.kill(service);
      await until(`/readyz answers 503 without ${service}`, async () => {
        const res = await t.api("GET", "/readyz");
        return res.status === 503 && isDeepStrictEqual(res.body.checks, expected[service]);
      });
      assert.equal((await t.api("GET", "/healthz")).status, 200, "liveness does not depend on others");
      await t.stack.start(service);
      await t.stack.waitUntilReady(20_000);
      assert.equal((await t.api("GET", "/readyz")).status, 200);
    }
  });

  it("answers CORS preflights for the dashboard origin only", async () => {
    const preflight = (origin: string) =>
      t.api("OPTIONS", "/v1/api-keys", { headers: { origin, "access-control-request-method": "POST" } });
    const allowed = await preflight("https://dashboard.example");
    assert.equal(allowed.headers.get("access-control-allow-origin"), "https://dashboard.example");
    assert.equal(allowed.headers.get("access-control-allow-credentials"), "true");
    const other = await preflight("https://evil.example");
    assert.notEqual(other.headers.get("access-control-allow-origin"), "https://evil.example");
  });
});
