import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import { generateKey, hashesEqual, hashKey, KEY_LENGTH, KEY_PREFIX, parseKey } from "./key-format.ts";

describe("API key format", () => {
  it("generates prefixed keys whose embedded id and checksum parse back", () => {
    const key = generateKey();
    assert.equal(key.plaintext.length, KEY_LENGTH);
    assert.ok(key.plaintext.startsWith(`${KEY_PREFIX}${key.id}`));
    assert.equal(key.displayPrefix, `${KEY_PREFIX}${key.id}`);
    assert.equal(parseKey(key.plaintext), key.id);
  });

  it("carries at least 160 bits of randomness in the secret", () => {
    // 32 base62 characters: 32 * log2(62) bits.
    assert.ok(32 * Math.log2(62) >= 160);
    const seen = new Set(Array.from({ length: 2000 }, () => generateKey().plaintext.slice(16, 48)));
    assert.equal(seen.size, 2000);
  });

  it("refuses any single-character typo through the checksum", () => {
    const { plaintext } = generateKey();
    for (let i = KEY_PREFIX.length; i < plaintext.length; i++) {
      const replacement = plaintext[i] === "a" ? "b" : "a";
      const typo = plaintext.slice(0, i) + replacement + plaintext.slice(i + 1);
      assert.equal(parseKey(typo), undefined, `typo at ${i} accepted`);
    }
  });

  it("refuses wrong prefixes, lengths and alphabets", () => {
    const { plaintext } = generateKey();
    for (const bad of [
      "",
      "frk_",
      plaintext.slice(1),
      `x${plaintext}`,
      `${plaintext}0`,
      plaintext.replace("frk_", "ghp_"),
      `${plaintext.slice(0, 20)}-${plaintext.slice(21)}`,
    ]) {
      assert.equal(parseKey(bad), undefined, bad);
    }
  });

  it("hashes with the pepper and compares in constant time", () => {
    const { plaintext } = generateKey();
    const pepper = randomBytes(32);
    assert.ok(hashesEqual(hashKey(plaintext, pepper), hashKey(plaintext, pepper)));
    assert.ok(!hashesEqual(hashKey(plaintext, pepper), hashKey(plaintext, randomBytes(32))));
    assert.ok(!hashesEqual(hashKey(plaintext, pepper), Buffer.alloc(16)));
  });
});
