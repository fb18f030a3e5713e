/**
 * The in-memory gallery: every enrolled face's embedding, per tenant and embedding model, searched
 * exactly (cosine of L2-normalised vectors, i.e. a dot product with each row). Pure data structure:
 * the people service keeps one current by polling its change collection, and ingest keeps its own
 * from the people service's WatchGallery feed, so matching costs no network call.
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

/** Per query, the `take` best rows of a batch, best first: `rows` and `scores` are query-major. */
export interface TopRows {
  /**
   * onnxruntime's TopK gives int64 indexes; they stay BigInts until read, since a search reads only
   * the first few per query (converting them all was a tenth of a search of 1k faces).
   */
  rows: Int32Array | BigInt64Array;
  scores: Float32Array;
}

/**
 * Finds, for each query of a batch, the `take` rows with the largest dot product: queries and rows
 * packed row-major with `dim` columns. The scores are a matrix product, which a GEMM library does
 * many times faster than a loop (`npm run bench:match`); `loopScorer` is the dependency-free
 * fallback.
 */
export type BatchScorer = (
  queries: Float32Array,
  batch: number,
  rows: Float32Array,
  count: number,
  dim: number,
  take: number,
) => Promise<TopRows>;

export const loopScorer: BatchScorer = async (queries, batch, rows, count, dim, take) => {
  const out: TopRows = { rows: new Int32Array(batch * take), scores: new Float32Array(batch * take) };
  const scores = new Float32Array(count);
  for (let b = 0; b < batch; b++) {
    const q = queries.subarray(b * dim, (b + 1) * dim);
    for (let row = 0, base = 0; row < count; row++, base += dim) {
      let dot = 0;
      for (let i = 0; i < dim; i++) dot += q[i]! * rows[base + i]!;
      scores[row] = dot;
    }
    for (const [i, row] of topRows(scores, take).entries()) {
      out.rows[b * take + i] = row;
      out.scores[b * take + i] = scores[row]!;
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
   * least `minSimilarity` similar. The scorer ranks a few times `k` faces per query; when those
   * are too few different people (people with many faces), it is asked again for more.
   */
  async search(
    queries: readonly Float32Array[],
    k: number,
    opts: { minSimilarity?: number; scorer?: BatchScorer } = {},
  ): Promise<FaceMatch[][]> {
    const { dim, size } = this;
    const floor = opts.minSimilarity ?? -1;
    const scorer = opts.scorer ?? loopScorer;
    const packed = new Float32Array(queries.length * dim);
    for (const [b, q] of queries.entries()) {
      if (q.length !== dim) throw new Error(`expected ${dim} dimensions, got ${q.length}`);
      packed.set(q, b * dim);
    }
    if (size === 0) return queries.map(() => []);
    for (let take = Math.min(size, Math.max(4 * k, 16)); ; take = Math.min(size, take * 4)) {
      const top = await scorer(
        packed,
        queries.length,
        this.#vectors.subarray(0, size * dim),
        size,
        dim,
        take,
      );
      let widen = false;
      const results = queries.map((_, b) => {
        const span = [b * take, (b + 1) * take] as const;
        const best = this.#bestPeople(top.rows.subarray(...span), top.scores.subarray(...span), k, floor);
        // More rows could add people only if the last one looked at still passed the floor.
        if (best.length < k && take < size && top.scores[span[1] - 1]! >= floor) widen = true;
        return best;
      });
      if (!widen) return results;
    }
  }

  /** The first `k` different people of ranked rows, at least `floor` similar. */
  #bestPeople(rows: TopRows["rows"], scores: Float32Array, k: number, floor: number): FaceMatch[] {
    const best: FaceMatch[] = [];
    const seen = new Set<string>();
    for (let i = 0; i < rows.length && best.length < k; i++) {
      if (scores[i]! < floor) break;
      const row = Number(rows[i]!);
      const personId = this.#personIds[row]!;
      if (seen.has(personId)) continue;
      seen.add(personId);
      best.push({ personId, faceId: this.#faceIds[row]!, similarity: scores[i]! });
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
