/**
 * Ed25519 signing keys kept in the database so every auth replica signs with the same keys and a
 * rotation on one replica is honoured everywhere: the newest key signs (each replica re-reads every
 * RELOAD_MS), and the JWKS always comes straight from the database so verifiers that see a new
 * `kid` can fetch it from any replica at once.
 */

import type { JsonWebKey } from "@facerec/proto/facerec/auth/v1/auth.ts";
import type { Logger } from "@facerec/shared/logger.ts";
import {
  TOKEN_ALGORITHM,
  TOKEN_AUDIENCE,
  TOKEN_ISSUER,
  type TokenClaims,
} from "@facerec/shared/tokens/claims.ts";
import { type CryptoKey, exportJWK, generateKeyPair, importJWK, type JWK, SignJWT } from "jose";
import type { AuthModels, SigningKeyDoc } from "./models.ts";

const RELOAD_MS = 10_000;
/** A retired key stays published this long after its successor appeared: longer than any token lives. */
const RETIRED_KEY_PUBLISHED_MS = 2 * 60 * 60 * 1000;

export type TokenSubject = Omit<TokenClaims, "iss" | "aud" | "jti" | "iat" | "exp">;

export class SigningKeys {
  readonly #keys: AuthModels["signingKeys"];
  readonly #log: Logger;
  #current: { kid: string; key: CryptoKey } | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(models: AuthModels, log: Logger) {
    this.#keys = models.signingKeys;
    this.#log = log;
  }

  async start(): Promise<void> {
    if ((await this.#keys.countDocuments()) === 0) await this.rotate();
    await this.#reload();
    this.#timer = setInterval(
      () => this.#reload().catch((err: unknown) => this.#log.warn({ err }, "signing key reload failed")),
      RELOAD_MS,
    );
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /**
   * Creates a new signing key and makes it current on this replica at once. `audit` runs with the
   * new key's id before it is stored: when it fails, no key was made.
   */
  async rotate(audit?: (kid: string) => Promise<unknown>): Promise<string> {
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
    });
    await this.#reload();
    return kid;
  }

  async sign(subject: TokenSubject, ttlSeconds: number): Promise<string> {
    if (!this.#current) await this.#reload();
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
    const newest = await this.#keys.findOne().sort({ createdAt: -1 }).lean<SigningKeyDoc>();
    if (!newest) throw new Error("no signing key");
    if (this.#current?.kid === newest._id) return;
    this.#current = {
      kid: newest._id,
      key: (await importJWK(newest.privateJwk as JWK, TOKEN_ALGORITHM)) as CryptoKey,
    };
    this.#log.info({ kid: newest._id }, "signing with key");
  }
}
