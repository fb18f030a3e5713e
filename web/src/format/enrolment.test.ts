import { describe, expect, it } from "vitest";
import { boxStyle, checkFaces, checkMessage, MIN_FACE_PIXELS } from "./enrolment.ts";

const box = (size: number, x = 0) => ({ x, y: 0, width: size, height: size });

describe("checking the faces found before upload", () => {
  it("refuses a photo without a face", () => {
    expect(checkFaces([])).toEqual({ kind: "no_face" });
    expect(checkMessage(checkFaces([]))).toMatch(/No face was found/);
  });

  it("refuses faces below the server's 60 px, saying how large the largest was", () => {
    const check = checkFaces([box(30), box(52)]);
    expect(check).toEqual({ kind: "too_small", largest: 52 });
    expect(checkMessage(check)).toBe(
      `The face is too small (52 px; at least ${MIN_FACE_PIXELS} px is needed). Choose a closer or larger photo.`,
    );
  });

  it("takes the one large face, ignoring small ones in the background", () => {
    expect(checkFaces([box(20), box(95)])).toEqual({ kind: "one", index: 1 });
  });

  it("asks which when several faces are large enough", () => {
    expect(checkFaces([box(80), box(20), box(60, 200)])).toEqual({ kind: "pick", candidates: [0, 2] });
  });

  it("places a box over the photo in percent", () => {
    expect(boxStyle({ x: 177, y: 82, width: 95, height: 95 }, { width: 512, height: 512 })).toEqual({
      left: "34.570%",
      top: "16.016%",
      width: "18.555%",
      height: "18.555%",
    });
  });
});
