import { onMounted, onUnmounted, type Ref, ref } from "vue";

/**
 * Runs `task` now and then every `intervalMs` while the component is mounted and the
 * tab is visible. Runs never overlap: a slow answer delays the next one instead of
 * stacking. The task reports its own errors (stores keep them in state); a rejection
 * here must not stop the polling.
 */
export function usePolling(
  task: () => Promise<unknown>,
  intervalMs: number,
): { lastRunAt: Ref<number | null> } {
  const lastRunAt = ref<number | null>(null);
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running = false;
  let stopped = false;

  async function tick(): Promise<void> {
    if (stopped || running) return;
    clearTimeout(timer);
    running = true;
    try {
      if (document.visibilityState !== "hidden") {
        await task();
        lastRunAt.value = Date.now();
      }
    } catch {
      // Reported by the task itself; keep polling so the page recovers on its own.
    } finally {
      running = false;
    }
    if (!stopped) timer = setTimeout(tick, intervalMs);
  }

  // Coming back to the tab shows fresh data at once rather than up to one interval late.
  const onVisibility = () => {
    if (document.visibilityState === "visible") void tick();
  };

  onMounted(() => {
    document.addEventListener("visibilitychange", onVisibility);
    void tick();
  });
  onUnmounted(() => {
    stopped = true;
    clearTimeout(timer);
    document.removeEventListener("visibilitychange", onVisibility);
  });
  return { lastRunAt };
}
