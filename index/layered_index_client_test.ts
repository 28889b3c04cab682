import assert from "node:assert/strict";
import { parseDistFilename } from "../pep/filename.ts";
import { LayeredIndexClient } from "./layered_index_client.ts";
import type { DistFile, IndexClient, ProjectFilesOutcome } from "./types.ts";

function file(filename: string, index: string): DistFile {
  return {
    filename,
    url: `https://x.example/${filename}`,
    hashes: { sha256: "a".repeat(64) },
    yanked: false,
    coreMetadata: false,
    index,
    parsed: parseDistFilename(filename),
  };
}

function client(files: Record<string, DistFile[]>, calls: string[] = []): IndexClient {
  return {
    projectFiles: (project): Promise<ProjectFilesOutcome> => {
      calls.push(project);
      const got = files[project];
      return Promise.resolve(
        got === undefined
          ? { kind: "offline-miss", project }
          : { kind: "found", project, files: got, index: got[0]!.index },
      );
    },
    metadata: (f) => Promise.resolve({ kind: "offline-miss", file: f }),
    authHeaders: () => ({}),
  };
}

Deno.test("LayeredIndexClient with first-index never mixes a project the first client has with the second's files", async () => {
  const calls: string[] = [];
  const named = client({ six: [file("six-1.0-py3-none-any.whl", "https://i/simple/")] });
  const cache = client({
    six: [file("six-9.9-py3-none-any.whl", "the cache (from elsewhere)")],
    other: [file("other-1.0-py3-none-any.whl", "the cache (from elsewhere)")],
  }, calls);
  const both = new LayeredIndexClient(named, cache);
  const six = await both.projectFiles("six");
  assert.equal(six.kind, "found");
  assert.deepEqual(six.kind === "found" && six.files.map((f) => f.filename), [
    "six-1.0-py3-none-any.whl",
  ]);
  assert.deepEqual(calls, [], "the second is not even asked");
  const other = await both.projectFiles("other");
  assert.equal(other.kind === "found" && other.files[0]!.index, "the cache (from elsewhere)");
});

Deno.test("LayeredIndexClient with unsafe-best-match offers both, the first's file winning a shared name", async () => {
  const named = client({ six: [file("six-1.0-py3-none-any.whl", "https://i/simple/")] });
  const cache = client({
    six: [
      file("six-1.0-py3-none-any.whl", "the cache (from elsewhere)"),
      file("six-2.0-py3-none-any.whl", "the cache (from elsewhere)"),
    ],
  });
  const both = new LayeredIndexClient(named, cache, { strategy: "unsafe-best-match" });
  const six = await both.projectFiles("six");
  assert.deepEqual(six.kind === "found" && six.files.map((f) => `${f.filename} ${f.index}`), [
    "six-1.0-py3-none-any.whl https://i/simple/",
    "six-2.0-py3-none-any.whl the cache (from elsewhere)",
  ]);
});
