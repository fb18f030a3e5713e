// The worker's configuration: the environment variables of the worker API key setup guide plus the
// worker's own, read once from the environment and a `.env` file, validated, and frozen. Nothing
// else in the worker reads process.env.
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { DEFAULT_MIN_FACE_PX } from "./detectors/detector.ts";
import { DETECTOR_TYPES } from "./detectors/index.ts";
import { DEFAULT_EMBEDDER_TYPE, EMBEDDER_TYPES } from "./embedders/index.ts";
import { readEnvFile } from "./env-file.ts";
import { THUMBNAIL_MODES, type ThumbnailMode } from "./thumbnails.ts";

export const WORKER_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

// The ingest contract allows ids of 1 to 64 characters of [A-Za-z0-9._-].
const id = z
  .string()
  .regex(/^[A-Za-z0-9._-]{1,64}$/, "must be 1-64 characters of letters, digits, '.', '_' or '-'");

const httpUrl = z
  .string()
  .url("must be a URL such as http://api.example.com:8080")
  .refine((u) => /^https?:$/.test(new URL(u).protocol), "must be an http:// or https:// URL");

const integer = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, "must be a whole number")
    .transform(Number)
    .pipe(z.number().int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));

const boolean = z
  .string()
  .transform((v) => v.trim().toLowerCase())
  .pipe(z.enum(["true", "false", "1", "0", "yes", "no"], { error: "must be true or false" }))
  .transform((v) => v === "true" || v === "1" || v === "yes");

const oneOf = <T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, { error: `must be one of ${values.join(", ")}` });

const schema = z.object({
  API_URL: httpUrl,
  WORKER_API_KEY: z.string().trim().min(1, "must be the API key created in the dashboard"),
  TENANT_ID: id,
  SITE_ID: id,
  USE_ENHANCED_WORKER: boolean.default(false),
  WORKER_ID: id.default(() =>
    os
      .hostname()
      .replace(/[^A-Za-z0-9._-]/g, "-")
      .slice(0, 64),
  ),
  WORKER_HTTP_PORT: integer(0, 65535).default(8090),
  DETECTOR_TYPE: oneOf(DETECTOR_TYPES).default("blazeface"),
  EMBEDDER_TYPE: oneOf(EMBEDDER_TYPES).default(DEFAULT_EMBEDDER_TYPE),
  MIN_FACE_PX: integer(8, 4096).default(DEFAULT_MIN_FACE_PX),
  THUMBNAILS: oneOf(THUMBNAIL_MODES).default("best"),
  THUMBNAIL_EVERY_MS: integer(0, 3_600_000).default(1000),
  WORKER_FPS: z
    .string()
    .regex(/^\d+(\.\d+)?$/, "must be a number of frames per second (0 = as fast as possible)")
    .transform(Number)
    .pipe(z.number().max(120, "must be at most 120"))
    .default(5),
  VIDEO_SOURCE: z
    .string()
    .trim()
    .min(1, "must be a file, folder, rtsp:// or http(s):// URL, or /dev/video device")
    .default("/dev/video0"),
  VIDEO_LOOP: boolean.default(false),
  CAMERA_ID: id.default("cam-1"),
  MODELS_DIR: z.string().trim().min(1).default(path.join(WORKER_DIR, "models")),
  INGEST_URL: z
    .string()
    .regex(
      /^([a-z]+:\/\/)?[^\s/:]+:\d+\/?$/,
      "must be host:port or a URL such as grpc://ingest.example.com:50051",
    )
    .optional(),
  LOG_LEVEL: oneOf(["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const).default("info"),
  BATCH_MAX_FACES: integer(1, 256).default(32),
  BATCH_MAX_MS: integer(1, 60_000).default(500),
  QUEUE_MAX_BYTES: integer(1024 * 1024, Number.MAX_SAFE_INTEGER).default(256 * 1024 * 1024),
  QUEUE_DIR: z.string().trim().min(1).default(path.join(WORKER_DIR, ".queue")),
});

type Parsed = z.output<typeof schema>;

export interface WorkerConfig {
  readonly apiUrl: string;
  readonly workerApiKey: string;
  readonly tenantId: string;
  readonly siteId: string;
  readonly useEnhancedWorker: boolean;
  readonly workerId: string;
  readonly workerHttpPort: number;
  readonly detectorType: Parsed["DETECTOR_TYPE"];
  readonly embedderType: Parsed["EMBEDDER_TYPE"];
  /**
   * Smallest face to find, in frame pixels. Smaller means more detector passes per frame
   * (BlazeFace scans tiles sized for it): 9 for 1280x720 at 24 px, 3 at 60 px.
   */
  readonly minFacePx: number;
  /** Which observations carry a JPEG crop of the face: see THUMBNAIL_MODES. */
  readonly thumbnails: ThumbnailMode;
  /** With THUMBNAILS=best in basic mode: at most one thumbnail per this many ms. */
  readonly thumbnailEveryMs: number;
  /** Frames per second to sample; 0 decodes as fast as possible. */
  readonly workerFps: number;
  readonly videoSource: string;
  /** Replay a file or image folder forever (a camera stand-in). */
  readonly videoLoop: boolean;
  readonly cameraId: string;
  readonly modelsDir: string;
  /** Overrides the `ingestEndpoint` of the token response when set. */
  readonly ingestUrl: string | undefined;
  readonly logLevel: Parsed["LOG_LEVEL"];
  readonly batchMaxFaces: number;
  readonly batchMaxMs: number;
  readonly queueMaxBytes: number;
  /** Where unacknowledged batches wait; survives restarts, so it must be on persistent storage. */
  readonly queueDir: string;
  /** Values of the `.env` file that dotenv cut at `#`: logged as warnings at start-up. */
  readonly envFileWarnings: readonly string[];
}

export class ConfigError extends Error {
  readonly code = "invalid_config";
  /** One line per wrong or missing variable, e.g. `TENANT_ID: is required`. */
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`invalid worker configuration:\n  ${problems.join("\n  ")}`);
    this.name = "ConfigError";
    this.problems = problems;
  }
}

