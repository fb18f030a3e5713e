/** Tenants and the people who sign in to them; bootstrap of the first tenant and platform admin. */

import { randomBytes } from "node:crypto";
import type { Tenant, User } from "@facerec/proto/facerec/internal/auth/v1/auth.ts";
import { isDuplicateKey } from "@facerec/shared/db/duplicate-key.ts";
import { AppError, invalidArgument, notFound, permissionDenied } from "@facerec/shared/errors.ts";
import type { Logger } from "@facerec/shared/logger.ts";
import { roleToProto } from "@facerec/shared/roles.ts";
import { status } from "@grpc/grpc-js";
import bcrypt from "bcrypt";
import type { AuthModels, TenantDoc, UserDoc } from "./models.ts";

/** Records a change before it is made; the change is made only if this resolves. */
export type Audit = (user: UserDoc) => Promise<unknown>;

interface NewUser {
  tenantId: string;
  email: string;
  password: string;
  role: "admin" | "viewer";
  platformAdmin: boolean;
}

const TENANT_ID = /^[a-z0-9][a-z0-9-]{1,38}[a-z0-9]$/;
const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,255}$/;
export const MIN_PASSWORD_LENGTH = 12;

export class Accounts {
  readonly #models: AuthModels;
  readonly #cost: number;
  readonly #log: Logger;
  /** Compared against when the email is unknown, so sign-in takes as long either way. */
  readonly #decoyHash: Promise<string>;

  constructor(opts: { models: AuthModels; bcryptCost: number; log: Logger }) {
    this.#models = opts.models;
    this.#cost = opts.bcryptCost;
    this.#log = opts.log;
    this.#decoyHash = bcrypt.hash(randomBytes(16).toString("hex"), this.#cost);
  }

  /**
   * Creates the first tenant and platform admin when there are no users yet. Returns the generated
   * password when one had to be made up, so it can be printed once.
   */
  async bootstrap(opts: { tenantId: string; email: string; password: string | undefined }) {
    if ((await this.#models.users.countDocuments()) > 0) return { created: false as const };
    const password = opts.password ?? randomBytes(12).toString("base64url");
    try {
      await this.#createTenant({ id: opts.tenantId, name: "Default tenant" });
      await this.#createUser({
        tenantId: opts.tenantId,
        email: opts.email,
        password,
        role: "admin",
        platformAdmin: true,
      });
    } catch (err) {
      if (isDuplicateKey(err)) return { created: false as const }; // another replica won
      throw err;
    }
    return { created: true as const, generatedPassword: opts.password ? undefined : password };
  }

