import { defineStore } from "pinia";
import { ref } from "vue";
import { toApiError } from "../api/errors.ts";
import { api } from "../api/instance.ts";
import type { BoundingBox, Person, PersonFace, UpdatePersonInput } from "../api/types.ts";
import { useResource } from "../composables/useResource.ts";
import { personPath, usePeopleStore } from "./people.ts";

/** Which face of a photo with several: the server's index, or a box in the photo's pixels. */
export type FaceSelection = { faceIndex: number } | { bbox: BoundingBox };

/** The multipart body of an enrolment: the photo, and which face when it has several. */
export function enrolmentForm(photo: Blob, fileName: string, selection?: FaceSelection): FormData {
  const form = new FormData();
  form.append("image", photo, fileName);
  if (selection && "faceIndex" in selection) form.append("faceIndex", String(selection.faceIndex));
  if (selection && "bbox" in selection) {
    const { x, y, width, height } = selection.bbox;
    form.append("bbox", JSON.stringify({ x, y, width, height }));
  }
  return form;
}

/** One person with their enrolled faces: the detail page. */
export const usePersonStore = defineStore("person", () => {
  const person = ref<Person | null>(null);
  const faces = ref<PersonFace[]>([]);
  const { loading, loaded, error, load: request } = useResource();
  const facesPath = (id: string) => `${personPath(id)}/faces`;

  async function load(id: string): Promise<void> {
    if (person.value?.id !== id) {
      person.value = null;
      faces.value = [];
      loaded.value = false;
    }
    await request(
      () =>
        Promise.all([
          api.get<{ person: Person }>(personPath(id)),
          api.get<{ faces: PersonFace[] }>(facesPath(id)),
        ]),
      ([answer, list]) => {
        person.value = answer.person;
        faces.value = list.faces;
      },
    );
  }

  function keep(updated: Person): Person {
    person.value = { ...updated, lastSighting: updated.lastSighting ?? person.value?.lastSighting ?? null };
    usePeopleStore().replace(updated);
    return updated;
  }

  async function update(id: string, patch: UpdatePersonInput): Promise<Person> {
    const answer = await api.patch<{ person: Person }>(personPath(id), patch);
    return keep(answer.person);
  }

  /** Sends the photo; the server detects, aligns and embeds (it decides, whatever the browser found). */
  async function enrol(
    id: string,
    photo: Blob,
    fileName: string,
    selection?: FaceSelection,
  ): Promise<PersonFace> {
    const { face } = await api.upload<{ face: PersonFace }>(
      facesPath(id),
      enrolmentForm(photo, fileName, selection),
    );
    faces.value = [...faces.value, face];
    if (person.value?.id === id) person.value = { ...person.value, faceCount: person.value.faceCount + 1 };
    return face;
  }

  async function removeFace(id: string, faceId: string): Promise<void> {
    try {
      await api.delete(`${facesPath(id)}/${encodeURIComponent(faceId)}`);
    } catch (e) {
      if (toApiError(e).status !== 404) throw e;
    }
    faces.value = faces.value.filter((f) => f.id !== faceId);
    if (person.value?.id === id)
      person.value = { ...person.value, faceCount: Math.max(0, person.value.faceCount - 1) };
  }

  return { person, faces, loading, loaded, error, load, update, enrol, removeFace };
});
