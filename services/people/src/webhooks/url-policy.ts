/**
 * Which webhook URLs the platform will call. A webhook is a request the platform makes on an
 * admin's behalf, so a URL must not reach into the platform's own network (SSRF): https only, and
 * every address its host resolves to must be a public unicast one. The same check runs again at
 * each delivery, and the delivery connects to the very address that was checked, so a host that
 * resolves to a public address at creation and to 127.0.0.1 later (DNS rebinding) gets nothing.
 * WEBHOOK_ALLOW_PRIVATE=true (development, tests) lifts both rules.
 */
import { lookup as dnsLookup } from "node:dns/promises";
import { isIP } from "node:net";
import { AppError, invalidArgument } from "@facerec/shared/errors.ts";
import { status } from "@grpc/grpc-js";
// ipaddr.js (MIT, maintained, ~300M downloads a month) keeps the IANA special-purpose registries
// (loopback, RFC 1918, CGNAT, link-local, ULA, multicast, 6to4, NAT64, …) and unwraps IPv4-mapped
// IPv6; a hand-written range table is where SSRF filters usually leak.
import ipaddr from "ipaddr.js";

export const MAX_WEBHOOK_URL_LENGTH = 2048;

/** A resolved address the delivery may connect to. */
export interface CheckedAddress {
  address: string;
  family: 4 | 6;
}

export type LookupAll = (hostname: string) => Promise<CheckedAddress[]>;

const systemLookup: LookupAll = async (hostname) =>
  (await dnsLookup(hostname, { all: true, verbatim: true })).map((a) => ({
    address: a.address,
    family: a.family === 6 ? 6 : 4,
  }));

/** Refusals that are the URL's fault: 422 at the REST edge. */
export const urlNotAllowed = (message: string) =>
  new AppError(status.FAILED_PRECONDITION, "webhook_url_not_allowed", message);

/**
 * Whether an address is a public unicast one. ipaddr.process() turns IPv4-mapped IPv6
 * (::ffff:127.0.0.1) into the IPv4 address it carries; any range other than the default "unicast"
 * (private, loopback, linkLocal, uniqueLocal, unspecified, multicast, broadcast, carrierGradeNat,
 * reserved, 6to4, teredo, rfc6052, …) is refused.
 */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  return ipaddr.process(address).range() === "unicast";
}

export class WebhookUrlPolicy {
  readonly allowPrivate: boolean;
  readonly #lookup: LookupAll;

  constructor(opts: { allowPrivate: boolean; lookup?: LookupAll }) {
    this.allowPrivate = opts.allowPrivate;
    this.#lookup = opts.lookup ?? systemLookup;
  }

  /** Parses a URL an admin gave and checks it, resolving its host; the normalised URL when allowed. */
  async check(raw: string): Promise<string> {
    const url = this.parse(raw);
    await this.resolve(url);
    return url.href;
  }

  /** The URL's syntax and scheme, without resolving it. */
  parse(raw: string): URL {
    if (raw.length > MAX_WEBHOOK_URL_LENGTH)
      throw invalidArgument(
        "invalid_webhook_url",
        `url must be at most ${MAX_WEBHOOK_URL_LENGTH} characters`,
      );
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw invalidArgument("invalid_webhook_url", "url is not an absolute URL");
    }
    if (url.protocol !== "https:" && url.protocol !== "http:")
      throw invalidArgument("invalid_webhook_url", "url must be https (or http in development)");
    if (url.username || url.password)
      throw invalidArgument(
        "invalid_webhook_url",
        "url must not carry credentials; verify the signature instead",
      );
    if (url.protocol === "http:" && !this.allowPrivate)
      throw urlNotAllowed("url must be https (http is allowed only with WEBHOOK_ALLOW_PRIVATE=true)");
    url.hash = "";
    return url;
  }

  /**
   * The address to connect to for `url`: its host resolved now, refused when any of its addresses
   * is not public (a host answering one public and one private address is refused too).
   */
  async resolve(url: URL): Promise<CheckedAddress> {
    // URL keeps the brackets of an IPv6 literal.
    const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
    const literal = isIP(host);
    const addresses: CheckedAddress[] = literal
      ? [{ address: host, family: literal === 6 ? 6 : 4 }]
      : await this.#lookup(host).catch(() => {
          throw new AppError(
            status.FAILED_PRECONDITION,
            "webhook_host_not_found",
            `the host ${host} does not resolve`,
          );
        });
    if (addresses.length === 0)
      throw new AppError(
        status.FAILED_PRECONDITION,
        "webhook_host_not_found",
        `the host ${host} does not resolve`,
      );
    if (!this.allowPrivate) {
      const refused = addresses.find((a) => !isPublicAddress(a.address));
      if (refused)
        throw urlNotAllowed(
          `the host ${host} resolves to ${refused.address}, which is not a public address (loopback, private, link-local and the like are refused)`,
        );
    }
    return addresses[0]!;
  }
}
