import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, it } from "node:test";
import { ConfigError, loadConfig } from "./config.ts";

const noFile = "/nonexistent/.env";
// The guide's "Example Configuration", verbatim.
const guideExample = {
  API_URL: "http://your-api-server:8080",
  WORKER_API_KEY: "abcd1234efgh5678ijkl9012mnop3456qrst7890uvwx",
  TENANT_ID: "t-your-tenant",
  SITE_ID: "s-1",
  USE_ENHANCED_WORKER: "true",
  WORKER_ID: "worker-001",
  WORKER_HTTP_PORT: "8090",
  DETECTOR_TYPE: "yunet",
  EMBEDDER_TYPE: "insightface",
  WORKER_FPS: "5",
};

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig({ env, envFile: noFile });
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return [...error.problems];
  }
  assert.fail("expected a ConfigError");
}

describe("worker configuration", () => {
  it("accepts the guide's example configuration and freezes the result", () => {
    const config = loadConfig({ env: guideExample, envFile: noFile });
    assert.equal(config.apiUrl, "http://your-api-server:8080");
    assert.equal(config.useEnhancedWorker, true);
    assert.equal(config.workerHttpPort, 8090);
    assert.equal(config.detectorType, "yunet");
    assert.equal(config.embedderType, "insightface");
    assert.equal(config.workerFps, 5);
    assert.ok(Object.isFrozen(config));
  });

  it("applies defaults for everything but the credentials and ids", () => {
    const { API_URL, WORKER_API_KEY, TENANT_ID, SITE_ID } = guideExample;
    const config = loadConfig({ env: { API_URL, WORKER_API_KEY, TENANT_ID, SITE_ID }, envFile: noFile });
    assert.equal(config.workerHttpPort, 8090);
    assert.equal(config.useEnhancedWorker, false);
    assert.equal(config.detectorType, "blazeface");
    assert.equal(config.batchMaxFaces, 32);
    assert.equal(config.ingestUrl, undefined);
    assert.match(config.modelsDir, /worker\/models$/);
    assert.equal(config.minFacePx, 24, "24-px faces in 720p frames are found");
    assert.equal(config.thumbnails, "best");
    assert.equal(config.thumbnailEveryMs, 1000);
  });

  it("reads MIN_FACE_PX, THUMBNAILS and THUMBNAIL_EVERY_MS, and explains wrong values", () => {
    const config = loadConfig({
      env: { ...guideExample, MIN_FACE_PX: "60", THUMBNAILS: "off", THUMBNAIL_EVERY_MS: "250" },
      envFile: noFile,
    });
    assert.deepEqual([config.minFacePx, config.thumbnails, config.thumbnailEveryMs], [60, "off", 250]);
    assert.deepEqual(problems({ ...guideExample, MIN_FACE_PX: "4", THUMBNAILS: "some" }), [
      "MIN_FACE_PX: must be at least 8",
      "THUMBNAILS: must be one of best, all, off",
    ]);
  });

  it("names every missing required variable, one line each", () => {
    assert.deepEqual(problems({}), [
      "API_URL: is required",
      "WORKER_API_KEY: is required",
      "TENANT_ID: is required",
      "SITE_ID: is required",
    ]);
  });

  it("explains each wrong value", () => {
    const found = problems({
      ...guideExample,
      API_URL: "ftp://api",
      TENANT_ID: "tenant with spaces",
      USE_ENHANCED_WORKER: "sometimes",
      WORKER_HTTP_PORT: "80000",
      DETECTOR_TYPE: "mtcnn",
      EMBEDDER_TYPE: "facenet",
      WORKER_FPS: "fast",
      BATCH_MAX_FACES: "1000",
      INGEST_URL: "not a url",
    });
    assert.deepEqual(found, [
      "API_URL: must be an http:// or https:// URL",
      "TENANT_ID: must be 1-64 characters of letters, digits, '.', '_' or '-'",
      "USE_ENHANCED_WORKER: must be true or false",
      "WORKER_HTTP_PORT: must be at most 65535",
      "DETECTOR_TYPE: must be one of yunet, blazeface",
      "EMBEDDER_TYPE: must be one of dlib, insightface, sface, mobilefacenet",
      "WORKER_FPS: must be a number of frames per second (0 = as fast as possible)",
      "INGEST_URL: must be host:port or a URL such as grpc://ingest.example.com:50051",
      "BATCH_MAX_FACES: must be at most 256",
    ]);
  });

  it("reads a .env file, with the environment taking precedence", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "worker-env-"));
    const envFile = path.join(dir, ".env");
    writeFileSync(
      envFile,
      "# from the guide\nWORKER_API_KEY=from-file\nTENANT_ID=t-file\nSITE_ID=s-1\nAPI_URL=http://file:8080\nWORKER_FPS=0\n",
    );
    const config = loadConfig({ env: { TENANT_ID: "t-env", WORKER_FPS: "" }, envFile });
    assert.equal(config.workerApiKey, "from-file");
    assert.equal(config.tenantId, "t-env");
    assert.equal(config.workerFps, 0, "an empty variable does not hide the file's value");
  });
});
