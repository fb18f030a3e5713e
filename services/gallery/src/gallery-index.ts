/**
 * The in-memory gallery: every enrolled face's embedding, per tenant and embedding model, searched
 * exhaustively (cosine of L2-normalised vectors, i.e. a dot product with each row: an int8 pass over
 * every row, then the best few again in float32, see ModelGallery.search). Pure data structure:
 * the people service keeps one current by polling its change collection, and ingest keeps its own
 * from the people service's WatchGallery feed, so matching costs no network call.
 *
 * Rows are packed in one Float32Array per (tenant, model), and their codes in one Uint8Array (5
 * bytes per dimension in all: 2.5 GB for a million 512-d faces), so a search is a sequential scan;
 * removal moves the last row into the hole (O(dim)), so the order of rows means nothing.
 */

export interface GalleryEntry {
  tenantId: string;
  model: string;
  faceId: string;
  personId: string;
  /** L2-normalised embedding. */
  vector: Float32Array;
}

/**
 * Levels of a code: gallery rows use ±127 (stored offset by 128 as uint8), queries ±63 (the
 * scorer codes them) so that any two adjacent u8×s8 products sum within int16, which x86 GEMMs
 * without VNNI (AVX2's vpmaddubsw) saturate at.
 */
const ROW_LEVELS = 127;
export const QUERY_LEVELS = 63;
const ROW_CODE_OFFSET = 128;

/**
 * Components are coded within ±clip: 8 standard deviations of a unit vector's component (1/√dim),
 * so a code step is ~0.003 of similarity at 512-d; a rare larger component is clipped, which only
 * blurs that row's coarse score (the exact pass scores it again).
 */
function clipOf(dim: number): number {
  return Math.min(1, 8 / Math.sqrt(dim));
}

/** A batch of queries and the gallery's rows, as float32 vectors, the rows also as int8 codes. */
export interface ScoringBatch {
  /** The queries, one row per query: `batch` rows × `dim` columns. */
  queries: Float32Array;
  batch: number;
  /** The faces' vectors, one row per face: `count` rows × `dim` columns. */
  rows: Float32Array;
  /** The faces' codes offset by 128, laid out as `rows`. */
  rowCodes: Uint8Array;
  count: number;
  dim: number;
  /** Code queries within ±clip in QUERY_LEVELS steps, as the rows were. */
  clip: number;
  take: number;
}

/** Per query, `take` candidate rows and their exact similarity, query-major, most similar first. */
export interface Candidates {
  rows: Int32Array;
  similarities: Float32Array;
}

/**
 * Finds each query's candidates: the rows whose codes have the largest dot product with the
 * query's, then each one's exact similarity (float32 dot product). The coarse pass is a matrix
 * product, which a GEMM library does many times faster than a loop (`npm run bench:match`).
 */
export type BatchScorer = (batch: ScoringBatch) => Promise<Candidates>;

/**
 * The dependency-free reference: exact similarity to every row, no codes. What the GEMM scorer
 * finds is compared with it.
 */
export const loopScorer: BatchScorer = async ({ queries, batch, rows, count, dim, take }) => {
  const out: Candidates = {
    rows: new Int32Array(batch * take),
    similarities: new Float32Array(batch * take),
  };
  const scores = new Float32Array(count);
  for (let b = 0; b < batch; b++) {
    for (let row = 0, base = 0; row < count; row++, base += dim) {
      let dot = 0;
      for (let i = 0; i < dim; i++) dot += queries[b * dim + i]! * rows[base + i]!;
      scores[row] = dot;
    }
    for (const [j, row] of topRows(scores, take).entries()) {
      out.rows[b * take + j] = row;
      out.similarities[b * take + j] = scores[row]!;
    }
  }
  return out;
};

export interface FaceMatch {
  personId: string;
  faceId: string;
  similarity: number;
}

/** One tenant's faces for one model. */
export class ModelGallery {
  readonly dim: number;
  readonly #clip: number;
  #vectors: Float32Array;
  /** Each row's int8 code (offset by ROW_CODE_OFFSET), for the coarse pass. */
  #codes: Uint8Array;
  readonly #faceIds: string[] = [];
  readonly #personIds: string[] = [];
  readonly #rowOf = new Map<string, number>();
  /**
   * Counts changes that rewrite existing rows (a removal moves the last row into the hole, a face
   * added again replaces its row); appends leave the rows a search was handed as they were.
   */
  #rewrites = 0;

  constructor(dim: number, initialCapacity = 64) {
    this.dim = dim;
    this.#clip = clipOf(dim);
    this.#vectors = new Float32Array(dim * initialCapacity);
    this.#codes = new Uint8Array(dim * initialCapacity);
  }

