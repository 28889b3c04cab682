import assert from "node:assert/strict";
import type {
  DistFile,
  IndexClient,
  MetadataOutcome,
  ProjectFilesOutcome,
} from "../index/types.ts";
import { parseDistFilename } from "../pep/filename.ts";
import { parseCoreMetadata } from "../pep/metadata.ts";
import { Requirement } from "../pep/requirement.ts";
import { targetFromPreset } from "../pep/tags.ts";
import { IndexProvider } from "./index_provider.ts";
import { resolveTargets } from "./resolve.ts";

function file(filename: string, extra: Partial<DistFile> = {}): DistFile {
  return {
    filename,
    url: `https://files.example/${filename}`,
    hashes: { sha256: "00" },
    yanked: false,
    coreMetadata: false,
    index: "https://pypi.example/simple/",
    parsed: parseDistFilename(filename),
    ...extra,
  };
}

/** A fake index: project -> files, and file name -> METADATA text. */
function fakeClient(
  projects: Record<string, DistFile[]>,
  metadata: Record<string, string>,
): IndexClient & { metadataRequests: string[] } {
  const metadataRequests: string[] = [];
  return {
    metadataRequests,
    projectFiles(name): Promise<ProjectFilesOutcome> {
      const files = projects[name];
      return Promise.resolve(
        files
          ? { kind: "found", project: name, files, index: "https://pypi.example/simple/" }
          : { kind: "not-found", project: name, indexes: ["https://pypi.example/simple/"] },
      );
    },
    metadata(f): Promise<MetadataOutcome> {
      metadataRequests.push(f.filename);
      const text = metadata[f.filename];
      if (text === undefined) {
        return Promise.resolve({ kind: "needs-build", file: f, reason: "dynamic requires-dist" });
      }
      return Promise.resolve({ kind: "found", metadata: parseCoreMetadata(text), via: "pep658" });
    },
    authHeaders: () => ({}),
  };
}

const meta = (name: string, version: string, ...lines: string[]) =>
  [`Metadata-Version: 2.1`, `Name: ${name}`, `Version: ${version}`, ...lines].join("\n") + "\n";

Deno.test("IndexProvider groups files by version and resolves per target from the index", async () => {
  const client = fakeClient({
    app: [
      file("app-1.0-py3-none-any.whl"),
      file("app-1.0.tar.gz"),
      file("app-2.0-py3-none-any.whl", {
        requiresPython: ">=3.13",
        uploadTime: "2024-01-01T00:00:00Z",
      }),
    ],
    numpy: [
      file("numpy-2.0.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"),
      file("numpy-2.0.0-cp311-cp311-win_amd64.whl"),
      file("numpy-2.1.0-cp311-cp311-win_amd64.whl", { yanked: { reason: "broken" } }),
    ],
  }, {
    "app-1.0-py3-none-any.whl": meta("app", "1.0", "Requires-Dist: numpy>=2"),
    "app-2.0-py3-none-any.whl": meta("app", "2.0", "Requires-Python: >=3.13"),
    "numpy-2.0.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl": meta(
      "numpy",
      "2.0.0",
    ),
  });
  const targets = [
    targetFromPreset("x86_64-manylinux_2_28", { pythonVersion: "3.11" }),
    targetFromPreset("x86_64-pc-windows-msvc", { pythonVersion: "3.11" }),
  ];
  const result = await resolveTargets([Requirement.parse("app")], targets, {
    provider: new IndexProvider(client),
  });
  for (const r of result.resolutions) {
    assert.equal(r.packages.get("app")!.version.toString(), "1.0");
    assert.equal(r.packages.get("numpy")!.version.toString(), "2.0.0");
  }
  assert.deepEqual(result.files.map((f) => [f.file.filename, f.targets.length]), [
    ["app-1.0-py3-none-any.whl", 2],
    ["numpy-2.0.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl", 1],
    ["numpy-2.0.0-cp311-cp311-win_amd64.whl", 1],
  ]);
  // Metadata is read once per version, from a wheel.
  assert.deepEqual(new Set(client.metadataRequests).size, client.metadataRequests.length);
});

Deno.test("IndexProvider reports missing projects and sdists that need a build", async () => {
  const client = fakeClient({ legacy: [file("legacy-1.0.tar.gz")] }, {});
  const provider = new IndexProvider(client);
  const missing = await provider.versions("ghost");
  assert.equal(missing.kind, "not-found");
  const found = await provider.versions("legacy");
  assert.ok(found.kind === "found");
  const outcome = await provider.metadata("legacy", found.candidates[0]!);
  assert.equal(outcome.kind, "unavailable");
  const error = await resolveTargets(
    [Requirement.parse("legacy")],
    [targetFromPreset("x86_64-manylinux_2_28", { pythonVersion: "3.11" })],
    { provider },
  ).catch((e) => e);
  assert.match(error.message, /legacy.*building is not supported/);
});

Deno.test("IndexProvider carries a file's yank reason, and a pinned yanked version warns with it", async () => {
  const client = fakeClient({
    pkg: [
      file("pkg-1.0-py3-none-any.whl"),
      file("pkg-2.0-py3-none-any.whl", { yanked: { reason: "  broken wheel " } }),
      file("pkg-2.0.tar.gz", { yanked: { reason: "" } }),
    ],
  }, {
    "pkg-1.0-py3-none-any.whl": meta("pkg", "1.0"),
    "pkg-2.0-py3-none-any.whl": meta("pkg", "2.0"),
  });
  const provider = new IndexProvider(client);
  const found = await provider.versions("pkg");
  assert.ok(found.kind === "found");
  const files = found.candidates.flatMap((c) => c.files);
  assert.deepEqual(files.map((f) => [f.filename, f.yanked, f.yankedReason]), [
    ["pkg-1.0-py3-none-any.whl", false, undefined],
    ["pkg-2.0-py3-none-any.whl", true, "broken wheel"],
    ["pkg-2.0.tar.gz", true, undefined],
  ]);
  assert.ok(files.every((f) => f.yanked || !("yankedReason" in f)));
  const messages: string[] = [];
  await resolveTargets(
    [Requirement.parse("pkg==2.0")],
    [targetFromPreset("x86_64-manylinux_2_28", { pythonVersion: "3.11" })],
    { provider, reporter: { onEvent: (e) => e.kind === "warning" && messages.push(e.message) } },
  );
  assert.deepEqual(messages, [
    "pkg 2.0 is yanked (reason: broken wheel); it is used only because pkg==2.0 asks for it",
  ]);
});
