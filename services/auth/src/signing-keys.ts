/**
 * Ed25519 signing keys kept in the database so every auth replica signs with the same keys and a
 * rotation on one replica is honoured everywhere: the newest active key signs (each replica re-reads
 * every RELOAD_MS), and the JWKS always comes straight from the database.
 *
 * A new key is published first and signs only ACTIVATION_LEAD_MS later. Verifiers fetch the JWKS
 * for an unknown `kid` at most once a second and refuse it at once otherwise (verifier.ts); with
 * the lead longer than that, any verifier's last fetch before the first token of the new key
 * already had the key, so no genuine token is refused.
 */

import type { JsonWebKey } from "@facerec/proto/facerec/internal/auth/v1/auth.ts";
import type { Logger } from "@facerec/shared/logger.ts";
import { type Repeating, repeat } from "@facerec/shared/repeat.ts";
import {
  TOKEN_ALGORITHM,
  TOKEN_AUDIENCE,
  TOKEN_ISSUER,
  type TokenClaims,
} from "@facerec/shared/tokens/claims.ts";
import { type CryptoKey, exportJWK, generateKeyPair, importJWK, type JWK, SignJWT } from "jose";
import type { AuthModels, SigningKeyDoc } from "./models.ts";

const RELOAD_MS = 10_000;
/** Between publishing a new key and signing with it: more than the verifiers' 1 s refetch interval. */
export const ACTIVATION_LEAD_MS = 2000;
/** A retired key stays published this long after its successor appeared: longer than any token lives. */
const RETIRED_KEY_PUBLISHED_MS = 2 * 60 * 60 * 1000;

export type TokenSubject = Omit<TokenClaims, "iss" | "aud" | "jti" | "iat" | "exp">;

export class SigningKeys {
  readonly #keys: AuthModels["signingKeys"];
  readonly #log: Logger;
  #current: { kid: string; key: CryptoKey } | undefined;
  /** The next key, published and not yet active, and when it takes over. */
  #next: { kid: string; activeFrom: number } | undefined;
  #reloading: Repeating | undefined;

  constructor(models: AuthModels, log: Logger) {
    this.#keys = models.signingKeys;
    this.#log = log;
  }

  async start(): Promise<void> {
    // The first key signs at once: no verifier can have fetched a key set before it.
    if ((await this.#keys.countDocuments()) === 0) await this.#create(Date.now());
    await this.#reload();
    this.#reloading = repeat(() => this.#reload(), {
      everyMs: RELOAD_MS,
      onError: (err) => this.#log.warn({ err }, "signing key reload failed"),
    });
  }

  /** Waits for a reload in flight. */
  async stop(): Promise<void> {
    await this.#reloading?.stop();
  }

  /**
   * Creates a new signing key: published now, signing from `activeFrom` on (ACTIVATION_LEAD_MS
   * later). `audit` runs with the new key's id before it is stored: when it fails, no key was made.
   */
  async rotate(audit?: (kid: string) => Promise<unknown>): Promise<{ kid: string; activeFrom: Date }> {
    const activeFrom = Date.now() + ACTIVATION_LEAD_MS;
    const kid = await this.#create(activeFrom, audit);
    return { kid, activeFrom: new Date(activeFrom) };
  }

  async #create(activeFrom: number, audit?: (kid: string) => Promise<unknown>): Promise<string> {
    const { privateKey, publicKey } = await generateKeyPair(TOKEN_ALGORITHM, {
      crv: "Ed25519",
      extractable: true,
    });
    const kid = crypto.randomUUID();
    const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: TOKEN_ALGORITHM, use: "sig" };
    await audit?.(kid);
    await this.#keys.create({
      _id: kid,
      privateJwk: await exportJWK(privateKey),
      publicJwk,
      createdAt: new Date(),
      activeFrom: new Date(activeFrom),
    });
    await this.#reload();
    return kid;
  }

  async sign(subject: TokenSubject, ttlSeconds: number): Promise<string> {
    if (!this.#current || (this.#next && Date.now() >= this.#next.activeFrom)) await this.#reload();
    const { kid, key } = this.#current!;
    return new SignJWT({ ...subject })
      .setProtectedHeader({ alg: TOKEN_ALGORITHM, kid, typ: "JWT" })
      .setIssuer(TOKEN_ISSUER)
      .setAudience(TOKEN_AUDIENCE)
      .setJti(crypto.randomUUID())
      .setIssuedAt()
      .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds)
      .sign(key);
  }

  async publicKeys(): Promise<JsonWebKey[]> {
    const rows = await this.#keys.find().sort({ createdAt: -1 }).lean<SigningKeyDoc[]>();
    const published = rows.filter(
      (_row, i) => i === 0 || Date.now() - rows[i - 1]!.createdAt.getTime() < RETIRED_KEY_PUBLISHED_MS,
    );
    return published.map((row) => {
      const jwk = row.publicJwk as JWK & { kid: string };
      return {
        kty: jwk.kty ?? "",
        crv: jwk.crv ?? "",
        x: jwk.x ?? "",
        kid: jwk.kid,
        alg: TOKEN_ALGORITHM,
        use: "sig",
      };
    });
  }

  async #reload(): Promise<void> {
    const rows = await this.#keys.find().sort({ createdAt: -1 }).limit(10).lean<SigningKeyDoc[]>();
    const activeFrom = (row: SigningKeyDoc) => (row.activeFrom ?? row.createdAt).getTime();
    const newest = rows.find((row) => activeFrom(row) <= Date.now());
    const next = rows[0] && rows[0] !== newest ? rows[0] : undefined;
    this.#next = next && { kid: next._id, activeFrom: activeFrom(next) };
    if (!newest) throw new Error("no signing key");
    if (this.#current?.kid === newest._id) return;
    this.#current = {
      kid: newest._id,
      key: (await importJWK(newest.privateJwk as JWK, TOKEN_ALGORITHM)) as CryptoKey,
    };
    this.#log.info({ kid: newest._id }, "signing with key");
  }
}
