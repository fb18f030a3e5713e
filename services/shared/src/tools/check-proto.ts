/**
 * CI's contract checks: `buf lint`; regenerates the TypeScript from proto/ into a scratch copy and
 * fails if it differs from the committed proto/gen (someone edited generated code or forgot to
 * regenerate); and `buf breaking` against main when the repository has a main to compare with.
 */
import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../../../", import.meta.url));
const run = (cmd: string, args: string[], cwd = ROOT) => execFileSync(cmd, args, { cwd, stdio: "inherit" });

run("buf", ["lint"]);

const scratch = mkdtempSync(join(tmpdir(), "proto-drift-"));
try {
  for (const file of ["buf.yaml", "buf.gen.yaml"]) cpSync(join(ROOT, file), join(scratch, file));
  cpSync(join(ROOT, "proto"), join(scratch, "proto"), {
    recursive: true,
    filter: (src) => !src.includes("/gen"),
  });
  run("buf", ["generate"], scratch);
  try {
    execFileSync("diff", ["-r", join(scratch, "proto", "gen"), join(ROOT, "proto", "gen")], {
      stdio: "inherit",
    });
  } catch {
    console.error(
      "proto/gen differs from a fresh `buf generate`: run `npm run proto:generate` and commit the result.",
    );
    process.exit(1);
  }
  console.log("proto/gen matches a fresh generation");
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

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
