import assert from "node:assert/strict";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { z } from "zod";
import { ConfigError, parseConfig, port } from "./config.ts";

const schema = z.object({ PORT: port(8080), SECRET: z.string().min(4) });

describe("parseConfig", () => {
  it("applies defaults, coerces and freezes", () => {
    const config = parseConfig(schema, { SECRET: "abcd" });
    assert.deepEqual(config, { PORT: 8080, SECRET: "abcd" });
    assert.ok(Object.isFrozen(config));
  });

  it("names every wrong variable in one message", () => {
    assert.throws(
      () => parseConfig(schema, { PORT: "99999", SECRET: "x" }),
      (err: Error) => err instanceof ConfigError && /PORT/.test(err.message) && /SECRET/.test(err.message),
    );
  });

  it("reads NAME_FILE for secrets mounted as files, and refuses both forms at once", async () => {
    const file = join(await mkdtemp(join(tmpdir(), "cfg-")), "secret");
    await writeFile(file, "from-a-file\n");
    assert.equal(parseConfig(schema, { SECRET_FILE: file }).SECRET, "from-a-file");
    assert.throws(() => parseConfig(schema, { SECRET_FILE: file, SECRET: "also" }), /not both/);
    assert.throws(() => parseConfig(schema, { SECRET_FILE: "/nonexistent/x" }), /cannot read/);
    // Other programs' *_FILE variables are not ours to read.
    assert.equal(
      parseConfig(schema, { SECRET: "abcd", SSL_CERT_FILE: "/nonexistent/ca.pem" }).SECRET,
      "abcd",
    );
  });
});
