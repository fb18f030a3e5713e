/**
 * A key's limits as the forms edit them: one text field per list, entries separated by commas,
 * spaces or new lines. The server validates each entry (400 with the offending field).
 */
import type { ApiKey, ApiKeyLimits } from "../api/types.ts";

export interface LimitTexts {
  sites: string;
  workers: string;
  cidrs: string;
}

export const splitList = (text: string): string[] => [...new Set(text.split(/[\s,]+/).filter(Boolean))];

export const limitTextsOf = (
  key?: Pick<ApiKey, "allowedSiteIds" | "allowedWorkerIds" | "allowedCidrs">,
): LimitTexts => ({
  sites: key?.allowedSiteIds.join(", ") ?? "",
  workers: key?.allowedWorkerIds.join(", ") ?? "",
  cidrs: key?.allowedCidrs.join(", ") ?? "",
});

/** All three lists (for create), or with `before`, only those that changed (for edit). */
export function limitsInput(texts: LimitTexts, before?: ApiKey): ApiKeyLimits {
  const lists = {
    allowedSiteIds: splitList(texts.sites),
    allowedWorkerIds: splitList(texts.workers),
    allowedCidrs: splitList(texts.cidrs),
  };
  const out: ApiKeyLimits = {};
  for (const field of ["allowedSiteIds", "allowedWorkerIds", "allowedCidrs"] as const) {
    const changed = !before || lists[field].join(",") !== before[field].join(",");
    if (changed && (before || lists[field].length > 0)) out[field] = lists[field];
  }
  return out;
}

/** One line for the table: "sites s-1, s-2 · workers w-1 · from 10.0.0.0/8", or "" when unlimited. */
export function limitsSummary(
  key: Pick<ApiKey, "allowedSiteIds" | "allowedWorkerIds" | "allowedCidrs">,
): string {
  return [
    key.allowedSiteIds.length ? `sites ${key.allowedSiteIds.join(", ")}` : "",
    key.allowedWorkerIds.length ? `workers ${key.allowedWorkerIds.join(", ")}` : "",
    key.allowedCidrs.length ? `from ${key.allowedCidrs.join(", ")}` : "",
  ]
    .filter(Boolean)
    .join(" · ");
}
