/** proto3 JSON mapping: parsers accept both the lowerCamelCase JSON name and the original snake_case field name. */
const snakeToCamel = (key: string) => key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

export function camelCaseKeys(value: unknown): unknown {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [snakeToCamel(k), v]));
}
