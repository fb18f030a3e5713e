/**
 * Every relative link in every Markdown file of the repository resolves: the file exists, and a
 * `#fragment` names a heading of that file (GitHub's anchor rules). A README that points nowhere is
 * the first thing a newcomer trips on.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { describe, it } from "node:test";
import GithubSlugger from "github-slugger";

const ROOT = join(import.meta.dirname, "..", "..", "..", "..");

function markdownFiles(): string[] {
  return execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard", "*.md"], {
    cwd: ROOT,
    encoding: "utf8",
  })
    .split("\n")
    .filter((path) => path && existsSync(join(ROOT, path)));
}

/** Inline links and images, `[text](target "title")`, outside fenced code blocks and code spans. */
function linkTargets(markdown: string): string[] {
  const prose = markdown.replace(/^(```|~~~)[\s\S]*?^\1/gm, "").replace(/`[^`\n]*`/g, "");
  return [...prose.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]!);
}

function anchors(markdown: string): Set<string> {
  const slugger = new GithubSlugger();
  const prose = markdown.replace(/^(```|~~~)[\s\S]*?^\1/gm, "");
  return new Set(
    [...prose.matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)].map((m) => slugger.slug(m[1]!.replace(/`/g, ""))),
  );
}

const isExternal = (target: string) => /^[a-z][a-z0-9+.-]*:/i.test(target);

describe("Markdown links", () => {
  const files = markdownFiles();

  it("finds the READMEs", () => {
    assert.ok(files.includes("README.md") && files.includes("worker/README.md"), files.join(", "));
  });

  for (const file of files) {
    it(`every relative link in ${file} resolves`, () => {
      const source = readFileSync(join(ROOT, file), "utf8");
      const broken: string[] = [];
      for (const target of linkTargets(source)) {
        if (isExternal(target)) continue;
        const [path = "", fragment] = target.split("#");
        const resolved = path ? join(ROOT, dirname(file), decodeURIComponent(path)) : join(ROOT, file);
        if (relative(ROOT, resolved).startsWith("..")) {
          broken.push(`${target} (outside the repository)`);
        } else if (!existsSync(resolved)) {
          broken.push(`${target} (no such file)`);
        } else if (fragment && statSync(resolved).isFile() && resolved.endsWith(".md")) {
          if (!anchors(readFileSync(resolved, "utf8")).has(fragment))
            broken.push(`${target} (no such heading)`);
        }
      }
      assert.deepEqual(broken, [], `${file} has links that point nowhere`);
    });
  }
});
