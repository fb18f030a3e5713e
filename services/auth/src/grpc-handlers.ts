/** Maps the AuthService contract onto accounts, sessions, signing keys and the keys service. */

import { setTimeout as sleep } from "node:timers/promises";
import {
  type Actor,
  ActorType,
  type AuditServiceClient,
} from "@facerec/proto/facerec/internal/audit/v1/audit.ts";
import {
  type AuthServiceServer,
  AuthServiceService,
  type Session,
} from "@facerec/proto/facerec/internal/auth/v1/auth.ts";
import type { KeysServiceClient } from "@facerec/proto/facerec/internal/keys/v1/keys.ts";
import { describeFailure } from "@facerec/proto/failure-codes.ts";
import { forgetBootstrapPassword } from "@facerec/shared/bootstrap-password.ts";
import { invalidArgument, notForApiKeys, permissionDenied, unauthenticated } from "@facerec/shared/errors.ts";
import { keyRefusalCode } from "@facerec/shared/failure-codes.ts";
import { callUnary } from "@facerec/shared/grpc/clients.ts";
import { unary } from "@facerec/shared/grpc/handlers.ts";
import type { ServiceBinding } from "@facerec/shared/grpc/server.ts";
import type { Logger } from "@facerec/shared/logger.ts";
import { roleFromProto } from "@facerec/shared/roles.ts";
import { type Accounts, toUser } from "./accounts.ts";
import type { AuthConfig } from "./config.ts";
import type { UserDoc } from "./models.ts";
import type { Sessions } from "./sessions.ts";
import type { SignInThrottle } from "./sign-in-throttle.ts";
import type { SigningKeys } from "./signing-keys.ts";

