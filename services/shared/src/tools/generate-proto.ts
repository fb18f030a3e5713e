/**
 * `npm run proto:generate`: everything generated from the contracts, into `<root>/proto/gen`:
 *   - TypeScript (ts-proto, per buf.gen.yaml),
 *   - descriptors/facerec.binpb: the FileDescriptorSet of proto/ with its imports (`buf build`), which
 *     the services serve through gRPC reflection, so grpcurl sees the real files, names and imports,
 *   - descriptors/grpc-health.binpb: the same for grpc.health.v1 (the proto grpc-health-check ships).
 * check-proto.ts runs the same steps into a scratch folder to catch drift.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../../../../", import.meta.url));
export const DESCRIPTORS_DIR = join("proto", "gen", "descriptors");
/** The contracts as last released: what `buf breaking` compares against. */
export const RELEASED_CONTRACTS = join("proto", "releases", "latest.binpb");

export function generateContracts(outRoot = ROOT): void {
  const run = (args: string[]) => execFileSync("buf", args, { cwd: ROOT, stdio: "inherit" });
  run(outRoot === ROOT ? ["generate"] : ["generate", "-o", outRoot]);
  const descriptors = join(outRoot, DESCRIPTORS_DIR);
  mkdirSync(descriptors, { recursive: true });
  run(["build", "-o", join(descriptors, "facerec.binpb")]);
  run(["build", "node_modules/grpc-health-check/proto", "-o", join(descriptors, "grpc-health.binpb")]);
}

/** `npm run proto:release`: records the current contracts as the released ones. */
export function recordRelease(): void {
  execFileSync("buf", ["build", "-o", RELEASED_CONTRACTS], { cwd: ROOT, stdio: "inherit" });
}

if (import.meta.main) {
  if (process.argv[2] === "--release") recordRelease();
  else generateContracts();
}
