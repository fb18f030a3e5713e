import { defineStore } from "pinia";
import { computed, onScopeDispose, ref } from "vue";
import { api } from "../api/instance.ts";
import type { User } from "../api/types.ts";

/**
 * Remembered in this browser from a sign-in until an explicit sign-out: a session existed here, so
 * landing on sign-in without one means it ended (expired, or ended elsewhere), not a first visit.
 * No secret: only the fact.
 */
const HAD_SESSION_KEY = "facerec.hadSession";

function remember(had: boolean): void {
  try {
    if (had) localStorage.setItem(HAD_SESSION_KEY, "1");
    else localStorage.removeItem(HAD_SESSION_KEY);
  } catch {
    // Storage disabled: the sign-in page then greets like a first visit.
  }
}

function remembered(): boolean {
  try {
    return localStorage.getItem(HAD_SESSION_KEY) === "1";
  } catch {
    return false;
  }
}

export const useAuthStore = defineStore("auth", () => {
  const user = ref<User | null>(null);
  // The client is the source of truth (it refreshes on 401 by itself); mirror its session.
  onScopeDispose(
    api.onSessionChange((next) => {
      user.value = next;
      if (next) remember(true);
    }),
  );
  /** Signed out now, though this browser had a session that was not signed out of. */
  const sessionEnded = (): boolean => user.value === null && remembered();
  const isAdmin = computed(() => user.value?.role === "admin");
  let restoring: Promise<void> | null = null;

  /**
   * Once per page load: the refresh cookie, if any, brings the session back. The gateway sets the
   * script-readable `facerec_session` marker beside the HttpOnly refresh cookie, so without it there
   * is no session to restore and no request to make.
   */
  function restore(): Promise<void> {
    if (!/(?:^|;\s*)facerec_session=/.test(document.cookie)) return Promise.resolve();
    // An unreachable server leaves the user signed out; the sign-in form then reports it.
    restoring ??= api.refresh().then(
      () => undefined,
      () => undefined,
    );
    return restoring;
  }

  async function signIn(email: string, password: string, tenantId?: string): Promise<void> {
    await api.signIn(email, password, tenantId);
  }

  async function signOut(): Promise<void> {
    remember(false);
    await api.signOut();
  }

  return { user, isAdmin, sessionEnded, restore, signIn, signOut };
});
