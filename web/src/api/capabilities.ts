/**
 * What this gateway offers beyond the routes every version has, read from its OpenAPI document
 * once per page load. The dashboard offers an option only when the server honours it: an erasure
 * checkbox that a server silently ignored would tell an admin that data was deleted when it was not.
 */
import { api } from "./instance.ts";

interface OpenApiParameter {
  name?: string;
  in?: string;
}
interface OpenApiDocument {
  paths?: Record<string, Record<string, { parameters?: OpenApiParameter[] } | undefined>>;
}

let document: Promise<OpenApiDocument | null> | null = null;

function openApi(): Promise<OpenApiDocument | null> {
  document ??= api.get<OpenApiDocument>("/v1/openapi.json").catch(() => {
    document = null;
    return null;
  });
  return document;
}

/** Whether `method path` takes the query parameter `name`. */
export async function acceptsQueryParameter(method: string, path: string, name: string): Promise<boolean> {
  const doc = await openApi();
  const parameters = doc?.paths?.[path]?.[method]?.parameters ?? [];
  return parameters.some((p) => p.in === "query" && p.name === name);
}

/** DELETE /v1/people/{id}?purgeSightings=true: the erasure that also deletes their observations. */
export const supportsPersonErasure = () =>
  acceptsQueryParameter("delete", "/v1/people/{id}", "purgeSightings");
