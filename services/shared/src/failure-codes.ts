/**
 * The services' side of the failure-code table (proto/failure-codes.ts): how internal verdicts
 * become its codes, in one place for every service that needs them.
 */
import { VerifyFailure } from "@facerec/proto/facerec/internal/keys/v1/keys.ts";
import type { FailureCode } from "@facerec/proto/failure-codes.ts";

/** Why the keys service refused a presented key, as the code a token exchange is refused with. */
const KEY_REFUSALS = {
  [VerifyFailure.VERIFY_FAILURE_INVALID_API_KEY]: "invalid_api_key",
  [VerifyFailure.VERIFY_FAILURE_KEY_INACTIVE]: "key_inactive",
  [VerifyFailure.VERIFY_FAILURE_KEY_EXPIRED]: "key_expired",
  [VerifyFailure.VERIFY_FAILURE_TENANT_MISMATCH]: "tenant_mismatch",
  [VerifyFailure.VERIFY_FAILURE_IP_NOT_ALLOWED]: "ip_not_allowed",
} as const satisfies Record<Exclude<VerifyFailure, 0 | -1>, FailureCode>;

export type KeyRefusalCode = (typeof KEY_REFUSALS)[keyof typeof KEY_REFUSALS];

/** The code of a verification failure; undefined when the key passed (VERIFY_FAILURE_UNSPECIFIED). */
export function keyRefusalCode(failure: VerifyFailure): KeyRefusalCode | undefined {
  return Object.hasOwn(KEY_REFUSALS, failure)
    ? KEY_REFUSALS[failure as keyof typeof KEY_REFUSALS]
    : undefined;
}