  get size(): number {
    return this.#faceIds.length;
  }

  has(faceId: string): boolean {
    return this.#rowOf.has(faceId);
  }

  /** Adds or replaces one face's vector. */
  add(faceId: string, personId: string, vector: Float32Array): void {
    if (vector.length !== this.dim) throw new Error(`expected ${this.dim} dimensions, got ${vector.length}`);
    let row = this.#rowOf.get(faceId);
    if (row === undefined) {
      row = this.#faceIds.length;
      if ((row + 1) * this.dim > this.#vectors.length) this.#grow();
      this.#faceIds.push(faceId);
      this.#personIds.push(personId);
      this.#rowOf.set(faceId, row);
    } else {
      this.#personIds[row] = personId;
      this.#rewrites++;
    }
    const base = row * this.dim;
    this.#vectors.set(vector, base);
    const scale = ROW_LEVELS / this.#clip;
    for (let i = 0; i < this.dim; i++) {
      const code = Math.round(vector[i]! * scale);
      this.#codes[base + i] = Math.max(-ROW_LEVELS, Math.min(ROW_LEVELS, code)) + ROW_CODE_OFFSET;
    }
  }

  #grow(): void {
    const length = Math.max(this.#vectors.length * 2, this.dim * 64);
    const vectors = new Float32Array(length);
    vectors.set(this.#vectors);
    this.#vectors = vectors;
    const codes = new Uint8Array(length);
    codes.set(this.#codes);
    this.#codes = codes;
  }

  /** Every face's row (the vector is a view into the gallery: copy it to keep it). */
  *entries(): Generator<{ faceId: string; personId: string; vector: Float32Array }> {
    for (let row = 0; row < this.#faceIds.length; row++)
      yield {
        faceId: this.#faceIds[row]!,
        personId: this.#personIds[row]!,
        vector: this.#vectors.subarray(row * this.dim, (row + 1) * this.dim),
      };
  }

  remove(faceId: string): boolean {
    const row = this.#rowOf.get(faceId);
    if (row === undefined) return false;
    this.#rewrites++;
    const last = this.#faceIds.length - 1;
    if (row !== last) {
      this.#vectors.copyWithin(row * this.dim, last * this.dim, (last + 1) * this.dim);
      this.#codes.copyWithin(row * this.dim, last * this.dim, (last + 1) * this.dim);
      this.#faceIds[row] = this.#faceIds[last]!;
      this.#personIds[row] = this.#personIds[last]!;
      this.#rowOf.set(this.#faceIds[row]!, row);
    }
    this.#faceIds.pop();
    this.#personIds.pop();
    this.#rowOf.delete(faceId);
    return true;
  }

  /**
   * For each query, the `k` most similar people (each by its most similar face), best first, at
   * least `minSimilarity` similar. The scorer takes a few times `k` candidate faces per query by
   * their int8 codes (a quarter of float32's memory to read, and an integer GEMM that is several
   * times faster) and scores them exactly from their float32 vectors, so similarities are exact,
   * and so is the ranking unless more than the candidates code within a step or two of the best.
   * When the candidates hold too few different people (people with many faces), it is asked
   * again for more.
   *
   * The scorer reads the rows later than it is handed them (onnxruntime runs a turn of the event
   * loop later), and the gallery may change meanwhile. A change that rewrote rows sends the search
   * round again, so no row index is read against a different face (or past the end); appends are
   * harmless, and rewrites (removals, re-enrolments) too rare to keep a search going round.
   */
  async search(
    queries: readonly Float32Array[],
    k: number,
    opts: { minSimilarity?: number; scorer?: BatchScorer } = {},
  ): Promise<FaceMatch[][]> {
    const floor = opts.minSimilarity ?? -1;
    const scorer = opts.scorer ?? loopScorer;
    const packed = new Float32Array(queries.length * this.dim);
    for (const [b, q] of queries.entries()) {
      if (q.length !== this.dim) throw new Error(`expected ${this.dim} dimensions, got ${q.length}`);
      packed.set(q, b * this.dim);
    }
    for (;;) {
      const rewrites = this.#rewrites;
      const results = await this.#searchRows(packed, queries.length, k, floor, scorer);
      if (this.#rewrites === rewrites) return results;
    }
  }

  async #searchRows(
    packed: Float32Array,
    batch: number,
    k: number,
    floor: number,
    scorer: BatchScorer,
  ): Promise<FaceMatch[][]> {
    const { dim, size } = this;
    if (size === 0) return Array.from({ length: batch }, () => []);
    const rows = this.#vectors.subarray(0, size * dim);
    const rowCodes = this.#codes.subarray(0, size * dim);
    for (let take = Math.min(size, Math.max(4 * k, 16)); ; take = Math.min(size, take * 4)) {
      const found = await scorer({
        queries: packed,
        batch,
        rows,
        rowCodes,
        count: size,
        dim,
        clip: this.#clip,
        take,
      });
      let widen = false;
      const results = Array.from({ length: batch }, (_, b) => {
        const [start, end] = [b * take, (b + 1) * take];
        const best = this.#bestPeople(
          found.rows.subarray(start, end),
          found.similarities.subarray(start, end),
          k,
          floor,
        );
        // Faces not taken could add people only if the least similar taken still passed the floor
        // (less a code step's worth, as they were taken by their codes).
        if (best.length < k && take < size && found.similarities[end - 1]! >= floor - 0.01) widen = true;
        return best;
      });
      if (!widen) return results;
    }
  }

  /** The first `k` different people of candidates most similar first, at least `floor` similar. */
  #bestPeople(rows: Int32Array, similarities: Float32Array, k: number, floor: number): FaceMatch[] {
    const best: FaceMatch[] = [];
    const seen = new Set<string>();
    for (let i = 0; i < rows.length && best.length < k; i++) {
      const similarity = similarities[i]!;
      if (similarity < floor) break;
      const row = rows[i]!;
      const personId = this.#personIds[row]!;
      if (seen.has(personId)) continue;
      seen.add(personId);
      best.push({ personId, faceId: this.#faceIds[row]!, similarity });
    }
    return best;
  }
}

/** Indexes of the `n` largest scores, largest first: a bounded min-heap. */
function topRows(scores: Float32Array, n: number): number[] {
  const heap: number[] = [];
  const less = (a: number, b: number) => scores[a]! < scores[b]!;
  for (let row = 0; row < scores.length; row++) {
    const s = scores[row]!;
    if (heap.length < n) {
      heap.push(row);
      for (let i = heap.length - 1; i > 0; ) {
        const parent = (i - 1) >> 1;
        if (!less(heap[i]!, heap[parent]!)) break;
        [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
        i = parent;
      }
    } else if (n > 0 && s > scores[heap[0]!]!) {
      heap[0] = row;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let smallest = i;
        if (l < n && less(heap[l]!, heap[smallest]!)) smallest = l;
        if (r < n && less(heap[r]!, heap[smallest]!)) smallest = r;
        if (smallest === i) break;
        [heap[i], heap[smallest]] = [heap[smallest]!, heap[i]!];
        i = smallest;
      }
    }
  }
  return heap.sort((a, b) => scores[b]! - scores[a]!);
}

/** Every tenant's galleries, one per embedding model. */
export class Gallery {
  readonly #galleries = new Map<string, ModelGallery>();
  /** Which gallery holds each face, for removal by face id alone. */
  readonly #keysOfFace = new Map<string, Set<string>>();

  static #key(tenantId: string, model: string): string {
    return `${tenantId}\u0000${model}`;
  }

  /** The tenant's gallery for `model`, if any face was ever added to it. */
  of(tenantId: string, model: string): ModelGallery | undefined {
    return this.#galleries.get(Gallery.#key(tenantId, model));
  }

  get size(): number {
    let n = 0;
    for (const g of this.#galleries.values()) n += g.size;
    return n;
  }

  add(entry: GalleryEntry): void {
    const key = Gallery.#key(entry.tenantId, entry.model);
    let gallery = this.#galleries.get(key);
    if (!gallery) {
      gallery = new ModelGallery(entry.vector.length);
      this.#galleries.set(key, gallery);
    }
    gallery.add(entry.faceId, entry.personId, entry.vector);
    const keys = this.#keysOfFace.get(entry.faceId) ?? new Set<string>();
    keys.add(key);
    this.#keysOfFace.set(entry.faceId, keys);
  }

  /** Removes a face from every model's gallery; false when it was not there. */
  remove(faceId: string): boolean {
    const keys = this.#keysOfFace.get(faceId);
    if (!keys) return false;
    for (const key of keys) this.#galleries.get(key)?.remove(faceId);
    this.#keysOfFace.delete(faceId);
    return true;
  }

  has(faceId: string): boolean {
    return this.#keysOfFace.has(faceId);
  }

  /** Every entry of every tenant and model (vectors are views: copy them to keep them). */
  *entries(): Generator<GalleryEntry> {
    for (const [key, gallery] of this.#galleries) {
      const [tenantId, model] = key.split("\u0000") as [string, string];
      for (const e of gallery.entries()) yield { tenantId, model, ...e };
    }
  }
}
