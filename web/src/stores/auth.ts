import { defineStore } from "pinia";
import { computed, onScopeDispose, ref } from "vue";
import { api } from "../api/instance.ts";
import type { User } from "../api/types.ts";

export const useAuthStore = defineStore("auth", () => {
  const user = ref<User | null>(null);
  // The client is the source of truth (it refreshes on 401 by itself); mirror its session.
  onScopeDispose(
    api.onSessionChange((next) => {
      user.value = next;
    }),
  );
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

  async function signIn(email: string, password: string): Promise<void> {
    await api.signIn(email, password);
  }

  async function signOut(): Promise<void> {
    await api.signOut();
  }

  return { user, isAdmin, restore, signIn, signOut };
});
