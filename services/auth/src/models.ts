/** The auth service's collections. Only this service reads or writes them. */
import { type Connection, type InferSchemaType, Schema } from "mongoose";

const tenantSchema = new Schema(
  {
    _id: { type: String, required: true },
    name: { type: String, required: true },
    createdAt: { type: Date, required: true },
  },
  { collection: "tenants", versionKey: false },
);

const userSchema = new Schema(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    email: { type: String, required: true },
    passwordHash: { type: String, required: true },
    role: { type: String, enum: ["admin", "viewer"], required: true },
    platformAdmin: { type: Boolean, default: false },
    createdAt: { type: Date, required: true },
  },
  { collection: "users", versionKey: false },
);
/**
 * An email is unique within its tenant only: unique across the platform, creating a user told a
 * tenant admin (409) that the address had an account in another tenant. Sign-in finds the email's
 * accounts through the second index.
 */
userSchema.index({ tenantId: 1, email: 1 }, { unique: true, name: "tenant_email_unique" });
userSchema.index({ email: 1 }, { name: "email_lookup" });
/** The platform-wide unique index of versions before; dropped at start-up. */
const OLD_UNIQUE_EMAIL_INDEX = "email_1";

/** Refresh tokens are stored by SHA-256 of their value; a family is one sign-in's chain of rotations. */
const refreshTokenSchema = new Schema(
  {
    _id: { type: String, required: true },
    familyId: { type: String, required: true },
    userId: { type: String, required: true },
    expiresAt: { type: Date, required: true },
    rotatedAt: { type: Date, default: null },
    revokedAt: { type: Date, default: null },
    createdAt: { type: Date, required: true },
  },
  { collection: "refresh_tokens", versionKey: false },
);
refreshTokenSchema.index({ familyId: 1 });
refreshTokenSchema.index({ expiresAt: 1 });

/** JWT signing keys (Ed25519 JWKs). The newest signs; older ones stay published until their tokens expire. */
const signingKeySchema = new Schema(
  {
    _id: { type: String, required: true },
    privateJwk: { type: Schema.Types.Mixed, required: true },
    publicJwk: { type: Schema.Types.Mixed, required: true },
    createdAt: { type: Date, required: true },
    /** When it starts signing (published from createdAt on); absent on keys made before: createdAt. */
    activeFrom: { type: Date },
  },
  { collection: "signing_keys", versionKey: false },
);
signingKeySchema.index({ createdAt: -1 });

/** Recent failed sign-ins per email (known or not, so throttling does not tell which exist). */
const signInFailureSchema = new Schema(
  {
    /** The normalised email. */
    _id: { type: String, required: true },
    failures: { type: Number, required: true },
    firstFailureAt: { type: Date, required: true },
    lockedUntil: { type: Date, default: null },
    /** Addresses that failed for this email in the window (at most 50): the lock applies to them. */
    addresses: { type: [String], default: [] },
  },
  { collection: "sign_in_failures", versionKey: false },
);
signInFailureSchema.index({ firstFailureAt: 1 });

export type TenantDoc = InferSchemaType<typeof tenantSchema> & { _id: string };
export type UserDoc = InferSchemaType<typeof userSchema> & { _id: string };
export type RefreshTokenDoc = InferSchemaType<typeof refreshTokenSchema> & { _id: string };
export type SignInFailureDoc = InferSchemaType<typeof signInFailureSchema> & { _id: string };
export type SigningKeyDoc = InferSchemaType<typeof signingKeySchema> & { _id: string };

export async function authModels(connection: Connection) {
  const models = {
    tenants: connection.model("Tenant", tenantSchema),
    users: connection.model("User", userSchema),
    refreshTokens: connection.model("RefreshToken", refreshTokenSchema),
    signingKeys: connection.model("SigningKey", signingKeySchema),
    signInFailures: connection.model("SignInFailure", signInFailureSchema),
  };
  await models.users.collection.dropIndex(OLD_UNIQUE_EMAIL_INDEX).catch(() => {}); // absent: nothing to do
  await Promise.all(Object.values(models).map((m) => m.createIndexes()));
  return models;
}

export type AuthModels = Awaited<ReturnType<typeof authModels>>;
