import { getCurrentScope, onScopeDispose, type Ref, ref } from "vue";

/**
 * One shared clock for every relative time on screen, so "2 minutes ago" keeps counting without
 * each cell running its own timer. It ticks as often as its most demanding current user asks:
 * relative times need 10 s (they count seconds below a minute); a page of live data (Workers) asks
 * for every second while it is open.
 */
const now = ref(Date.now());
const intervals: number[] = [];
let timer: ReturnType<typeof setInterval> | undefined;
let tickingEvery = 0;

function retime(): void {
  const wanted = intervals.length > 0 ? Math.min(...intervals) : 0;
  if (wanted === tickingEvery) return;
  clearInterval(timer);
  tickingEvery = wanted;
  if (wanted === 0) return;
  now.value = Date.now();
  timer = setInterval(() => {
    now.value = Date.now();
  }, wanted);
}

export function useNow(tickMs = 10_000): Readonly<Ref<number>> {
  if (getCurrentScope()) {
    intervals.push(tickMs);
    retime();
    onScopeDispose(() => {
      intervals.splice(intervals.indexOf(tickMs), 1);
      retime();
    });
  }
  return now;
}
