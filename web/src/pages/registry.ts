import type { Component } from "vue";
import type { IconName } from "../components/icons.ts";

/** A page of the signed-in dashboard: its route, its sidebar link and its heading. */
export interface DashboardPage {
  /** Route name, and the path under the dashboard ("/" + name). */
  name: string;
  /** Sidebar label, page heading and browser tab title. */
  title: string;
  icon: IconName;
  /** Loaded when first visited: every page is its own chunk. */
  component: () => Promise<Component>;
}

/**
 * Every page of the sidebar, in its order. The router and the sidebar are built from this list,
 * so adding a page is its file (and its store) plus one entry here.
 */
export const DASHBOARD_PAGES: readonly DashboardPage[] = [
  { name: "api-keys", title: "API Keys", icon: "key", component: () => import("./ApiKeysPage.vue") },
  { name: "workers", title: "Workers", icon: "server", component: () => import("./WorkersPage.vue") },
  { name: "events", title: "Events", icon: "camera", component: () => import("./EventsPage.vue") },
  { name: "audit-log", title: "Audit Log", icon: "log", component: () => import("./AuditLogPage.vue") },
];

/** Where "/" and a sign-in without a (valid) redirect lead. */
export const HOME_PAGE = DASHBOARD_PAGES[0]!;

export const pagePath = (page: DashboardPage): string => `/${page.name}`;
