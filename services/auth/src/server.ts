/** Assembles the auth service; used by main.ts and by tests. */
import { AuditServiceClient } from "@facerec/proto/facerec/audit/v1/audit.ts";
import { KeysServiceClient } from "@facerec/proto/facerec/keys/v1/keys.ts";
import { connectDatabase } from "@facerec/shared/db/connect.ts";
import { internalClient } from "@facerec/shared/grpc/clients.ts";
import { startGrpcServer } from "@facerec/shared/grpc/server.ts";
import type { Logger } from "@facerec/shared/logger.ts";
import { Accounts } from "./accounts.ts";
import type { AuthConfig } from "./config.ts";
import { authBindings } from "./grpc-handlers.ts";
import { authModels } from "./models.ts";
import { Sessions } from "./sessions.ts";
import { SigningKeys } from "./signing-keys.ts";

const SWEEP_MS = 60 * 60 * 1000;

export async function startAuthService(config: AuthConfig, log: Logger) {
  const connection = await connectDatabase(config.MONGO_URL!, config.MONGO_DB);
  const models = await authModels(connection);
  const accounts = new Accounts({ models, bcryptCost: config.BCRYPT_COST, log });
  const sessions = new Sessions(models, config.REFRESH_TOKEN_TTL);
  const signingKeys = new SigningKeys(models, log);
  await signingKeys.start();

  const bootstrap = await accounts.bootstrap({
    tenantId: config.BOOTSTRAP_TENANT_ID,
    email: config.BOOTSTRAP_ADMIN_EMAIL,
    password: config.BOOTSTRAP_ADMIN_PASSWORD,
  });
  if (bootstrap.created) {
    // Printed once, on the start that created the admin; only its bcrypt hash is kept.
    log.warn(
      {
        bootstrapTenantId: config.BOOTSTRAP_TENANT_ID,
        bootstrapEmail: config.BOOTSTRAP_ADMIN_EMAIL,
        generatedPassword: bootstrap.generatedPassword,
      },
      bootstrap.generatedPassword
        ? "bootstrap admin created with a generated password (shown only now)"
        : "bootstrap admin created",
    );
  }

  const keys = internalClient(KeysServiceClient, config.KEYS_ADDR);
  const audit = internalClient(AuditServiceClient, config.KEYS_ADDR);
  const grpc = await startGrpcServer({
    host: config.BIND_HOST,
    port: config.AUTH_PORT,
    services: authBindings({ config, accounts, sessions, signingKeys, keys, audit, log }),
    protoFiles: ["facerec/auth/v1/auth.proto"],
    log,
  });
  const sweeper = setInterval(
    () => sessions.sweep().catch((err: unknown) => log.warn({ err }, "session sweep failed")),
    SWEEP_MS,
  );
  return {
    port: grpc.port,
    signingKeys,
    async close() {
      clearInterval(sweeper);
      signingKeys.stop();
      await grpc.close();
      keys.close();
      audit.close();
      await connection.close();
    },
  };
}
