import { describe, expect, it } from "vitest";
import { ApiError } from "../api/errors.ts";
import { useResource } from "./useResource.ts";

const failure = () =>
  Promise.reject(
    new ApiError({ status: 503, code: "service_unavailable", title: "Unavailable", detail: "Try later." }),
  );

function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe("useResource", () => {
  it("hands the answer to apply, then reports loaded", async () => {
    const resource = useResource();
    let data: number[] = [];
    expect([resource.loading.value, resource.loaded.value]).toEqual([false, false]);
    const pending = resource.load(
      () => Promise.resolve([1, 2]),
      (answer) => {
        data = answer;
      },
    );
    expect(resource.loading.value).toBe(true);
    expect(await pending).toBe(true);
    expect(data).toEqual([1, 2]);
    expect([resource.loading.value, resource.loaded.value, resource.error.value]).toEqual([
      false,
      true,
      null,
    ]);
  });

  it("keeps the data and shows the error until a later load succeeds", async () => {
    const resource = useResource();
    let data = "first";
    const apply = (answer: string) => {
      data = answer;
    };
    await resource.load(() => Promise.resolve("first"), apply);
    expect(await resource.load(failure, apply)).toBe(false);
    expect(resource.error.value?.detail).toBe("Try later.");
    expect(data).toBe("first");

    // While the retry is in flight the banner stays (its Try again button spins).
    const retry = deferred<string>();
    const retried = resource.load(() => retry.promise, apply);
    expect([resource.loading.value, resource.error.value?.status]).toEqual([true, 503]);
    retry.resolve("second");
    await retried;
    expect([data, resource.error.value, resource.loading.value]).toEqual(["second", null, false]);
  });

  it("lets only the latest of overlapping loads land", async () => {
    const resource = useResource();
    const shown: string[] = [];
    const slow = deferred<string>();
    const older = resource.load(
      () => slow.promise,
      (a) => shown.push(a),
    );
    const newer = resource.load(
      () => Promise.resolve("newer filter"),
      (a) => shown.push(a),
    );
    expect(await newer).toBe(true);
    slow.resolve("older filter");
    expect(await older).toBe(false);
    expect(shown).toEqual(["newer filter"]);
    expect(resource.loading.value).toBe(false);
  });
});
