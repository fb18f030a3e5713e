import { h, type VNode } from "vue";

/**
 * A data-table column title that can be reached with Tab. naive-ui sorts when its header
 * cell is clicked but the cell is not focusable; a button inside it receives Enter/Space
 * and its click bubbles to the cell, so keyboard users can sort too.
 */
export const sortableTitle = (label: string) => (): VNode =>
  h("button", { type: "button", class: "sortable-title", title: `Sort by ${label}` }, label);
