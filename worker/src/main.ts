// `cd worker && npm start`: the edge worker (the guide's `python -m app.main`). Wires configuration
// -> models -> frame source -> pipeline -> sink, serves the operator endpoints, and on SIGTERM or
// SIGINT stops the source, lets the pipeline finish its frame, and flushes the sink.
import { ConfigError, loadConfig, type WorkerConfig } from "./config.ts";
import { openDetector } from "./detectors/index.ts";
import { embedderWarnings, openEmbedder } from "./embedders/index.ts";
import { startHttpServer } from "./http/server.ts";
import { createLogger, type Logger } from "./logger.ts";
import { runPipeline } from "./pipeline.ts";
import { openSource } from "./source/index.ts";
import { Telemetry } from "./telemetry.ts";
import { ThumbnailEncoder, ThumbnailPolicy } from "./thumbnails.ts";
import { FaceTracker } from "./tracking/tracker.ts";
import { DiskQueue } from "./uplink/disk-queue.ts";
import { Uplink } from "./uplink/uplink.ts";

/** The gRPC uplink: token exchange at API_URL, ingest stream, on-disk queue of unacked batches. */
async function createUplink(config: WorkerConfig, telemetry: Telemetry, log: Logger): Promise<Uplink> {
  const queue = await DiskQueue.open(config.queueDir, config.queueMaxBytes);
  const uplink = new Uplink({
    apiUrl: config.apiUrl,
    apiKey: config.workerApiKey,
    tenantId: config.tenantId,
    workerId: config.workerId,
    siteId: config.siteId,
    cameraId: config.cameraId,
    ingestUrl: config.ingestUrl,
    batchMaxFaces: config.batchMaxFaces,
    batchMaxMs: config.batchMaxMs,
    queue,
    telemetry,
    log,
  });
  // Delivers what an earlier run left queued even before the first frame is decoded.
  uplink.start();
  return uplink;
}

async function main(): Promise<void> {
  let config: WorkerConfig;
  try {
    config = loadConfig({ env: process.env });
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const log = createLogger({
    level: config.logLevel,
    base: { workerId: config.workerId, cameraId: config.cameraId },
  });
  const telemetry = new Telemetry();
  const http = await startHttpServer(config.workerHttpPort, telemetry);
  log.info({ port: http.port }, "operator endpoints on /healthz /readyz /metrics /status");

  for (const warning of config.envFileWarnings) log.warn(warning);
  for (const warning of embedderWarnings(config.embedderType)) log.warn(warning);
  const sink = await createUplink(config, telemetry, log);
  const [detector, embedder] = await Promise.all([
    openDetector(config.detectorType, config.modelsDir, { minFacePx: config.minFacePx }),
    openEmbedder(config.embedderType, config.modelsDir),
  ]);
  log.info(
    {
      detector: detector.model,
      embedder: embedder.model,
      enhanced: config.useEnhancedWorker,
      fps: config.workerFps,
    },
    "models loaded",
  );

  let sourceDown = false;
  const source = openSource(config.videoSource, config.workerFps, {
    loop: config.videoLoop,
    onConnect: (width, height) => {
      telemetry.clearError("source");
      const state = sourceDown ? "video source back" : "video source open";
      log.info({ source: config.videoSource, width, height }, `${state} (${width}x${height})`);
      sourceDown = false;
    },
    // One line when a live source drops, not one per failed reconnect (those are debug lines).
    onDisconnect: (error, delayMs) => {
      telemetry.recordError(error, "source");
      const retry = `reconnecting in ${(delayMs / 1000).toFixed(1)} s, backing off to every 30 s`;
      log[sourceDown ? "debug" : "warn"](
        { err: error.message, retryInMs: delayMs },
        `video source dropped: ${error.message}; ${retry}`,
      );
      sourceDown = true;
    },
  });

  let stopping = false;
  const stopDraining = new AbortController();
  const stop = (signal: string) => {
    if (stopping) {
      log.warn({ signal }, "second signal: exiting without flushing");
      process.exit(1);
    }
    stopping = true;
    log.info({ signal }, "stopping: finishing the current frame and flushing");
    source.stop();
    stopDraining.abort();
  };
  process.once("SIGTERM", () => stop("SIGTERM"));
  process.once("SIGINT", () => stop("SIGINT"));

  const thumbnails =
    config.thumbnails === "off"
      ? undefined
      : {
          policy: new ThumbnailPolicy(config.thumbnails, {
            enhanced: config.useEnhancedWorker,
            everyMs: config.thumbnailEveryMs,
          }),
          encoder: new ThumbnailEncoder(),
        };
  let exitCode = 0;
  try {
    await runPipeline({
      source,
      detector,
      embedder,
      sink,
      telemetry,
      ...(config.useEnhancedWorker ? { tracker: new FaceTracker() } : {}),
      ...(thumbnails ? { thumbnails } : {}),
    });
    if (!stopping) {
      // A file that ended: deliver everything before exiting, so a batch job's results are all
      // stored when the process ends. A signal interrupts this and leaves the rest on disk.
      log.info({ queued: telemetry.snapshot().queueDepth }, "video source ended; delivering what is queued");
      await sink.drain(stopDraining.signal);
    }
  } catch (error) {
    telemetry.recordError(error, "pipeline");
    log.error({ err: error }, "pipeline failed");
    exitCode = 1;
  } finally {
    await sink.close();
    await Promise.all([detector.close(), embedder.close(), thumbnails?.encoder.close()]);
    await http.close();
  }
  const { pipeline, queueDepth } = telemetry.snapshot();
  log.info({ frames: pipeline.frames, observations: pipeline.observations, queueDepth }, "worker stopped");
  process.exit(exitCode);
}

try {
  await main();
} catch (error) {
  // Start-up failures (a missing model, a busy port) end here with their own message.
  process.stderr.write(`worker failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
