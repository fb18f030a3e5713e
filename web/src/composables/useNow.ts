import { getCurrentScope, onScopeDispose, type Ref, ref } from "vue";

/**
 * One shared clock for every relative time on screen, so "2 minutes ago" keeps
 * counting without each cell running its own timer.
 */
const now = ref(Date.now());
let users = 0;
let timer: ReturnType<typeof setInterval> | undefined;

export function useNow(tickMs = 30_000): Readonly<Ref<number>> {
  if (getCurrentScope()) {
    users += 1;
    if (users === 1) {
      now.value = Date.now();
      timer = setInterval(() => {
        now.value = Date.now();
      }, tickMs);
    }
    onScopeDispose(() => {
      users -= 1;
      if (users === 0) clearInterval(timer);
    });
  }
  return now;
}
