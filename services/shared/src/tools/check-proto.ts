/**
 * CI's contract checks: `buf lint`; generated-code drift for both buf modules (proto/ → proto/gen,
 * worker/proto → worker/src/models/onnx-gen); and `buf breaking` against main when the repository
 * has a main to compare with.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../../../", import.meta.url));
const run = (cmd: string, args: string[], cwd = ROOT) => execFileSync(cmd, args, { cwd, stdio: "inherit" });

run("buf", ["lint"]);

/**
 * Regenerates a buf module's code into a scratch folder (`buf generate -o`) and fails when it
 * differs from the committed copy: someone edited generated code or forgot to regenerate.
 */
function checkDrift(moduleDir: string, generatedDir: string, regenerate: string): void {
  const scratch = mkdtempSync(join(tmpdir(), "proto-drift-"));
  try {
    run("buf", ["generate", "-o", scratch], join(ROOT, moduleDir));
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

checkDrift(".", "proto/gen", "npm run proto:generate");
// The worker's own module: the ONNX subset its model converter writes.
checkDrift("worker", "src/models/onnx-gen", "npm run onnx-proto:generate -w @facerec/worker");

const refs = execFileSync(
  "git",
  ["for-each-ref", "--format=%(refname)", "refs/heads/main", "refs/remotes/origin/main"],
  { cwd: ROOT },
)
  .toString()
  .split("\n")
  .filter(Boolean);
const against = refs.includes("refs/remotes/origin/main")
  ? "origin/main"
  : refs.includes("refs/heads/main")
    ? "main"
    : undefined;
if (!against) {
  console.log("buf breaking: no main branch to compare against; skipped");
} else {
  run("buf", ["breaking", "--against", `.git#ref=${against},subdir=.`]);
  console.log(`buf breaking: no breaking change against ${against}`);
}
