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
  { name: "sightings", title: "Sightings", icon: "eye", component: () => import("./SightingsPage.vue") },
  { name: "people", title: "People", icon: "people", component: () => import("./PeoplePage.vue") },
  { name: "api-keys", title: "API Keys", icon: "key", component: () => import("./ApiKeysPage.vue") },
  { name: "workers", title: "Workers", icon: "server", component: () => import("./WorkersPage.vue") },
  { name: "events", title: "Events", icon: "camera", component: () => import("./EventsPage.vue") },
  { name: "audit-log", title: "Audit Log", icon: "log", component: () => import("./AuditLogPage.vue") },
  {
    name: "settings-recognition",
    title: "Recognition",
    icon: "sliders",
    component: () => import("./RecognitionSettingsPage.vue"),
  },
  {
    name: "settings-webhooks",
    title: "Webhooks",
    icon: "send",
    component: () => import("./WebhooksPage.vue"),
  },
];

/** A page reached from another one (a person from People), not from the sidebar. */
export interface DetailPage {
  name: string;
  /** Under the dashboard, with its parameters (":id"). */
  path: string;
  /** The browser tab's title until the page knows better; the page sets its own heading. */
  title: string;
  /** The sidebar page it belongs to (highlighted while it is open). */
  parent: string;
  component: () => Promise<Component>;
}

export const DETAIL_PAGES: readonly DetailPage[] = [
  {
    name: "person",
    path: "people/:id",
    title: "Person",
    parent: "people",
    component: () => import("./PersonPage.vue"),
  },
];

/** Where "/" and a sign-in without a (valid) redirect lead: who was seen, the first thing people look at. */
export const HOME_PAGE = DASHBOARD_PAGES[0]!;

export const pagePath = (page: DashboardPage): string => `/${page.name}`;
