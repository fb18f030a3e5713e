/**
 * The enrolment dialog's detector in Debian's Chromium: MediaPipe Tasks' FaceDetector loads the
 * BlazeFace model with the metadata our build writes in (the registry's model without it is refused
 * with "requires NormalizationOptions metadata") and finds the astronaut's face. The wasm and the
 * model are the files the build emitted into web/dist, served from the page's own origin under a
 * Content-Security-Policy like the gateway's plus the 'wasm-unsafe-eval' WebAssembly needs.
 * Prints the bytes a browser downloads and how long the detector took to be ready.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Browser } from "playwright-core";
import { launchBrowser, report } from "./support.ts";

const WEB = join(import.meta.dirname, "..");
const DETECTOR_DIR = join(WEB, "dist", "assets", "face-detector");
const ASTRONAUT = "/usr/lib/python3/dist-packages/skimage/data/astronaut.png";
const REGISTRY_MODEL = join(
  import.meta.dirname,
  "..",
  "..",
  "node_modules",
  "@mediapipe",
  "face_detection",
  "face_detection_short_range.tflite",
);
const CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; img-src 'self' data: blob:";

const TYPES: Record<string, string> = {
  ".js": "text/javascript",
  ".mjs": "text/javascript",
  ".wasm": "application/wasm",
  ".png": "image/png",
  ".html": "text/html",
};

/** The page under test: the library's own ES module, then detection of one image. */
const PAGE = `<!doctype html><img id="photo" src="/astronaut.png"><script type="module" src="/probe.mjs"></script>`;
const probe = (wasmBase: string, model: string) => `
const params = new URLSearchParams(location.search);
const model = params.get("model") ?? ${JSON.stringify(model)};
import { FaceDetector, FilesetResolver } from "/vision_bundle.mjs";
const started = performance.now();
try {
  const fileset = await FilesetResolver.forVisionTasks(${JSON.stringify(wasmBase)});
  const detector = await FaceDetector.createFromOptions(fileset, {
    baseOptions: { modelAssetPath: model, delegate: "CPU" },
    runningMode: "IMAGE",
  });
  const readyMs = performance.now() - started;
  const photo = document.getElementById("photo");
  await photo.decode();
  const { detections } = detector.detect(photo);
  window.result = { readyMs, faces: detections.map((d) => ({ box: d.boundingBox, score: d.categories[0].score })) };
} catch (error) {
  window.result = { error: String(error?.message ?? error) };
}`;

function findFiles() {
  const files = readdirSync(DETECTOR_DIR, { recursive: true, encoding: "utf8" });
  const model = files.find((f) => f.endsWith(".tflite"));
  const wasmDir = files.find((f) => f.startsWith("tasks-vision-") && !f.includes("/"));
  assert.ok(model && wasmDir, `the build emitted the detector's files into ${DETECTOR_DIR}`);
  return { model: `/assets/face-detector/${model}`, wasmBase: `/assets/face-detector/${wasmDir}` };
}

function serve(routes: Map<string, () => Buffer | string>): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0]!;
    const body =
      routes.get(path) ??
      (path.startsWith("/assets/") ? () => readFileSync(join(WEB, "dist", path)) : undefined);
    if (!body) {
      res.statusCode = 404;
      return res.end();
    }
    try {
      const content = body();
      res.setHeader(
        "Content-Type",
        TYPES[path.slice(path.lastIndexOf("."))] ?? (path === "/" ? "text/html" : "application/octet-stream"),
      );
      res.setHeader("Content-Security-Policy", CSP);
      res.end(content);
    } catch {
      res.statusCode = 404;
      res.end();
    }
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

describe("the in-browser face detector", () => {
  let browser: Browser;
  let server: Server;
  let paths: { model: string; wasmBase: string };

  before(async () => {
    paths = findFiles();
    const visionBundle = join(
      import.meta.dirname,
      "..",
      "..",
      "node_modules",
      "@mediapipe",
      "tasks-vision",
      "vision_bundle.mjs",
    );
    server = await serve(
      new Map<string, () => Buffer | string>([
        ["/", () => PAGE],
        ["/probe.mjs", () => probe(paths.wasmBase, paths.model)],
        ["/vision_bundle.mjs", () => readFileSync(visionBundle)],
        ["/astronaut.png", () => readFileSync(ASTRONAUT)],
        ["/registry-model.tflite", () => readFileSync(REGISTRY_MODEL)],
      ]),
    );
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    server?.close();
  });

  it("loads the metadata-patched BlazeFace model and finds the astronaut's face", async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    const handle = await page.waitForFunction(
      () => (window as unknown as { result?: unknown }).result,
      null,
      {
        timeout: 30_000,
      },
    );
    const result = (await handle.jsonValue()) as {
      error?: string;
      readyMs: number;
      faces: { box: { originX: number; originY: number; width: number; height: number }; score: number }[];
    };
    assert.equal(result.error, undefined, `the detector failed: ${result.error}`);
    assert.deepEqual(errors, []);
    assert.equal(result.faces.length, 1, "one face in the astronaut photo");
    const [face] = result.faces;
    // Eileen Collins' face in skimage's 512×512 astronaut.png: about (175..275, 80..180).
    assert.ok(face!.score > 0.8, `score ${face!.score}`);
    assert.ok(Math.abs(face!.box.originX + face!.box.width / 2 - 225) < 25, JSON.stringify(face!.box));
    assert.ok(Math.abs(face!.box.originY + face!.box.height / 2 - 130) < 30, JSON.stringify(face!.box));
    assert.ok(face!.box.width > 60 && face!.box.width < 160, JSON.stringify(face!.box));

    const size = (p: string) => statSync(join(WEB, "dist", p)).size;
    const modelBytes = size(paths.model);
    const wasmBytes =
      size(`${paths.wasmBase}/vision_wasm_internal.wasm`) + size(`${paths.wasmBase}/vision_wasm_internal.js`);
    report(
      `face detector: ready in ${Math.round(result.readyMs)} ms (cold browser); downloads ${(wasmBytes / 1e6).toFixed(1)} MB wasm + loader and ${(modelBytes / 1e3).toFixed(0)} KB model`,
    );
    await page.close();
  });

  it("refuses the registry's model as shipped, without the metadata (why the build writes it)", async () => {
    const page = await browser.newPage();
    await page.goto(
      `http://127.0.0.1:${(server.address() as AddressInfo).port}/?model=/registry-model.tflite`,
    );
    const handle = await page.waitForFunction(
      () => (window as unknown as { result?: unknown }).result,
      null,
      {
        timeout: 30_000,
      },
    );
    const result = (await handle.jsonValue()) as { error?: string };
    assert.match(String(result.error), /requires specifying NormalizationOptions metadata/);
    await page.close();
  });
});
