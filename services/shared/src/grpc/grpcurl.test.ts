/**
 * What the README promises integrators, checked with the real grpcurl against the real processes:
 * every gRPC server lists exactly the services it serves plus grpc.health.v1.Health, `describe`
 * resolves every service and every message they use (google.protobuf imports included), and calls
 * work through reflection alone — Health/Check and a StreamFaces stream. The images' own health
 * probe (deploy/docker/healthcheck.ts) runs against each server too.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { FaceBatch } from "@facerec/proto/facerec/ingest/v1/ingest.ts";
import { check as healthProbe } from "../../../../deploy/docker/healthcheck.ts";
import { startTestStack, type TestStack } from "../stack/test-stack.ts";
import { keyToken, makeBatch, makeObservation } from "../stack/test-worker.ts";
import { grpcurl, grpcurlBinary } from "../test-support/grpcurl.ts";
import { HEALTH_SERVICE } from "./reflection.ts";

/** grpcurl prints each response as one pretty-printed JSON object; responses here are flat. */
const responses = (out: string) => JSON.parse(`[${out.trim().replace(/\}\s*\{/g, "},{")}]`) as unknown[];

describe("grpcurl against every gRPC service, through reflection alone", () => {
  let t: TestStack;
  before(async () => {
    await grpcurlBinary();
    t = await startTestStack();
  });
  after(() => t?.stop());

  const servers = [
    ["keys", ["facerec.internal.audit.v1.AuditService", "facerec.internal.keys.v1.KeysService"]],
    ["auth", ["facerec.internal.auth.v1.AuthService"]],
    ["ingest", ["facerec.ingest.v1.IngestService"]],
    ["people", ["facerec.internal.people.v1.PeopleService", "facerec.internal.webhooks.v1.WebhooksService"]],
  ] as const;

  for (const [name, services] of servers) {
    it(`${name}: lists exactly ${services.join(", ")} and Health, describes every type they use, answers Health/Check`, async () => {
      const address = `127.0.0.1:${t.stack.ports[name]}`;
      const listed = (await grpcurl(["-plaintext", address, "list"])).trim().split("\n").sort();
      assert.deepEqual(listed, [...services, HEALTH_SERVICE].sort());

      // Describe each service, then every message reachable from it (method and field types).
      const pending: string[] = [...services, HEALTH_SERVICE];
      const described = new Set<string>();
      while (pending.length > 0) {
        const symbol = pending.pop()!;
        if (described.has(symbol)) continue;
        described.add(symbol);
        const text = await grpcurl(["-plaintext", address, "describe", symbol]);
        assert.match(
          text,
          new RegExp(`^${symbol.replaceAll(".", "\\.")} is an? (service|message|enum):`),
          text,
        );
        const declarations = text.replace(/\/\/.*$/gm, ""); // comments may hold URLs
        for (const [, type] of declarations.matchAll(/[\s(]\.((?:facerec|google|grpc)\.[\w.]+)/g))
          pending.push(type!);
      }
      // Every one of these contracts carries timestamps: the import that broke `describe` before.
      assert.ok(described.has("google.protobuf.Timestamp"), [...described].join(", "));

      const health = await grpcurl(["-plaintext", address, `${HEALTH_SERVICE}/Check`]);
      assert.deepEqual(JSON.parse(health), { status: "SERVING" });
      for (const service of services)
        assert.equal(await healthProbe(`grpc://${address}`, service), undefined, `${service} is SERVING`);
    });
  }

  it("streams StreamFaces through reflection alone: a batch, its replay and a malformed batch", async () => {
    const { token } = await keyToken(t, await t.login());
    const batch = makeBatch({ workerId: "w-grpcurl", observations: [makeObservation({})] });
    const malformed = makeBatch({
      workerId: "w-grpcurl",
      observations: [makeObservation({ detScore: 1.5 })],
    });
    const input = [batch, batch, malformed].map((b) => JSON.stringify(FaceBatch.toJSON(b))).join("\n");
    const out = await grpcurl(
      [
        "-plaintext",
        "-H",
        `authorization: Bearer ${token}`,
        "-d",
        "@",
        `127.0.0.1:${t.stack.ports.ingest}`,
        "facerec.ingest.v1.IngestService/StreamFaces",
      ],
      input,
    );
    const acks = responses(out) as {
      batchId: string;
      accepted?: number;
      duplicate?: boolean;
      rejected?: boolean;
    }[];
    assert.deepEqual(
      acks.map((a) => [a.batchId, a.accepted ?? 0, a.duplicate ?? false, a.rejected ?? false]),
      [
        [batch.batchId, 1, false, false],
        [batch.batchId, 0, true, false],
        [malformed.batchId, 0, false, true],
      ],
    );
  });

  it("answers an unknown symbol with an error, not a broken stream", async () => {
    await assert.rejects(
      grpcurl(["-plaintext", `127.0.0.1:${t.stack.ports.keys}`, "describe", "facerec.nope.v1.Nothing"]),
      /Symbol not found|not found/,
    );
  });
});
