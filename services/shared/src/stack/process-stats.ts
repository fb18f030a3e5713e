/** Memory of a service process, for tests and benchmarks that bound it (pids from RunningStack.pid). */
import { readFile } from "node:fs/promises";

/** Resident set size now and its peak (VmHWM), in bytes. */
export async function processMemory(pid: number): Promise<{ rss: number; peak: number }> {
  const text = await readFile(`/proc/${pid}/status`, "utf8");
  const kib = (field: string) =>
    Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? Number.NaN) * 1024;
  return { rss: kib("VmRSS"), peak: kib("VmHWM") };
}
