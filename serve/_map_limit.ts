// Maps over items with at most `limit` calls in flight, keeping the order of the results.

/**
 * Runs `fn` over `items`, at most `limit` at once.
 *
 * @param items The inputs.
 * @param limit How many calls may run at once (at least 1).
 * @param fn The work for one item.
 * @returns The results, in the order of `items`.
 */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  async function worker(): Promise<void> {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return out;
}
