/**
 * What the README promises integrators: `grpcurl -plaintext localhost:50062 list` (and `describe`)
 * works against every gRPC service of the running stack. Speaks the reflection protocol grpcurl
 * speaks (v1, then v1alpha) to the real processes, and runs the images' own grpc.health.v1 probe
 * (deploy/docker/healthcheck.ts) against each.
 */
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  credentials,
  type GrpcObject,
  loadPackageDefinition,
  type ServiceClientConstructor,
} from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { check as healthProbe } from "../../../../deploy/docker/healthcheck.ts";
import { startTestStack, type TestStack } from "../stack/test-stack.ts";

const require = createRequire(import.meta.url);
const reflectionProtos = join(dirname(require.resolve("@grpc/reflection/package.json")), "build/proto");

const definitions = loadPackageDefinition(
  loadSync(
    [
      join(reflectionProtos, "grpc/reflection/v1/reflection.proto"),
      join(reflectionProtos, "grpc/reflection/v1alpha/reflection.proto"),
    ],
    { keepCase: true },
  ),
);

function serviceClient(path: string, address: string) {
  let node: GrpcObject | ServiceClientConstructor = definitions;
  for (const part of path.split(".")) node = (node as GrpcObject)[part] as GrpcObject;
  return new (node as unknown as ServiceClientConstructor)(address, credentials.createInsecure());
}

interface ReflectionResponse {
  list_services_response?: { service: { name: string }[] };
  file_descriptor_response?: { file_descriptor_proto: Buffer[] };
  error_response?: { error_code: number; error_message: string };
}

/** One request on the bidirectional ServerReflectionInfo stream, as grpcurl sends it. */
function reflect(version: "v1" | "v1alpha", address: string, request: Record<string, string>) {
  const client = serviceClient(`grpc.reflection.${version}.ServerReflection`, address);
  return new Promise<ReflectionResponse>((resolve, reject) => {
    const call = (client as unknown as Record<string, () => NodeJS.ReadWriteStream>).ServerReflectionInfo!();
    call.on("data", (response: ReflectionResponse) => {
      resolve(response);
      call.end();
      client.close();
    });
    call.on("error", reject);
    call.write({ host: "", ...request } as unknown as string);
  });
}

describe("gRPC reflection and health on every service", () => {
  let t: TestStack;
  before(async () => {
    t = await startTestStack();
  });
  after(() => t.stop());

  const services = [
    ["keys", "facerec.keys.v1.KeysService"],
    ["auth", "facerec.auth.v1.AuthService"],
    ["ingest", "facerec.ingest.v1.IngestService"],
  ] as const;

  for (const [name, service] of services) {
    it(`${name}: lists ${service} (reflection v1 and v1alpha), describes it, and reports SERVING`, async () => {
      const address = `127.0.0.1:${t.stack.ports[name]}`;
      for (const version of ["v1", "v1alpha"] as const) {
        const listed = await reflect(version, address, { list_services: "" });
        const names = listed.list_services_response?.service.map((s) => s.name) ?? [];
        assert.ok(names.includes(service), `${version} list: ${names.join(", ")}`);
      }
      const described = await reflect("v1", address, { file_containing_symbol: service });
      const files = described.file_descriptor_response?.file_descriptor_proto ?? [];
      assert.ok(files.length > 0, JSON.stringify(described.error_response));
      // The descriptor carries the service's own name: grpcurl's `describe` prints from it.
      assert.ok(files.some((f) => f.includes(Buffer.from(service.split(".").at(-1)!))));
      assert.equal(await healthProbe(`grpc://${address}`, service), undefined, "the service is SERVING");
      assert.equal(await healthProbe(`grpc://${address}`), undefined, "the server is SERVING");
    });
  }

  it("answers an unknown symbol with a reflection error, not a broken stream", async () => {
    const answer = await reflect("v1", `127.0.0.1:${t.stack.ports.keys}`, {
      file_containing_symbol: "facerec.nope.v1.Nothing",
    });
    assert.ok(answer.error_response, JSON.stringify(answer));
    assert.equal(answer.error_response.error_code, 5); // NOT_FOUND
  });
});
