import { Role } from "@facerec/proto/facerec/internal/keys/v1/keys.ts";
import type { RoleName } from "./tokens/claims.ts";

const TO_PROTO: Record<RoleName, Role> = {
  worker: Role.ROLE_WORKER,
  viewer: Role.ROLE_VIEWER,
  admin: Role.ROLE_ADMIN,
};

export function roleToProto(role: RoleName): Role {
  return TO_PROTO[role];
}

export function roleFromProto(role: Role): RoleName | undefined {
  return (Object.keys(TO_PROTO) as RoleName[]).find((name) => TO_PROTO[name] === role);
}
