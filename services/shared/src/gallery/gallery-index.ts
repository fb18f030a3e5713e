/**
 * The in-memory gallery: every enrolled face's embedding, per tenant and embedding model, searched
 * exactly (cosine of L2-normalised vectors, i.e. a dot product with each row). Pure data structure:
 * the people service keeps one current by polling its change collection, and ingest can keep its
 * own the same way, so matching costs no network call.
 *
 * Rows are packed in one Float32Array per (tenant, model) so a search is a sequential scan; removal
 * moves the last row into the hole (O(dim)), so the order of rows means nothing.
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
 * Scores a batch: out[b * count + r] = dot(queries[b], rows[r]), queries and rows packed row-major
 * with `dim` columns. That is a matrix product, which a GEMM library does many times faster than a
 * loop (`npm run bench:match`); `loopScorer` is the dependency-free fallback.
 */
export type BatchScorer = (
  queries: Float32Array,
  batch: number,
  rows: Float32Array,
  count: number,
  dim: number,
) => Promise<Float32Array>;

export const loopScorer: BatchScorer = async (queries, batch, rows, count, dim) => {
  const out = new Float32Array(batch * count);
  for (let b = 0; b < batch; b++) {
    const q = queries.subarray(b * dim, (b + 1) * dim);
    for (let row = 0, base = 0; row < count; row++, base += dim) {
      let dot = 0;
      for (let i = 0; i < dim; i++) dot += q[i]! * rows[base + i]!;
      out[b * count + row] = dot;
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
  #vectors: Float32Array;
  readonly #faceIds: string[] = [];
  readonly #personIds: string[] = [];
  readonly #rowOf = new Map<string, number>();

  constructor(dim: number, initialCapacity = 64) {
    this.dim = dim;
    this.#vectors = new Float32Array(dim * initialCapacity);
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
      if ((row + 1) * this.dim > this.#vectors.length) {
        const grown = new Float32Array(Math.max(this.#vectors.length * 2, this.dim * 64));
        grown.set(this.#vectors);
        this.#vectors = grown;
      }
      this.#faceIds.push(faceId);
      this.#personIds.push(personId);
      this.#rowOf.set(faceId, row);
    } else {
      this.#personIds[row] = personId;
    }
    this.#vectors.set(vector, row * this.dim);
  }

  remove(faceId: string): boolean {
    const row = this.#rowOf.get(faceId);
    if (row === undefined) return false;
    const last = this.#faceIds.length - 1;
    if (row !== last) {
      this.#vectors.copyWithin(row * this.dim, last * this.dim, (last + 1) * this.dim);
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
   * least `minSimilarity` similar: one matrix product for the whole batch, then a bounded heap per
   * query.
   */
  async search(
    queries: readonly Float32Array[],
    k: number,
    opts: { minSimilarity?: number; scorer?: BatchScorer } = {},
  ): Promise<FaceMatch[][]> {
    const { dim, size } = this;
    const packed = new Float32Array(queries.length * dim);
    for (const [b, q] of queries.entries()) {
      if (q.length !== dim) throw new Error(`expected ${dim} dimensions, got ${q.length}`);
      packed.set(q, b * dim);
    }
    const scorer = opts.scorer ?? loopScorer;
    const scores = await scorer(packed, queries.length, this.#vectors.subarray(0, size * dim), size, dim);
    return queries.map((_, b) =>
      this.bestPeople(scores.subarray(b * size, (b + 1) * size), k, opts.minSimilarity ?? -1),
    );
  }

  /** Ranks the rows of `scores` (one per face, in row order) into the `k` best people. */
  bestPeople(scores: Float32Array, k: number, minSimilarity = -1): FaceMatch[] {
    // People usually have a few faces each: look at a few times k rows, widen when they are
    // too few different people.
    for (let candidates = Math.max(4 * k, 16); ; candidates *= 4) {
      const rows = topRows(scores, Math.min(candidates, this.size), minSimilarity);
      const best: FaceMatch[] = [];
      const seen = new Set<string>();
      for (const row of rows) {
        const personId = this.#personIds[row]!;
        if (seen.has(personId)) continue;
        seen.add(personId);
        best.push({ personId, faceId: this.#faceIds[row]!, similarity: scores[row]! });
        if (best.length === k) return best;
      }
      if (rows.length < candidates) return best;
    }
  }
}

/** Indexes of the `n` largest scores (at least `floor`), largest first: a bounded min-heap. */
function topRows(scores: Float32Array, n: number, floor: number): number[] {
  const heap: number[] = [];
  const less = (a: number, b: number) => scores[a]! < scores[b]!;
  for (let row = 0; row < scores.length; row++) {
    const s = scores[row]!;
    if (s < floor) continue;
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
}
