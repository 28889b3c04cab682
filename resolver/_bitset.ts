// Immutable bit sets over a package's candidate list (indices into its versions sorted ascending).
// PubGrub's version sets are exact and cheap this way because a provider's versions are finite.

function popcount(x: number): number {
  x = x - ((x >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

export class Bitset {
  readonly size: number;
  readonly #words: Uint32Array;

  constructor(size: number, words?: Uint32Array) {
    this.size = size;
    this.#words = words ?? new Uint32Array((size + 31) >>> 5);
  }

  static empty(size: number): Bitset {
    return new Bitset(size);
  }

  static full(size: number): Bitset {
    const words = new Uint32Array((size + 31) >>> 5);
    words.fill(0xffffffff);
    const rest = size & 31;
    if (rest !== 0) words[words.length - 1] = (1 << rest) - 1 >>> 0;
    return new Bitset(size, words);
  }

  static of(size: number, indices: Iterable<number>): Bitset {
    const words = new Uint32Array((size + 31) >>> 5);
    for (const i of indices) words[i >>> 5]! |= 1 << (i & 31);
    return new Bitset(size, words);
  }

  static from(size: number, predicate: (index: number) => boolean): Bitset {
    const words = new Uint32Array((size + 31) >>> 5);
    for (let i = 0; i < size; i++) if (predicate(i)) words[i >>> 5]! |= 1 << (i & 31);
    return new Bitset(size, words);
  }

  has(index: number): boolean {
    return ((this.#words[index >>> 5] ?? 0) & (1 << (index & 31))) !== 0;
  }

  and(other: Bitset): Bitset {
    const a = this.#words, b = other.#words, out = new Uint32Array(a.length);
    for (let i = 0; i < a.length; i++) out[i] = a[i]! & b[i]!;
    return new Bitset(this.size, out);
  }

  or(other: Bitset): Bitset {
    const a = this.#words, b = other.#words, out = new Uint32Array(a.length);
    for (let i = 0; i < a.length; i++) out[i] = a[i]! | b[i]!;
    return new Bitset(this.size, out);
  }

  andNot(other: Bitset): Bitset {
    const a = this.#words, b = other.#words, out = new Uint32Array(a.length);
    for (let i = 0; i < a.length; i++) out[i] = a[i]! & ~b[i]!;
    return new Bitset(this.size, out);
  }

  not(): Bitset {
    return Bitset.full(this.size).andNot(this);
  }

  isEmpty(): boolean {
    for (const w of this.#words) if (w !== 0) return false;
    return true;
  }

  isFull(): boolean {
    return this.equals(Bitset.full(this.size));
  }

  isSubsetOf(other: Bitset): boolean {
    const a = this.#words, b = other.#words;
    for (let i = 0; i < a.length; i++) if ((a[i]! & ~b[i]!) !== 0) return false;
    return true;
  }

  intersects(other: Bitset): boolean {
    const a = this.#words, b = other.#words;
    for (let i = 0; i < a.length; i++) if ((a[i]! & b[i]!) !== 0) return true;
    return false;
  }

  equals(other: Bitset): boolean {
    const a = this.#words, b = other.#words;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }

  count(): number {
    let n = 0;
    for (const w of this.#words) n += popcount(w);
    return n;
  }

  /** Indices in ascending order. */
  *indices(): Generator<number> {
    for (let i = 0; i < this.#words.length; i++) {
      let w = this.#words[i]!;
      while (w !== 0) {
        const bit = w & -w;
        yield (i << 5) + (31 - Math.clz32(bit));
        w = (w ^ bit) >>> 0;
      }
    }
  }
}
