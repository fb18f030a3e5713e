/**
 * Whether a write failed on a unique index (`_id` or another). MongoDB and FerretDB's inserts say
 * so with code 11000; FerretDB 1.24's updates (findAndModify, update) report the SQLite constraint
 * under another code, "UNIQUE constraint failed" in the message.
 */
export function isDuplicateKey(err: unknown): boolean {
  const { code, message } = (err ?? {}) as { code?: unknown; message?: unknown };
  return code === 11000 || (typeof message === "string" && message.includes("UNIQUE constraint failed"));
}
