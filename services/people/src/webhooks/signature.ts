/**
 * Webhook signatures in Stripe's style: `Facerec-Signature: t=<unix seconds>,v1=<hex>` where the
 * hex is HMAC-SHA-256 of `<t>.<raw body>` under the webhook's secret (the whole `whsec_…` string,
 * as UTF-8). The timestamp is signed with the body, so a receiver that checks it against a
 * tolerance refuses replays of old deliveries. `verifySignature` is what a receiver runs; the
 * README shows the same steps for receivers written in other languages.
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

export const SIGNATURE_HEADER = "Facerec-Signature";
export const EVENT_ID_HEADER = "Facerec-Event-Id";
export const EVENT_TYPE_HEADER = "Facerec-Event-Type";
/** How far a receiver should let a signature's timestamp be from its clock, by default. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

/** A new signing secret: 32 random bytes, with a prefix secret scanners can find. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString("base64url")}`;
}

function hmacHex(secret: string, timestamp: number, body: string | Buffer): string {
  return createHmac("sha256", secret).update(`${timestamp}.`).update(body).digest("hex");
}

/** The Facerec-Signature header value for `body` sent at `timestamp` (unix seconds). */
export function signatureHeader(secret: string, body: string | Buffer, timestamp: number): string {
  return `t=${timestamp},v1=${hmacHex(secret, timestamp, body)}`;
}

/**
 * Whether `header` is a valid signature of `body` (the raw bytes received, before any JSON parsing)
 * under `secret`, made within `toleranceSeconds` of `nowSeconds`. Several v1 values are accepted
 * (any may match), so a sender may sign with two secrets while one replaces the other.
 */
export function verifySignature(
  header: string | undefined,
  body: string | Buffer,
  secret: string,
  opts: { toleranceSeconds?: number; nowSeconds?: number } = {},
): boolean {
  if (!header) return false;
  const parts = header.split(",").map((part) => part.trim().split("="));
  const timestamp = Number(parts.find(([k]) => k === "t")?.[1]);
  const signatures = parts.filter(([k, v]) => k === "v1" && v).map(([, v]) => v!);
  if (!Number.isSafeInteger(timestamp) || signatures.length === 0) return false;
  const now = opts.nowSeconds ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - timestamp) > (opts.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS)) return false;
  const expected = Buffer.from(hmacHex(secret, timestamp, body), "hex");
  return signatures.some((candidate) => {
    const given = Buffer.from(candidate, "hex");
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}
