import type { ApiKeyRole } from "../api/types.ts";

export const API_KEY_ROLES: readonly ApiKeyRole[] = ["worker", "viewer", "admin"];

export const ROLE_DESCRIPTIONS: Record<ApiKeyRole, string> = {
  worker: "For an edge worker: exchanges the key for a token and streams face observations.",
  viewer: "Read-only access to keys, workers, events and the audit log.",
  admin: "Full control of this tenant, including creating and deleting API keys.",
};
