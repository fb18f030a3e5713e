/**
 * `npm test`'s first step: says in one place what the machine lacks for the test suite, with the
 * command that installs it, instead of letting a test fail deep inside a child process.
 *
 * Run directly: `node services/shared/src/tools/preflight.ts`. Exit code 1 when anything is missing.
 */
import { execFile } from "node:child_process";
import { access, constants } from "node:fs/promises";
import { promisify } from "node:util";
import { ferretDbBinaryPath } from "../db/ferretdb.ts";

const run = promisify(execFile);

export interface Requirement {
  /** What the suite uses it for. */
  purpose: string;
  /** Debian package that provides it. */
  debianPackage: string;
  isPresent(): Promise<boolean>;
}

async function commandAnswers(command: string, args: string[]): Promise<boolean> {
  try {
    await run(command, args, { timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

async function fileExists(path: string, mode = constants.R_OK): Promise<boolean> {
  try {
    await access(path, mode);
    return true;
  } catch {
    return false;
  }
}

export const TEST_REQUIREMENTS: readonly Requirement[] = [
  {
    purpose: "ffmpeg: the worker's video source and the test videos",
    debianPackage: "ffmpeg",
    isPresent: () => commandAnswers("ffmpeg", ["-version"]),
  },
  {
    purpose: "Chromium: the dashboard's end-to-end tests and benchmark",
    debianPackage: "chromium",
    isPresent: () => fileExists(process.env.CHROMIUM_PATH ?? "/usr/bin/chromium", constants.X_OK),
  },
  {
    purpose: "python3-skimage: the public-domain astronaut photo used as a real test face",
    debianPackage: "python3-skimage",
    isPresent: () => fileExists("/usr/lib/python3/dist-packages/skimage/data/astronaut.png"),
  },
  {
    purpose: "Python 3 with venv: the Python client example built from the published contracts",
    debianPackage: "python3-venv",
    isPresent: () => commandAnswers("python3", ["-c", "import venv, ensurepip"]),
  },
  {
    purpose: "Go: builds the embedded database (FerretDB) once, when MONGO_URL is unset",
    debianPackage: "golang-go",
    isPresent: async () =>
      Boolean(process.env.MONGO_URL) ||
      (await fileExists(ferretDbBinaryPath(), constants.X_OK)) ||
      (await commandAnswers("go", ["version"])),
  },
];

/** The requirements that are missing, checked concurrently. */
export async function missingRequirements(requirements = TEST_REQUIREMENTS): Promise<Requirement[]> {
  const present = await Promise.all(requirements.map((r) => r.isPresent()));
  return requirements.filter((_, i) => !present[i]);
}

if (import.meta.main) {
  const missing = await missingRequirements();
  if (missing.length > 0) {
    const lines = missing.map((r) => `  - ${r.purpose}`);
    const packages = missing.map((r) => r.debianPackage).join(" ");
    console.error(
      [
        "The test suite needs programs this machine lacks:",
        ...lines,
        `Install them (Debian/Ubuntu): sudo apt-get update && sudo apt-get install -y ${packages}`,
      ].join("\n"),
    );
    process.exit(1);
  }
}
