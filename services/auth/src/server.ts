/** Assembles the auth service; used by main.ts and by tests. */
import { AuditServiceClient } from "@facerec/proto/facerec/internal/audit/v1/audit.ts";
import { KeysServiceClient } from "@facerec/proto/facerec/internal/keys/v1/keys.ts";
import { saveBootstrapPassword } from "@facerec/shared/bootstrap-password.ts";
import { connectDatabase } from "@facerec/shared/db/connect.ts";
import { internalClient } from "@facerec/shared/grpc/clients.ts";
import { startGrpcServer } from "@facerec/shared/grpc/server.ts";
import type { Logger } from "@facerec/shared/logger.ts";
import { repeat } from "@facerec/shared/repeat.ts";
import { Accounts } from "./accounts.ts";
import type { AuthConfig } from "./config.ts";
import { authBindings } from "./grpc-handlers.ts";
import { authModels } from "./models.ts";
import { Sessions } from "./sessions.ts";
import { SignInThrottle } from "./sign-in-throttle.ts";
import { SigningKeys } from "./signing-keys.ts";

const SWEEP_MS = 60 * 60 * 1000;

export async function startAuthService(config: AuthConfig, log: Logger) {
  const connection = await connectDatabase(config.MONGO_URL!, config.MONGO_DB);
  const models = await authModels(connection);
  const accounts = new Accounts({ models, bcryptCost: config.BCRYPT_COST, log });
  const sessions = new Sessions(models, config.REFRESH_TOKEN_TTL);
  const throttle = new SignInThrottle(models);
  const signingKeys = new SigningKeys(models, log);
  await signingKeys.start();

  const bootstrap = await accounts.bootstrap({
    tenantId: config.BOOTSTRAP_TENANT_ID,
    email: config.BOOTSTRAP_ADMIN_EMAIL,
    password: config.BOOTSTRAP_ADMIN_PASSWORD,
  });
  if (bootstrap.created) {
    // Only its bcrypt hash is stored; a generated password waits in a 0600 file (never in a log line)
    // until the admin's first sign-in, and `npm start` prints it from there.
    const file = bootstrap.generatedPassword
      ? await saveBootstrapPassword(config.DATA_DIR, bootstrap.generatedPassword)
      : undefined;
    log.info(
      {
        tenantId: config.BOOTSTRAP_TENANT_ID,
        email: config.BOOTSTRAP_ADMIN_EMAIL,
        ...(file ? { file } : {}),
      },
      file
        ? "bootstrap admin created; its generated password is in the file until the first sign-in"
        : "bootstrap admin created",
    );
  }

  const keys = internalClient(KeysServiceClient, config.KEYS_ADDR);
  const audit = internalClient(AuditServiceClient, config.KEYS_ADDR);
  const grpc = await startGrpcServer({
    host: config.BIND_HOST,
    port: config.AUTH_PORT,
    services: authBindings({ config, accounts, sessions, throttle, signingKeys, keys, audit, log }),
    log,
  });
  const sweeper = repeat(() => Promise.all([sessions.sweep(), throttle.sweep()]), {
    everyMs: SWEEP_MS,
    onError: (err) => log.warn({ err }, "session sweep failed"),
  });
  return {
    port: grpc.port,
    signingKeys,
    async close() {
      await sweeper.stop();
      await signingKeys.stop();
      await grpc.close();
      keys.close();
      audit.close();
      await connection.close();
    },
  };
}