  /**
   * The user if email and password match; undefined otherwise, in constant-ish time. An email may
   * have accounts in several tenants: the one whose password matches signs in, and `tenantId`
   * chooses when the same password opens more than one (otherwise FAILED_PRECONDITION
   * `tenant_required`: the caller has proved the password of each, so saying so discloses nothing).
   */
  async authenticate(email: string, password: string, tenantId = ""): Promise<UserDoc | undefined> {
    const filter = { email: email.trim().toLowerCase(), ...(tenantId ? { tenantId } : {}) };
    const accounts = await this.#models.users.find(filter).lean<UserDoc[]>();
    if (accounts.length === 0) {
      await bcrypt.compare(password, await this.#decoyHash);
      return undefined;
    }
    const matches = [];
    for (const user of accounts) if (await bcrypt.compare(password, user.passwordHash)) matches.push(user);
    if (matches.length > 1)
      throw new AppError(
        status.FAILED_PRECONDITION,
        "tenant_required",
        "this email has accounts in several tenants: sign in with tenantId",
      );
    return matches[0];
  }

  /** Every account of this (normalised) email, one per tenant at most. */
  findByEmail(email: string): Promise<UserDoc[]> {
    return this.#models.users.find({ email }).lean<UserDoc[]>();
  }

  async getUser(id: string): Promise<UserDoc> {
    const user = await this.#models.users.findById(id).lean<UserDoc>();
    if (!user) throw notFound(`user ${id} not found`);
    return user;
  }

  async requirePlatformAdmin(userId: string): Promise<void> {
    const user = await this.#models.users.findById(userId).lean<UserDoc>();
    if (!user?.platformAdmin) throw permissionDenied("only platform admins may manage tenants");
  }

  /**
   * Creates a tenant and its first admin. `audit` runs after validation and before anything is
   * stored: when it fails (the audit log is unavailable), nothing was created.
   */
  async createTenant(
    input: { id: string; name: string; adminEmail: string; adminPassword: string },
    audit: Audit,
  ) {
    if (!TENANT_ID.test(input.id))
      throw invalidArgument("invalid_tenant_id", "id must be 3 to 40 lower-case letters, digits and dashes");
    if (!input.name.trim() || input.name.length > 100)
      throw invalidArgument("invalid_name", "name must be 1 to 100 characters");
    // The admin's email is free: a new tenant has no users (and other tenants' do not count).
    const tenantExists = () =>
      new AppError(status.ALREADY_EXISTS, "tenant_exists", `tenant ${input.id} already exists`);
    if (await this.#models.tenants.exists({ _id: input.id })) throw tenantExists();
    const admin = await this.#newUser({
      tenantId: input.id,
      email: input.adminEmail,
      password: input.adminPassword,
      role: "admin",
      platformAdmin: false,
    });
    await audit(admin);
    const tenant = await this.#createTenant({ id: input.id, name: input.name.trim() }).catch(
      (err: { code?: number }) => {
        throw isDuplicateKey(err) ? tenantExists() : err;
      },
    );
    return { tenant: toTenant(tenant), admin: toUser(await this.#insertUser(admin)) };
  }

  /**
   * Adds a person to an existing tenant. `audit` runs after validation and before the user is
   * stored: when it fails (the audit log is unavailable), no user was created.
   */
  async createUser(
    input: { tenantId: string; email: string; password: string; role: "admin" | "viewer" },
    audit: Audit,
  ): Promise<User> {
    await this.#assertEmailFree(input.tenantId, input.email);
    const user = await this.#newUser({ ...input, platformAdmin: false });
    await audit(user);
    return toUser(await this.#insertUser(user));
  }

  async listTenants(): Promise<Tenant[]> {
    return (await this.#models.tenants.find().sort({ createdAt: 1 }).lean<TenantDoc[]>()).map(toTenant);
  }

  /** Refuses an email the tenant has a user with already (other tenants' users are not its business). */
  async #assertEmailFree(tenantId: string, email: string): Promise<void> {
    if (await this.#models.users.exists({ tenantId, email: email.trim().toLowerCase() })) {
      throw emailTaken();
    }
  }

  async #createTenant(input: { id: string; name: string }): Promise<TenantDoc> {
    const doc = await this.#models.tenants.create({ _id: input.id, name: input.name, createdAt: new Date() });
    return doc.toObject() as TenantDoc;
  }

  async #createUser(input: NewUser) {
    return this.#insertUser(await this.#newUser(input));
  }

  /** A validated user document with its password hashed, not yet stored. */
  async #newUser(input: NewUser): Promise<UserDoc> {
    const email = input.email.trim().toLowerCase();
    if (!EMAIL.test(email)) throw invalidArgument("invalid_email", "adminEmail is not an email address");
    if (input.password.length < MIN_PASSWORD_LENGTH || input.password.length > 200) {
      throw invalidArgument("weak_password", `password must be ${MIN_PASSWORD_LENGTH} to 200 characters`);
    }
    return {
      _id: crypto.randomUUID(),
      tenantId: input.tenantId,
      email,
      passwordHash: await bcrypt.hash(input.password, this.#cost),
      role: input.role,
      platformAdmin: input.platformAdmin,
      createdAt: new Date(),
    };
  }

  async #insertUser(user: UserDoc): Promise<UserDoc> {
    const doc = await this.#models.users.create(user).catch((err: { code?: number }) => {
      // Another request took the email between the check and the write.
      throw isDuplicateKey(err) ? emailTaken() : err;
    });
    this.#log.info({ userId: doc._id, tenantId: user.tenantId }, "user created");
    return doc.toObject() as UserDoc;
  }
}

const emailTaken = () =>
  new AppError(status.ALREADY_EXISTS, "email_taken", "this tenant has a user with this email already");

export function toUser(doc: UserDoc): User {
  return {
    id: doc._id,
    tenantId: doc.tenantId,
    email: doc.email,
    role: roleToProto(doc.role),
    platformAdmin: doc.platformAdmin ?? false,
    createdAt: doc.createdAt,
  };
}

function toTenant(doc: TenantDoc): Tenant {
  return { id: doc._id, name: doc.name, createdAt: doc.createdAt };
}
