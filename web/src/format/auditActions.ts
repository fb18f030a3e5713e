import type { AuditChange } from "../api/types.ts";

/** Stable action codes from the audit log as words; unknown codes are shown as they are. */
const ACTION_LABELS: Record<string, string> = {
  "api_key.created": "API key created",
  "api_key.updated": "API key updated",
  "api_key.activated": "API key activated",
  "api_key.deactivated": "API key deactivated",
  "api_key.deleted": "API key deleted",
  "user.signed_in": "Signed in",
  "user.created": "User added",
  "tenant.created": "Tenant created",
  "signing_key.rotated": "Signing key rotated",
};

export const actionLabel = (action: string): string => ACTION_LABELS[action] ?? action;

/** The tag colour groups actions by how much attention they deserve. */
export function actionTone(action: string): "success" | "warning" | "error" | "info" | "default" {
  if (action.endsWith(".deleted") || action.endsWith(".deactivated")) return "error";
  if (action.endsWith(".created") || action.endsWith(".activated")) return "success";
  if (action.endsWith(".updated") || action.endsWith(".rotated")) return "warning";
  if (action === "user.signed_in") return "info";
  return "default";
}

const shown = (v: string) => (v === "" ? "∅" : v);

export const describeChange = (c: AuditChange): string =>
  `${c.field}: ${shown(c.oldValue)} → ${shown(c.newValue)}`;
