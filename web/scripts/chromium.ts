// Debian's Chromium driven by playwright-core, with the flags this project's machines need
// (no sandbox as root, no GPU, no network chatter of its own). Used by the e2e tests and the
// screenshot tool; CHROMIUM_PATH points elsewhere. `extraArgs` adds flags (e.g. host resolver rules).
import { type Browser, chromium } from "playwright-core";

export function launchChromium(extraArgs: readonly string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env["CHROMIUM_PATH"] ?? "/usr/bin/chromium",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      ...extraArgs,
    ],
  });
}
