// Container health checks, run by node inside the images (no curl or grpc_health_probe to ship):
//
//   node deploy/docker/healthcheck.ts http://127.0.0.1:8080/readyz        (2xx = healthy)
//   node deploy/docker/healthcheck.ts grpc://127.0.0.1:50062 [service]    (grpc.health.v1 SERVING)
//
// Exits 0 when healthy, 1 otherwise, within TIMEOUT_MS. Kubernetes uses its native httpGet and gRPC
// probes instead; this is for Docker's HEALTHCHECK and docker compose's depends_on.
import { credentials, makeGenericClientConstructor, type ServiceDefinition } from "@grpc/grpc-js";
import { service as healthService } from "grpc-health-check";

const TIMEOUT_MS = 3000;

interface HealthClient {
  check(
    request: { service: string },
    options: { deadline: number },
    callback: (err: Error | null, response?: { status: string | number }) => void,
  ): void;
  close(): void;
}

async function checkHttp(url: string): Promise<string | undefined> {
  const response = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS) });
  return response.ok ? undefined : `${url} answered ${response.status}`;
}

function checkGrpc(address: string, service: string): Promise<string | undefined> {
  const Client = makeGenericClientConstructor(healthService as unknown as ServiceDefinition, "Health");
  const client = new Client(address, credentials.createInsecure()) as unknown as HealthClient;
  return new Promise((resolve) => {
    client.check({ service }, { deadline: Date.now() + TIMEOUT_MS }, (err, response) => {
      client.close();
      if (err) resolve(`${address}: ${err.message}`);
      else if (response?.status === "SERVING" || response?.status === 1) resolve(undefined);
      else resolve(`${address}: ${service || "server"} is ${String(response?.status)}`);
    });
  });
}

export async function check(target: string, service = ""): Promise<string | undefined> {
  if (/^https?:\/\//.test(target)) return checkHttp(target);
  if (target.startsWith("grpc://")) return checkGrpc(target.slice("grpc://".length), service);
  return `unsupported target ${target} (expected http://… or grpc://host:port)`;
}

if (import.meta.main) {
  const [target, service] = process.argv.slice(2);
  if (!target) {
    console.error("usage: node deploy/docker/healthcheck.ts <http://…|grpc://host:port> [service]");
    process.exit(2);
  }
  const problem = await check(target, service).catch((err: unknown) => (err as Error).message);
  if (problem) console.error(`unhealthy: ${problem}`);
  process.exit(problem ? 1 : 0);
}
