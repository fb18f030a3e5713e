import type { Directive } from "vue";

/**
 * Names the <input> elements inside a component for screen readers. naive-ui's date
 * pickers render their own inputs and forward no attributes to them, so neither
 * `<label for>` nor `aria-label` on the component reaches the field that gets focus.
 * A range picker has two inputs: pass two labels.
 */
function apply(el: HTMLElement, labels: string | string[]): void {
  const names = Array.isArray(labels) ? labels : [labels];
  el.querySelectorAll("input").forEach((input, i) => {
    input.setAttribute("aria-label", names[i] ?? names[0] ?? "");
  });
}

export const vInputLabel: Directive<HTMLElement, string | string[]> = {
  mounted: (el, binding) => apply(el, binding.value),
  updated: (el, binding) => apply(el, binding.value),
};
