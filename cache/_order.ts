// One order for file listings: by UTF-16 code unit, as Python's sorted() orders ASCII names.
// Not localeCompare: a collator's order changes with the machine's locale (a folder's pages must
// not), and setting one up costs 7-10 ms of every run's start.

/** Orders records by `filename`, code unit by code unit. */
export function byFilename(a: { filename: string }, b: { filename: string }): number {
  return a.filename < b.filename ? -1 : a.filename > b.filename ? 1 : 0;
}