export function authBindings(opts: {
  config: AuthConfig;
  accounts: Accounts;
  sessions: Sessions;
  throttle: SignInThrottle;
  signingKeys: SigningKeys;
  keys: KeysServiceClient;
  audit: AuditServiceClient;
  log: Logger;
}): ServiceBinding[] {
  const { config, accounts, sessions, throttle, signingKeys, keys, audit, log } = opts;

  const sessionFor = async (
    user: UserDoc,
    session: { sessionId: string; refreshToken: string },
  ): Promise<Session> => ({
    accessToken: await signingKeys.sign(
      {
        sub: user._id,
        tid: user.tenantId,
        role: user.role,
        styp: "user",
        name: user.email,
        padm: user.platformAdmin ?? false,
        sid: session.sessionId,
      },
      config.ACCESS_TOKEN_TTL,
    ),
    expiresIn: config.ACCESS_TOKEN_TTL,
    refreshToken: session.refreshToken,
    refreshExpiresIn: sessions.ttlSeconds,
    user: toUser(user),
  });

  const recordSignIn = (user: UserDoc, action: string, req: { remoteAddress: string; userAgent: string }) =>
    callUnary(audit.recordAuditEvent.bind(audit), {
      event: {
        id: "",
        tenantId: user.tenantId,
        action,
        actor: {
          tenantId: user.tenantId,
          actorId: user._id,
          actorType: ActorType.ACTOR_TYPE_USER,
          displayName: user.email,
          remoteAddress: req.remoteAddress,
          userAgent: req.userAgent,
        },
        targetType: "user",
        targetId: user._id,
        changes: [],
        occurredAt: undefined,
      },
    });

  /** The ended session's access tokens stop working everywhere within a second, as a revoked key's do. */
  const revokeSession = async (ended: { userId: string; sessionId: string }) => {
    const user = await accounts.getUser(ended.userId).catch(() => undefined);
    if (user)
      await callUnary(keys.revokeSession.bind(keys), { sessionId: ended.sessionId, tenantId: user.tenantId });
  };

  /** Audits that an account's sign-ins are being throttled, with the address that tipped it. */
  const recordThrottled = async (email: string, req: { remoteAddress: string; userAgent: string }) => {
    // Unknown emails are throttled all the same, with nothing of a tenant to tell.
    for (const user of await accounts.findByEmail(email)) await recordThrottledFor(user, req);
  };
  const recordThrottledFor = async (user: UserDoc, req: { remoteAddress: string; userAgent: string }) => {
    await callUnary(audit.recordAuditEvent.bind(audit), {
      event: {
        id: "",
        tenantId: user.tenantId,
        action: "user.sign_in_throttled",
        actor: {
          tenantId: user.tenantId,
          actorId: "sign-in-throttle",
          actorType: ActorType.ACTOR_TYPE_SYSTEM,
          displayName: "sign-in throttle",
          remoteAddress: req.remoteAddress,
          userAgent: req.userAgent,
        },
        targetType: "user",
        targetId: user._id,
        changes: [],
        occurredAt: undefined,
      },
    });
  };

  const requirePlatformAdmin = async (actor: Actor | undefined) => {
    if (actor?.actorType !== ActorType.ACTOR_TYPE_USER)
      throw permissionDenied("only platform admins may manage tenants");
    await accounts.requirePlatformAdmin(actor.actorId);
    return actor;
  };

  const auth: AuthServiceServer = {
    login: unary(log, "Login", async (req) => {
      if (!req.email || !req.password)
        throw invalidArgument("invalid_credentials_format", "email and password are required");
      const email = req.email.trim().toLowerCase();
      await throttle.check(email, req.remoteAddress);
      const user = await accounts.authenticate(email, req.password, req.tenantId);
      if (!user) {
        log.info({ remoteAddress: req.remoteAddress }, "sign-in failed");
        if (await throttle.failed(email, req.remoteAddress)) await recordThrottled(email, req);
        throw unauthenticated("invalid_credentials", "email or password is wrong");
      }
      await throttle.succeeded(email);
      await recordSignIn(user, "user.signed_in", req);
      // The bootstrap admin has seen the generated password: `npm start` stops printing it.
      if (user.platformAdmin && user.email === config.BOOTSTRAP_ADMIN_EMAIL.toLowerCase())
        await forgetBootstrapPassword(config.DATA_DIR);
      return { session: await sessionFor(user, await sessions.open(user._id)) };
    }),
    refresh: unary(log, "Refresh", async (req) => {
      const rotated = await sessions.rotate(req.refreshToken, revokeSession);
      return { session: await sessionFor(await accounts.getUser(rotated.userId), rotated) };
    }),
    logout: unary(log, "Logout", async (req) => {
      const ended = req.refreshToken ? await sessions.close(req.refreshToken) : undefined;
      if (ended) await revokeSession(ended);
      return {};
    }),
    exchangeApiKey: unary(log, "ExchangeApiKey", async (req) => {
      const verdict = await callUnary(keys.verifyApiKey.bind(keys), {
        key: req.apiKey,
        tenantId: req.tenantId,
        remoteAddress: req.remoteAddress,
      });
      // The guide's 401 causes (and the address limit), each said with its fix.
      const refusal = keyRefusalCode(verdict.failure);
      if (refusal) throw unauthenticated(refusal, describeFailure(refusal));
      const key = verdict.apiKey!;
      // A token never outlives its key, nor the previous secret of a rotation it was exchanged from.
      const secondsUntil = (at: Date | undefined) =>
        at ? Math.floor((at.getTime() - Date.now()) / 1000) : Number.POSITIVE_INFINITY;
      const ttl = Math.max(
        1,
        Math.min(
          config.API_KEY_TOKEN_TTL,
          secondsUntil(key.expiresAt),
          secondsUntil(verdict.secretExpiresAt),
        ),
      );
      const role = roleFromProto(key.role);
      if (!role) throw unauthenticated("invalid_api_key", describeFailure("invalid_api_key"));
      // Right after a rotation or a change of limits, the key's earlier tokens are being revoked by
      // their `iat` second: wait for the next second so this token is not refused with them.
      if (verdict.issueAfter) {
        const nextSecond = (Math.floor(verdict.issueAfter.getTime() / 1000) + 1) * 1000;
        if (nextSecond > Date.now()) await sleep(nextSecond - Date.now());
      }
      const accessToken = await signingKeys.sign(
        {
          sub: key.id,
          tid: key.tenantId,
          role,
          styp: "api_key",
          name: key.name,
          ...(key.allowedSiteIds.length > 0 ? { sites: key.allowedSiteIds } : {}),
          ...(key.allowedWorkerIds.length > 0 ? { workers: key.allowedWorkerIds } : {}),
        },
        ttl,
      );
      return { accessToken, expiresIn: ttl, apiKey: key };
    }),
    getJwks: unary(log, "GetJwks", async () => ({ keys: await signingKeys.publicKeys() })),
    rotateSigningKey: unary(log, "RotateSigningKey", async (req) => {
      const actor = await requirePlatformAdmin(req.actor);
      // Audited before the key is stored: a failed audit (keys service down) rotates nothing.
      const { kid, activeFrom } = await signingKeys.rotate((newKid) =>
        callUnary(audit.recordAuditEvent.bind(audit), {
          event: {
            id: "",
            tenantId: actor.tenantId,
            action: "signing_key.rotated",
            actor,
            targetType: "signing_key",
            targetId: newKid,
            changes: [],
            occurredAt: undefined,
          },
        }),
      );
      return { kid, activeFrom };
    }),
    getUser: unary(log, "GetUser", async (req) => {
      const user = await accounts.getUser(req.id);
      if (user.tenantId !== req.actor?.tenantId) throw permissionDenied("user belongs to another tenant");
      return { user: toUser(user) };
    }),
    createTenant: unary(log, "CreateTenant", async (req) => {
      const actor = await requirePlatformAdmin(req.actor);
      // Audited before it is stored: a failed audit (keys service down) leaves no tenant behind.
      return accounts.createTenant(
        { id: req.id, name: req.name, adminEmail: req.adminEmail, adminPassword: req.adminPassword },
        () =>
          callUnary(audit.recordAuditEvent.bind(audit), {
            event: {
              id: "",
              tenantId: actor.tenantId,
              action: "tenant.created",
              actor,
              targetType: "tenant",
              targetId: req.id,
              changes: [],
              occurredAt: undefined,
            },
          }),
      );
    }),
    listTenants: unary(log, "ListTenants", async (req) => {
      await requirePlatformAdmin(req.actor);
      return { tenants: await accounts.listTenants() };
    }),
    createUser: unary(log, "CreateUser", async (req) => {
      const actor = req.actor;
      if (!actor?.tenantId) throw invalidArgument("missing_actor", "actor with tenant_id is required");
      // People are added by people: a leaked admin key must not be able to mint lasting human accounts.
      if (actor.actorType !== ActorType.ACTOR_TYPE_USER)
        throw notForApiKeys("API keys may not create users; sign in as an admin to add one");
      const role = roleFromProto(req.role);
      if (role !== "admin" && role !== "viewer")
        throw invalidArgument("invalid_role", "role must be admin or viewer");
      // Audited before it is stored: a failed audit (keys service down) leaves no user behind.
      const user = await accounts.createUser(
        { tenantId: actor.tenantId, email: req.email, password: req.password, role },
        (newUser) =>
          callUnary(audit.recordAuditEvent.bind(audit), {
            event: {
              id: "",
              tenantId: actor.tenantId,
              action: "user.created",
              actor,
              targetType: "user",
              targetId: newUser._id,
              changes: [
                { field: "email", oldValue: "", newValue: newUser.email },
                { field: "role", oldValue: "", newValue: role },
              ],
              occurredAt: undefined,
            },
          }),
      );
      return { user };
    }),
  };

  return [
    { name: "facerec.internal.auth.v1.AuthService", definition: AuthServiceService, implementation: auth },
  ];
}