export interface ConfigSources {
  /** Usually process.env; wins over the file. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** A dotenv file; absent files are fine. Defaults to worker/.env. */
  readonly envFile?: string;
}

export function loadConfig({ env, envFile = path.join(WORKER_DIR, ".env") }: ConfigSources): WorkerConfig {
  const file = readEnvFile(envFile);
  const merged: Record<string, string> = { ...file.values };
  for (const key of Object.keys(schema.shape)) {
    const value = env[key];
    // An empty variable counts as unset, as in most shells' `VAR=` lines.
    if (value !== undefined && value !== "") merged[key] = value;
    else if (merged[key] === "") delete merged[key];
  }
  const result = schema.safeParse(merged);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((issue) => {
        const key = String(issue.path[0] ?? "config");
        return `${key}: ${merged[key] === undefined ? "is required" : issue.message}`;
      }),
    );
  }
  const c = result.data;
  return Object.freeze({
    apiUrl: c.API_URL,
    workerApiKey: c.WORKER_API_KEY,
    tenantId: c.TENANT_ID,
    siteId: c.SITE_ID,
    useEnhancedWorker: c.USE_ENHANCED_WORKER,
    workerId: c.WORKER_ID,
    workerHttpPort: c.WORKER_HTTP_PORT,
    detectorType: c.DETECTOR_TYPE,
    embedderType: c.EMBEDDER_TYPE,
    minFacePx: c.MIN_FACE_PX,
    thumbnails: c.THUMBNAILS,
    thumbnailEveryMs: c.THUMBNAIL_EVERY_MS,
    workerFps: c.WORKER_FPS,
    videoSource: c.VIDEO_SOURCE,
    videoLoop: c.VIDEO_LOOP,
    cameraId: c.CAMERA_ID,
    modelsDir: path.resolve(WORKER_DIR, c.MODELS_DIR),
    ingestUrl: c.INGEST_URL,
    logLevel: c.LOG_LEVEL,
    batchMaxFaces: c.BATCH_MAX_FACES,
    batchMaxMs: c.BATCH_MAX_MS,
    queueMaxBytes: c.QUEUE_MAX_BYTES,
    queueDir: path.resolve(WORKER_DIR, c.QUEUE_DIR),
    envFileWarnings: file.warnings,
  });
}
