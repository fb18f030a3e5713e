/**
 * A key's optional limits: the sites and workers its tokens may stream for, and the address ranges
 * its token exchanges may come from. Validated once here; checked on every exchange with node's
 * own BlockList (no hand-written CIDR arithmetic).
 */
import { BlockList, isIPv4, isIPv6 } from "node:net";
import type { FailureCode } from "@facerec/proto/failure-codes.ts";
import { invalidArgument } from "@facerec/shared/errors.ts";

/** The ingest contract's rule for `site_id` and `worker_id`. */
const NAME_ID = /^[A-Za-z0-9._-]{1,64}$/;
const MAX_ENTRIES = 100;

export interface KeyLimitLists {
  allowedSiteIds: string[];
  allowedWorkerIds: string[];
  allowedCidrs: string[];
}

function validIds(values: readonly string[], field: string, code: FailureCode): string[] {
  if (values.length > MAX_ENTRIES) throw invalidArgument(code, `${field}: at most ${MAX_ENTRIES} entries`);
  for (const v of values) {
    if (!NAME_ID.test(v))
      throw invalidArgument(code, `${field}: "${v}" is not 1 to 64 characters of [A-Za-z0-9._-]`);
  }
  return [...new Set(values)];
}

export const validSiteIds = (values: readonly string[]) =>
  validIds(values, "allowed_site_ids", "invalid_site_id");
export const validWorkerIds = (values: readonly string[]) =>
  validIds(values, "allowed_worker_ids", "invalid_worker_id");

/** An IPv4-mapped IPv6 address (`::ffff:10.1.2.3`, how dual-stack sockets report IPv4 peers) as IPv4. */
function plainAddress(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped ? mapped[1]! : address;
}

/** `10.0.0.0/8`, `2001:db8::/32`, or a single address (taken as /32 or /128), normalised to CIDR. */
function parseCidr(value: string): { network: string; prefix: number; family: "ipv4" | "ipv6" } | undefined {
  const [rawNetwork = "", rawPrefix, ...rest] = value.trim().split("/");
  if (rest.length > 0) return undefined;
  const network = plainAddress(rawNetwork);
  const family = isIPv4(network) ? "ipv4" : isIPv6(network) ? "ipv6" : undefined;
  if (!family) return undefined;
  const max = family === "ipv4" ? 32 : 128;
  if (rawPrefix !== undefined && !/^\d{1,3}$/.test(rawPrefix)) return undefined;
  const prefix = rawPrefix === undefined ? max : Number(rawPrefix);
  return prefix <= max ? { network, prefix, family } : undefined;
}

export function validCidrs(values: readonly string[]): string[] {
  if (values.length > MAX_ENTRIES)
    throw invalidArgument("invalid_cidr", `allowed_cidrs: at most ${MAX_ENTRIES} entries`);
  const out = values.map((v) => {
    const cidr = parseCidr(v);
    if (!cidr)
      throw invalidArgument(
        "invalid_cidr",
        `allowed_cidrs: "${v}" is not an address range such as 10.0.0.0/8 or 2001:db8::/32`,
      );
    return `${cidr.network}/${cidr.prefix}`;
  });
  return [...new Set(out)];
}

/** BlockLists by their stored CIDR list, so a busy key's exchanges do not rebuild theirs. */
const compiled = new Map<string, BlockList>();
const COMPILED_MAX = 10_000;

function blockListOf(cidrs: readonly string[]): BlockList {
  const cacheKey = cidrs.join(",");
  let list = compiled.get(cacheKey);
  if (!list) {
    list = new BlockList();
    for (const c of cidrs) {
      const cidr = parseCidr(c);
      if (cidr) list.addSubnet(cidr.network, cidr.prefix, cidr.family);
    }
    if (compiled.size >= COMPILED_MAX) compiled.clear();
    compiled.set(cacheKey, list);
  }
  return list;
}

/** Whether `address` may use a key limited to `cidrs`; a key without ranges allows any address. */
export function addressAllowed(cidrs: readonly string[], address: string): boolean {
  if (cidrs.length === 0) return true;
  const plain = plainAddress(address);
  const family = isIPv4(plain) ? "ipv4" : isIPv6(plain) ? "ipv6" : undefined;
  return family !== undefined && blockListOf(cidrs).check(plain, family);
}
