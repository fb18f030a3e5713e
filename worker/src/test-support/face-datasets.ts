// Real labelled photos for the identity and detection evaluations, fetched with the ordinary
// package clients and cached (never committed):
//
// - Debian's `dlib` source package: examples/johns (5 people x 11 photos, dlib's own 150-px face
//   chips) and examples/faces (9 photos with 43 annotated face boxes, plus dogs.jpg). Its
//   debian/copyright gives examples/* as public domain (Creative-Commons-Public-Domain). apt-get
//   reads a deb-src line from a sources file of our own (no change to the system's apt setup) and
//   prints the archive URIs with their SHA-256; only the 8.6 MB .orig tarball is downloaded (not
//   the 200 MB models tarball), verified and unpacked.
// - PyPI's `face-recognition` 1.3.0 sdist (MIT): tests/test_images (Obama x5, Biden x1), fetched
//   with `pip download --no-binary :all:`.
//
// Cache: FACE_DATASETS_DIR, else ~/.cache/facerec/faces.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";

export const FACE_DATASETS_DIR =
  process.env["FACE_DATASETS_DIR"] ?? path.join(os.homedir(), ".cache", "facerec", "faces");

const DLIB_DIR = path.join(FACE_DATASETS_DIR, "dlib-examples");
const FACE_RECOGNITION_DIR = path.join(FACE_DATASETS_DIR, "face-recognition-1.3.0");

export interface LabelledPhoto {
  readonly identity: string;
  readonly file: string;
}

/** Debian's codename (bookworm, trixie, ...), for the deb-src line. */
function debianSuite(): string {
  const release = readFileSync("/etc/os-release", "utf8");
  const codename = /^VERSION_CODENAME=(\S+)$/m.exec(release)?.[1];
  if (!codename) throw new Error("cannot tell the Debian release from /etc/os-release");
  return codename;
}

function fetchDlibExamples(): void {
  const work = mkdtempSync(path.join(os.tmpdir(), "dlib-src-"));
  try {
    mkdirSync(path.join(work, "lists", "partial"), { recursive: true });
    writeFileSync(
      path.join(work, "sources.list"),
      `deb-src http://deb.debian.org/debian ${debianSuite()} main\n`,
    );
    const apt = [
      "-o",
      `Dir::Etc::SourceList=${path.join(work, "sources.list")}`,
      "-o",
      "Dir::Etc::SourceParts=/dev/null",
      "-o",
      `Dir::State::Lists=${path.join(work, "lists")}`,
      "-o",
      `Dir::Cache=${path.join(work, "cache")}`,
      "-o",
      "Debug::NoLocking=1",
    ];
    execFileSync("apt-get", [...apt, "-qq", "update"], { stdio: ["ignore", "ignore", "inherit"] });
    const uris = execFileSync("apt-get", [...apt, "-qq", "--print-uris", "source", "dlib"], {
      encoding: "utf8",
    });
    // Lines: 'URI' file size SHA256:digest
    const orig = /^'(\S+)' (dlib_[^ ]+\.orig\.tar\.\w+) \d+ SHA256:([0-9a-f]{64})$/m.exec(uris);
    if (!orig) throw new Error(`apt-get --print-uris source dlib named no .orig tarball:\n${uris}`);
    const [, uri, file, sha256] = orig as unknown as [string, string, string, string];
    const tarball = path.join(work, file);
    execFileSync("curl", ["-fsSL", "-o", tarball, uri]);
    const digest = createHash("sha256").update(readFileSync(tarball)).digest("hex");
    if (digest !== sha256) throw new Error(`${file}: SHA-256 ${digest}, apt's index says ${sha256}`);
    const out = path.join(work, "out");
    mkdirSync(out);
    execFileSync("tar", [
      "-xf",
      tarball,
      "-C",
      out,
      "--strip-components=1",
      "--wildcards",
      "*/examples/johns/*",
      "*/examples/faces/*",
    ]);
    mkdirSync(path.dirname(DLIB_DIR), { recursive: true });
    renameSync(path.join(out, "examples"), DLIB_DIR);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function fetchFaceRecognitionImages(): void {
  const work = mkdtempSync(path.join(os.tmpdir(), "face-recognition-"));
  try {
    execFileSync(
      "python3",
      [
        "-m",
        "pip",
        "download",
        "-q",
        "--no-binary",
        ":all:",
        "--no-deps",
        "face-recognition==1.3.0",
        "-d",
        work,
      ],
      { stdio: ["ignore", "ignore", "inherit"] },
    );
    const out = path.join(work, "out");
    mkdirSync(out);
    execFileSync("tar", [
      "-xzf",
      path.join(work, "face_recognition-1.3.0.tar.gz"),
      "-C",
      out,
      "--strip-components=3",
      "--wildcards",
      "*/tests/test_images/*.jpg",
    ]);
    mkdirSync(path.dirname(FACE_RECOGNITION_DIR), { recursive: true });
    renameSync(out, FACE_RECOGNITION_DIR);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Fetches what is not cached yet; throws with the failing command when a client is missing. */
export function ensureFaceDatasets(): void {
  if (!existsSync(DLIB_DIR)) fetchDlibExamples();
  if (!existsSync(FACE_RECOGNITION_DIR)) fetchFaceRecognitionImages();
}

/**
 * Different photos of the same people: dlib's five Johns (11 each) and face-recognition's Obama
 * (5, two of them partial faces) and Biden (1: only an impostor for the others).
 */
export function identityPhotos(): LabelledPhoto[] {
  ensureFaceDatasets();
  const johns = path.join(DLIB_DIR, "johns");
  const photos: LabelledPhoto[] = [];
  for (const person of readdirSync(johns).sort()) {
    for (const file of readdirSync(path.join(johns, person)).sort())
      photos.push({ identity: person, file: path.join(johns, person, file) });
  }
  for (const file of readdirSync(FACE_RECOGNITION_DIR).sort()) {
    const identity = file.startsWith("obama")
      ? "Barack_Obama"
      : file.startsWith("biden")
        ? "Joe_Biden"
        : undefined;
    if (identity) photos.push({ identity, file: path.join(FACE_RECOGNITION_DIR, file) });
  }
  return photos;
}

export interface AnnotatedPhoto {
  readonly file: string;
  readonly faces: readonly { x: number; y: number; width: number; height: number }[];
}

/** dlib's examples/faces: every photo of training.xml and testing.xml with its face boxes. */
export function annotatedFacePhotos(): AnnotatedPhoto[] {
  ensureFaceDatasets();
  const dir = path.join(DLIB_DIR, "faces");
  const photos: AnnotatedPhoto[] = [];
  for (const list of ["training.xml", "testing.xml"]) {
    const xml = readFileSync(path.join(dir, list), "utf8");
    for (const image of xml.matchAll(/<image file='([^']+)'[^>]*>([\s\S]*?)<\/image>/g)) {
      const faces = [
        ...image[2]!.matchAll(/<box top='(-?\d+)' left='(-?\d+)' width='(\d+)' height='(\d+)'/g),
      ].map((b) => ({ y: Number(b[1]), x: Number(b[2]), width: Number(b[3]), height: Number(b[4]) }));
      photos.push({ file: path.join(dir, image[1]!), faces });
    }
  }
  return photos;
}

/** dlib's examples/faces/dogs.jpg: dogs, no people. */
export function dogsPhoto(): string {
  ensureFaceDatasets();
  return path.join(DLIB_DIR, "faces", "dogs.jpg");
}
