import { type Ref, ref, watch } from "vue";

/**
 * A display choice the browser remembers (localStorage) between visits, e.g. relative or exact
 * times. Only one of `choices` is ever read back; anything else (or no storage) gives `fallback`.
 */
export function useStoredChoice<T extends string>(key: string, choices: readonly T[], fallback: T): Ref<T> {
  const read = (): T => {
    try {
      const stored = localStorage.getItem(key);
      return choices.find((c) => c === stored) ?? fallback;
    } catch {
      return fallback;
    }
  };
  const choice = ref(read()) as Ref<T>;
  watch(choice, (value) => {
    try {
      localStorage.setItem(key, value);
    } catch {
      // Storage disabled (private mode, policy): the choice lasts for this visit.
    }
  });
  return choice;
}
