import {
  createRouter,
  createWebHistory,
  type RouteLocationRaw,
  type RouteRecordRaw,
  type Router,
} from "vue-router";
import { api } from "./api/instance.ts";
import { DASHBOARD_PAGES, DETAIL_PAGES, HOME_PAGE, pagePath } from "./pages/registry.ts";
import { useAuthStore } from "./stores/auth.ts";

declare module "vue-router" {
  interface RouteMeta {
    /** Shown as the page heading and in the browser tab. */
    title?: string;
    /** Reachable without a session. */
    public?: boolean;
    /** The sidebar page a detail page belongs to. */
    parent?: string;
  }
}

const routes: RouteRecordRaw[] = [
  {
    path: "/sign-in",
    name: "sign-in",
    component: () => import("./pages/SignInPage.vue"),
    meta: { title: "Sign in", public: true },
  },
  {
    path: "/",
    component: () => import("./layouts/DashboardLayout.vue"),
    children: [
      { path: "", redirect: { name: HOME_PAGE.name } },
      ...DASHBOARD_PAGES.map((page) => ({
        path: page.name,
        name: page.name,
        component: page.component,
        meta: { title: page.title },
      })),
      ...DETAIL_PAGES.map((page) => ({
        path: page.path,
        name: page.name,
        component: page.component,
        meta: { title: page.title, parent: page.parent },
      })),
      {
        path: ":pathMatch(.*)*",
        name: "not-found",
        component: () => import("./pages/NotFoundPage.vue"),
        meta: { title: "Page not found" },
      },
    ],
  },
];

/** Only same-app paths: `?redirect=https://evil.example` or `//evil.example` must not leave the app. */
export function safeRedirect(value: unknown): string {
  return typeof value === "string" && value.startsWith("/") && !value.startsWith("//")
    ? value
    : pagePath(HOME_PAGE);
}

function signInFor(fullPath: string): RouteLocationRaw {
  return { name: "sign-in", query: fullPath === "/" ? {} : { redirect: fullPath } };
}

export function createAppRouter(): Router {
  const router = createRouter({ history: createWebHistory(), routes });

  router.beforeEach(async (to) => {
    const auth = useAuthStore();
    await auth.restore();
    if (!to.meta.public && !auth.user) return signInFor(to.fullPath);
    if (to.name === "sign-in" && auth.user) return safeRedirect(to.query["redirect"]);
    return true;
  });

  router.afterEach((to) => {
    document.title = to.meta.title ? `${to.meta.title} · Facerec` : "Facerec";
  });

  // The session ended mid-use (refresh failed): back to sign-in, remembering this page.
  api.onSessionExpired(() => {
    const current = router.currentRoute.value;
    if (!current.meta.public) void router.push(signInFor(current.fullPath));
  });

  return router;
}
