/**
 * The generated password of the bootstrap admin, kept in a file under DATA_DIR (mode 0600) from the
 * start that created the admin until the admin first signs in, so it is never lost and never logged.
 * The auth service writes and deletes it; `npm start` prints it while it exists.
 */
import { mkdir, readFile, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";

export function bootstrapPasswordFile(dataDir: string): string {
  return join(dataDir, "secrets", "bootstrap-admin-password");
}

export async function saveBootstrapPassword(dataDir: string, password: string): Promise<string> {
  const file = bootstrapPasswordFile(dataDir);
  await mkdir(join(dataDir, "secrets"), { recursive: true, mode: 0o700 });
  await writeFile(file, `${password}\n`, { mode: 0o600 });
  return file;
}

/** The password while the admin has not signed in yet; undefined after. */
export async function readBootstrapPassword(dataDir: string): Promise<string | undefined> {
  return readFile(bootstrapPasswordFile(dataDir), "utf8").then(
    (text) => text.trim() || undefined,
    () => undefined,
  );
}

export async function forgetBootstrapPassword(dataDir: string): Promise<void> {
  await unlink(bootstrapPasswordFile(dataDir)).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== "ENOENT") throw err;
  });
}
