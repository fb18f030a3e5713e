import { type Ref, ref } from "vue";

/**
 * Copy to the clipboard. `navigator.clipboard` exists only in secure contexts (https or
 * localhost); a gateway reached over plain http on a LAN address needs the older
 * execCommand path, so both are tried before reporting failure.
 */
export function useClipboard(resetAfterMs = 2000): {
  copied: Ref<boolean>;
  failed: Ref<boolean>;
  copy: (text: string) => Promise<boolean>;
} {
  const copied = ref(false);
  const failed = ref(false);
  let timer: ReturnType<typeof setTimeout> | undefined;

  async function copy(text: string): Promise<boolean> {
    const ok = (await writeWithClipboardApi(text)) || writeWithSelection(text);
    copied.value = ok;
    failed.value = !ok;
    clearTimeout(timer);
    timer = setTimeout(() => {
      copied.value = false;
    }, resetAfterMs);
    return ok;
  }
  return { copied, failed, copy };
}

async function writeWithClipboardApi(text: string): Promise<boolean> {
  if (!navigator.clipboard?.writeText) return false;
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}

function writeWithSelection(text: string): boolean {
  const area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.style.position = "fixed";
  area.style.opacity = "0";
  document.body.append(area);
  area.select();
  try {
    return document.execCommand("copy");
  } catch {
    return false;
  } finally {
    area.remove();
  }
}
