import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AppError } from "@facerec/shared/errors.ts";
import { isPublicAddress, type LookupAll, WebhookUrlPolicy } from "./url-policy.ts";

/** A resolver answering from a table, as DNS would (the policy under test is what matters here). */
const table =
  (answers: Record<string, string[]>): LookupAll =>
  async (host) => {
    const addresses = answers[host];
    if (!addresses) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: "ENOTFOUND" });
    return addresses.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
  };

async function refusal(run: () => Promise<unknown>): Promise<string> {
  try {
    await run();
  } catch (err) {
    assert.ok(err instanceof AppError, String(err));
    return err.code;
  }
  assert.fail("expected a refusal");
}

describe("webhook URL policy", () => {
  it("classifies loopback, private, link-local, ULA, unspecified, multicast and mapped addresses as not public", () => {
    for (const address of [
      "127.0.0.1",
      "127.3.4.5",
      "10.1.2.3",
      "172.16.0.1",
      "192.168.1.10",
      "169.254.169.254",
      "100.64.0.1",
      "0.0.0.0",
      "224.0.0.1",
      "255.255.255.255",
      "::1",
      "::",
      "fe80::1",
      "fc00::1",
      "fd12:3456::1",
      "ff02::1",
      "::ffff:127.0.0.1",
      "::ffff:10.0.0.1",
      "::ffff:169.254.169.254",
      "64:ff9b::a00:1",
    ])
      assert.equal(isPublicAddress(address), false, address);
    for (const address of ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8"])
      assert.equal(isPublicAddress(address), true, address);
  });

  it("accepts https URLs whose host resolves to public addresses only", async () => {
    const policy = new WebhookUrlPolicy({
      allowPrivate: false,
      lookup: table({ "hooks.example.com": ["93.184.216.34", "2606:2800:220:1::1"] }),
    });
    assert.equal(
      await policy.check("https://hooks.example.com/facerec#x"),
      "https://hooks.example.com/facerec",
    );
    assert.deepEqual(await policy.resolve(new URL("https://hooks.example.com/")), {
      address: "93.184.216.34",
      family: 4,
    });
  });

  it("refuses private targets, literal or resolved, and any host with one private answer", async () => {
    const policy = new WebhookUrlPolicy({
      allowPrivate: false,
      lookup: table({
        "localhost.example": ["127.0.0.1"],
        "mixed.example": ["93.184.216.34", "10.0.0.5"],
        "mapped.example": ["::ffff:192.168.0.1"],
      }),
    });
    for (const url of [
      "https://127.0.0.1/",
      "https://[::1]/",
      "https://[::ffff:127.0.0.1]:8443/",
      "https://169.254.169.254/latest/meta-data",
      "https://localhost.example/",
      "https://mixed.example/",
      "https://mapped.example/",
      "http://hooks.example.com/",
    ])
      assert.equal(await refusal(() => policy.check(url)), "webhook_url_not_allowed", url);
    assert.equal(await refusal(() => policy.check("https://nowhere.example/")), "webhook_host_not_found");
  });

  it("refuses what is not an https URL an integrator could mean", async () => {
    const policy = new WebhookUrlPolicy({ allowPrivate: true, lookup: table({}) });
    for (const url of [
      "not a url",
      "ftp://example.com/",
      "https://user:pw@example.com/",
      `https://a.example/${"x".repeat(2100)}`,
    ])
      assert.equal(await refusal(() => policy.check(url)), "invalid_webhook_url", url);
  });

  it("allows http and private hosts with WEBHOOK_ALLOW_PRIVATE", async () => {
    const policy = new WebhookUrlPolicy({ allowPrivate: true, lookup: table({ receiver: ["127.0.0.1"] }) });
    assert.equal(await policy.check("http://receiver:9000/hook"), "http://receiver:9000/hook");
    assert.equal(await policy.check("http://127.0.0.1:9000/"), "http://127.0.0.1:9000/");
  });
});
