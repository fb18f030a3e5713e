import { NCheckbox, useDialog, useMessage } from "naive-ui";
import { h, ref } from "vue";
import { toApiError } from "../api/errors.ts";
import type { Person } from "../api/types.ts";
import { usePeopleStore } from "../stores/people.ts";

/**
 * "Delete person…": a warning that says what goes, and the erasure choice that also deletes the
 * observations matched to them. Resolves true once deleted.
 */
export function useDeletePerson(): (person: Person) => Promise<boolean> {
  const dialog = useDialog();
  const message = useMessage();
  const people = usePeopleStore();

  return (person) => {
    const purge = ref(false);
    return new Promise<boolean>((resolve) => {
      dialog.error({
        title: `Delete "${person.displayName}"?`,
        content: () =>
          h("div", { class: "delete-person" }, [
            h(
              "p",
              `Their ${person.faceCount === 1 ? "enrolled face" : `${person.faceCount} enrolled faces`}, crops and embeddings are deleted and cannot be recovered. Their past sightings and observations are kept, without their name.`,
            ),
            h(
              NCheckbox,
              { checked: purge.value, "onUpdate:checked": (v: boolean) => (purge.value = v) },
              () => "Also delete every observation and sighting matched to them (erasure request)",
            ),
          ]),
        positiveText: "Delete person",
        negativeText: "Cancel",
        autoFocus: false,
        onPositiveClick: async () => {
          try {
            await people.remove(person.id, { purgeSightings: purge.value });
            message.success(
              purge.value
                ? `Deleted "${person.displayName}" and the observations matched to them.`
                : `Deleted "${person.displayName}".`,
            );
            resolve(true);
            return true;
          } catch (e) {
            message.error(toApiError(e).detail);
            return false;
          }
        },
        onNegativeClick: () => resolve(false),
        onClose: () => resolve(false),
        onMaskClick: () => resolve(false),
      });
    });
  };
}
