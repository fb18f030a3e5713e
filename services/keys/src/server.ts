/** Assembles the keys service from a database connection; used by main.ts and by tests. */
import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { connectDatabase } from "@facerec/shared/db/connect.ts";
import { startGrpcServer } from "@facerec/shared/grpc/server.ts";
import type { Logger } from "@facerec/shared/logger.ts";
import { repeat } from "@facerec/shared/repeat.ts";
import { ApiKeys } from "./api-keys.ts";
import { AuditLog } from "./audit-log.ts";
import type { KeysConfig } from "./config.ts";
import { keysBindings } from "./grpc-handlers.ts";
import { KeyUsage } from "./key-usage.ts";
import { keysModels } from "./models.ts";
import { RevocationHub } from "./revocation-hub.ts";

/** The pepper from API_KEY_PEPPER, or (development) a random one kept under DATA_DIR. */
async function loadPepper(config: KeysConfig, log: Logger): Promise<Buffer> {
  if (config.API_KEY_PEPPER) return Buffer.from(config.API_KEY_PEPPER);
  const file = join(config.DATA_DIR, "secrets", "api-key-pepper");
  try {
    return Buffer.from(await readFile(file, "utf8"), "base64");
  } catch {
    const pepper = randomBytes(32);
    await mkdir(join(config.DATA_DIR, "secrets"), { recursive: true });
    await writeFile(file, pepper.toString("base64"), { mode: 0o600, flag: "wx" }).catch(async () => {
      return; // another replica wrote it first; use theirs
    });
    log.warn(
      { file },
      "API_KEY_PEPPER is unset; using a generated pepper from DATA_DIR (set it in production)",
    );
    return Buffer.from(await readFile(file, "utf8"), "base64");
  }
}

/** How often keys nearing their expiration are looked for (they are announced days ahead), and old Idempotency-Keys swept. */
const EXPIRY_CHECK_MS = 60_000;

export async function startKeysService(config: KeysConfig, log: Logger) {
  const connection = await connectDatabase(config.MONGO_URL!, config.MONGO_DB);
  const models = await keysModels(connection);
  const hub = new RevocationHub({ models, log, pollMs: config.REVOCATION_POLL_MS });
  const audit = new AuditLog(models);
  const usage = new KeyUsage(models, log);
  const apiKeys = new ApiKeys({
    usage,
    models,
    audit,
    revocations: hub,
    pepper: await loadPepper(config, log),
    log,
  });
  const grpc = await startGrpcServer({
    host: config.BIND_HOST,
    port: config.KEYS_PORT,
    services: keysBindings({ apiKeys, audit, hub, log }),
    log,
  });
  hub.start();
  usage.start();
  const announcer = repeat(
    () =>
      Promise.all([
        apiKeys.announceExpiring().catch((err: unknown) => log.warn({ err }, "expiry announcement failed")),
        apiKeys
          .sweepCreationReplays()
          .catch((err: unknown) => log.warn({ err }, "idempotency-key sweep failed")),
      ]),
    { everyMs: EXPIRY_CHECK_MS, onError: () => {} },
  );
  return {
    port: grpc.port,
    async close() {
      await announcer.stop();
      await hub.stop();
      await grpc.close();
      await usage.stop();
      await connection.close();
    },
  };
}
