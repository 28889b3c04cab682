// The lookups a source answers from: its files by name and by project (each project's files
// sorted by name), and the sorted project list. Shared by the folder and cache sources.
import { byFilename } from "../cache/wheelhouse_store.ts";
import type { SourceFile } from "./types.ts";

/** A source's files, indexed. */
export interface FileIndex {
  byName: Map<string, SourceFile>;
  byProject: Map<string, SourceFile[]>;
  projects: string[];
}

/** Indexes files (names are unique: the caller has chosen one file per name). */
export function indexFiles(files: Iterable<SourceFile>): FileIndex {
  const byName = new Map<string, SourceFile>();
  const byProject = new Map<string, SourceFile[]>();
  for (const f of files) {
    byName.set(f.filename, f);
    const list = byProject.get(f.project) ?? [];
    list.push(f);
    byProject.set(f.project, list);
  }
  for (const list of byProject.values()) list.sort(byFilename);
  return { byName, byProject, projects: [...byProject.keys()].sort() };
}
