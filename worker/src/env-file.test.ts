import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, it } from "node:test";
import { readEnvFile } from "./env-file.ts";

function envFile(text: string): string {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), "worker-env-")), ".env");
  writeFileSync(file, text);
  return file;
}

describe("the worker's .env file", () => {
  it("warns when dotenv cuts a value at '#', and says how to quote it", () => {
    const file = envFile("VIDEO_SOURCE=/videos/a.mp4#t=10\nSITE_ID=s-1\n");
    const { values, warnings } = readEnvFile(file);
    assert.equal(values.VIDEO_SOURCE, "/videos/a.mp4", "dotenv's reading, unchanged");
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /VIDEO_SOURCE was cut at "#"/);
    assert.match(warnings[0]!, /VIDEO_SOURCE="\/videos\/a\.mp4#t=10"/);
  });

  it("keeps quoted values whole and treats ' # ' as the comment it usually is", () => {
    const file = envFile(`A="x#y"\nB='x#y'\nC=x # a comment\n# D=commented#out\n`);
    const { values, warnings } = readEnvFile(file);
    assert.deepEqual(values, { A: "x#y", B: "x#y", C: "x" });
    assert.deepEqual(warnings, []);
  });

  it("reads a missing file as empty", () => {
    assert.deepEqual(readEnvFile("/nonexistent/.env"), { values: {}, warnings: [] });
  });
});
