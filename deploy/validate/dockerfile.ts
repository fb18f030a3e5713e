// A small Dockerfile reader for the checks CI can make without a Docker engine: stages, what each
// COPY takes from the build context or from another stage, and each stage's WORKDIR, USER,
// HEALTHCHECK and CMD. Not a full parser: enough for deploy/docker/Dockerfile's constructs.

export interface Instruction {
  readonly keyword: string;
  readonly args: string;
  readonly line: number;
}

export interface Copy {
  readonly from: string | undefined;
  readonly sources: readonly string[];
  readonly dest: string;
  readonly line: number;
}

export interface Stage {
  readonly name: string | undefined;
  /** The image or earlier stage it starts from, with build args substituted. */
  readonly base: string;
  readonly instructions: readonly Instruction[];
}

/** Joins continuation lines, drops comments and the parser directive, keeps line numbers. */
export function instructions(text: string): Instruction[] {
  const out: Instruction[] = [];
  let pending = "";
  let startLine = 0;
  text.split("\n").forEach((raw, index) => {
    const line = raw.trimEnd();
    if (!pending && (line.trim() === "" || line.trimStart().startsWith("#"))) return;
    if (pending && line.trimStart().startsWith("#")) return; // comments inside a continued RUN
    if (!pending) startLine = index + 1;
    if (line.endsWith("\\")) {
      pending += `${line.slice(0, -1)} `;
      return;
    }
    const full = (pending + line).trim();
    pending = "";
    const match = /^(\S+)\s*(.*)$/s.exec(full);
    if (match) out.push({ keyword: match[1]!.toUpperCase(), args: match[2]!, line: startLine });
  });
  return out;
}

export function stages(text: string): Stage[] {
  const all = instructions(text);
  const args = new Map<string, string>();
  const result: { name: string | undefined; base: string; instructions: Instruction[] }[] = [];
  for (const instruction of all) {
    if (instruction.keyword === "ARG" && result.length === 0) {
      const [name, value = ""] = instruction.args.split("=", 2);
      args.set(name!.trim(), value.trim());
      continue;
    }
    if (instruction.keyword === "FROM") {
      const [image = "", as, name] = instruction.args.split(/\s+/);
      const base = image.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a, b) => args.get(a ?? b) ?? "");
      result.push({ name: as?.toUpperCase() === "AS" ? name : undefined, base, instructions: [] });
      continue;
    }
    result.at(-1)?.instructions.push(instruction);
  }
  return result;
}

/** COPY/ADD flags and operands, JSON form or shell form. */
export function parseCopy(instruction: Instruction): Copy {
  let rest = instruction.args;
  let from: string | undefined;
  for (;;) {
    const flag = /^--([\w-]+)(?:=(\S+))?\s+/.exec(rest);
    if (!flag) break;
    if (flag[1] === "from") from = flag[2];
    rest = rest.slice(flag[0].length);
  }
  const operands = rest.startsWith("[") ? (JSON.parse(rest) as string[]) : rest.split(/\s+/).filter(Boolean);
  return { from, sources: operands.slice(0, -1), dest: operands.at(-1)!, line: instruction.line };
}

/** The chain of stages a target is built from, the target last. */
export function lineage(all: readonly Stage[], target: string): Stage[] {
  const chain: Stage[] = [];
  let current = all.find((s) => s.name === target);
  while (current) {
    chain.unshift(current);
    const base = current.base;
    current = all.find((s) => s.name === base);
  }
  return chain;
}

/** The last value of an instruction across a stage's lineage (WORKDIR, USER, CMD, HEALTHCHECK). */
export function effective(chain: readonly Stage[], keyword: string): Instruction | undefined {
  let found: Instruction | undefined;
  for (const stage of chain) for (const i of stage.instructions) if (i.keyword === keyword) found = i;
  return found;
}

/** `.dockerignore` patterns as a predicate on context-relative paths (a matched folder hides its contents). */
export function dockerignore(text: string): (path: string) => boolean {
  const rules = text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"))
    .map((pattern) => {
      const negate = pattern.startsWith("!");
      const body = (negate ? pattern.slice(1) : pattern).replace(/^\/+|\/+$/g, "");
      const source = body
        .split("/")
        .map((part) =>
          part === "**"
            ? "(?:.*)"
            : part
                .replace(/[.+^${}()|[\]\\]/g, "\\$&")
                .replace(/\*/g, "[^/]*")
                .replace(/\?/g, "[^/]"),
        )
        .join("/")
        .replace(/\(\?:\.\*\)\//g, "(?:.*/)?");
      return { negate, regex: new RegExp(`^${source}(?:/.*)?$`) };
    });
  return (path) => {
    let ignored = false;
    for (const rule of rules) if (rule.regex.test(path)) ignored = !rule.negate;
    return ignored;
  };
}
