/**
 * CI's contract checks: `buf lint`; generated-code drift for both buf modules (proto/ → proto/gen,
 * worker/proto → worker/src/models/onnx-gen); and `buf breaking` against the last released contracts
 * (proto/releases/latest.binpb, written by `npm run proto:release`).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateContracts, RELEASED_CONTRACTS, ROOT } from "./generate-proto.ts";

const run = (cmd: string, args: string[], cwd = ROOT) => execFileSync(cmd, args, { cwd, stdio: "inherit" });

run("buf", ["lint"]);

/**
 * Regenerates a buf module's code into a scratch folder (`buf generate -o`) and fails when it
 * differs from the committed copy: someone edited generated code or forgot to regenerate.
 */
function checkDrift(
  moduleDir: string,
  generatedDir: string,
  regenerate: string,
  generate: (out: string) => void = (out) => {
    run("buf", ["generate", "-o", out], join(ROOT, moduleDir));
  },
): void {
  const scratch = mkdtempSync(join(tmpdir(), "proto-drift-"));
  try {
    generate(scratch);
    try {
      execFileSync("diff", ["-r", join(scratch, generatedDir), join(ROOT, moduleDir, generatedDir)], {
        stdio: "inherit",
      });
    } catch {
      console.error(
        `${join(moduleDir, generatedDir)} differs from a fresh \`buf generate\`: run \`${regenerate}\` and commit the result.`,
      );
      process.exit(1);
    }
    console.log(`${join(moduleDir, generatedDir)} matches a fresh generation`);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

checkDrift(".", "proto/gen", "npm run proto:generate", generateContracts);
// The worker's own module: the ONNX subset its model converter writes.
checkDrift("worker", "src/models/onnx-gen", "npm run onnx-proto:generate -w @facerec/worker");

// Against the contracts as last released (an image committed with the release), not against the
// tree itself: in CI's fresh clone, main is the commit under test.
run("buf", ["breaking", "--against", RELEASED_CONTRACTS]);
console.log(`buf breaking: no breaking change against ${RELEASED_CONTRACTS}`);
