/**
 * The API key format: `frk_` + 12-character id + 32-character secret + 6-character checksum, all
 * base62 (54 characters). The fixed `frk_` prefix lets secret scanners find leaked keys; the id
 * makes lookup a primary-key read; the secret carries ~190 bits of entropy; the CRC-32 checksum
 * lets malformed or mistyped keys be refused without touching the database.
 */
import { createHmac, randomInt, timingSafeEqual } from "node:crypto";
import { crc32 } from "node:zlib";

export const KEY_PREFIX = "frk_";
const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const ID_LENGTH = 12;
const SECRET_LENGTH = 32;
const CHECKSUM_LENGTH = 6;
export const KEY_LENGTH = KEY_PREFIX.length + ID_LENGTH + SECRET_LENGTH + CHECKSUM_LENGTH;
const KEY_PATTERN = new RegExp(
  `^${KEY_PREFIX}([0-9A-Za-z]{${ID_LENGTH}})([0-9A-Za-z]{${SECRET_LENGTH}})([0-9A-Za-z]{${CHECKSUM_LENGTH}})$`,
);
export const KEY_ID_PATTERN = new RegExp(`^[0-9A-Za-z]{${ID_LENGTH}}$`);

function randomBase62(length: number): string {
  let out = "";
  for (let i = 0; i < length; i++) out += ALPHABET[randomInt(ALPHABET.length)];
  return out;
}

function checksum(body: string): string {
  let n = crc32(body);
  let out = "";
  for (let i = 0; i < CHECKSUM_LENGTH; i++) {
    out = ALPHABET[n % 62] + out;
    n = Math.floor(n / 62);
  }
  return out;
}

export interface GeneratedKey {
  id: string;
  plaintext: string;
  /** What may be shown: the marker and the id, never any of the secret. */
  displayPrefix: string;
}

/** Assembles a key from its id and secret, appending the checksum. */
export function formatKey(id: string, secret: string): string {
  const body = `${KEY_PREFIX}${id}${secret}`;
  return body + checksum(body);
}

/** A new key; given an id, a new secret for that key (rotation). */
export function generateKey(id: string = randomBase62(ID_LENGTH)): GeneratedKey {
  return generatedKey(id, formatKey(id, randomBase62(SECRET_LENGTH)));
}

/** A key made earlier, from its id and plaintext (an idempotent creation finishing its first call's work). */
export function generatedKey(id: string, plaintext: string): GeneratedKey {
  return { id, plaintext, displayPrefix: `${KEY_PREFIX}${id}` };
}

/** The key's id if the key is well-formed and its checksum matches; undefined otherwise. */
export function parseKey(candidate: string): string | undefined {
  const match = KEY_PATTERN.exec(candidate);
  if (!match) return undefined;
  const body = candidate.slice(0, KEY_LENGTH - CHECKSUM_LENGTH);
  return checksum(body) === match[3] ? match[1] : undefined;
}

/** HMAC-SHA-256 of the whole key under the server-side pepper: a fast hash is right for random keys. */
export function hashKey(plaintext: string, pepper: Buffer): Buffer {
  return createHmac("sha256", pepper).update(plaintext).digest();
}

export function hashesEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
