/**
 * Test side of `npm start`'s processes, read from /proc (Linux): which child runs which part of the
 * stack, and which processes still belong to a run (for "nothing left behind" checks).
 */
import { readdir, readFile } from "node:fs/promises";
import type { ProcessName } from "./stack.ts";

const read = (path: string) => readFile(path, "utf8").catch(() => "");

/** The runner's children by stack process name (the database, each service). */
export async function stackProcesses(runnerPid: number): Promise<Partial<Record<ProcessName, number>>> {
  const children = (await read(`/proc/${runnerPid}/task/${runnerPid}/children`)).split(" ").filter(Boolean);
  const found: Partial<Record<ProcessName, number>> = {};
  for (const pid of children.map(Number)) {
    const cmdline = (await read(`/proc/${pid}/cmdline`)).split("\0");
    if (cmdline[0]?.endsWith("ferretdb")) found.database = pid;
    const service = cmdline.map((arg) => /services\/(\w+)\/src\/main\.ts$/.exec(arg)?.[1]).find(Boolean);
    if (service) found[service as ProcessName] = pid;
  }
  return found;
}

/** Live processes whose command line or environment mentions `marker` (e.g. a run's DATA_DIR). */
export async function processesMentioning(marker: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir("/proc")) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    const stat = await read(`/proc/${pid}/stat`);
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    if (!stat || state === "Z") continue; // gone, or a zombie waiting for its parent
    const text = (await read(`/proc/${pid}/cmdline`)) + (await read(`/proc/${pid}/environ`));
    if (text.includes(marker)) pids.push(pid);
  }
  return pids;
}
