/** The stack runner's check that every port it was given can be bound, before it starts anything. */
import { createServer } from "node:net";
import { portInUseMessage } from "../run-service.ts";

export class PortConflict extends Error {
  override name = "PortConflict";
}

/** Whether `port` can be listened on: tried on every interface, so a program on any of them counts. */
export function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen({ port, host: "0.0.0.0", exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/**
 * Throws a PortConflict whose message is the one line a user needs (`INGEST_INTERNAL_PORT=50052 is
 * in use; set it to a free port`) when a port is taken or two variables name the same one.
 */
export async function assertPortsFree(ports: Record<string, number>): Promise<void> {
  const byPort = new Map<number, string>();
  for (const [variable, port] of Object.entries(ports)) {
    const other = byPort.get(port);
    if (other)
      throw new PortConflict(`${other} and ${variable} are both ${port}; give each a port of its own`);
    byPort.set(port, variable);
  }
  const free = await Promise.all(Object.values(ports).map(portIsFree));
  const taken = Object.entries(ports).find((_, i) => !free[i]);
  if (taken) throw new PortConflict(portInUseMessage(taken[0], taken[1]));
}
