import assert from "node:assert/strict";
import { InMemoryProvider } from "./in_memory_provider.ts";
import { Session } from "./_session.ts";
import type { Provider } from "./types.ts";

Deno.test("a prefetched page asks at once for the metadata of its newest final release, and that metadata for its dependencies' pages", async () => {
  const inner = new InMemoryProvider({
    lib: { "1.0": [], "2.0": ["deep>=1"], "3.0rc1": [] },
    deep: { "1.0": [] },
  });
  const calls: string[] = [];
  const provider: Provider = {
    prefetch: true,
    versions: (name) => {
      calls.push(`versions ${name}`);
      return inner.versions(name);
    },
    metadata: (name, c) => {
      calls.push(`metadata ${name} ${c.version}`);
      return inner.metadata(name, c);
    },
  };
  const session = new Session(provider, {});
  session.prefetchVersions("lib");
  for (let i = 0; i < 50 && !calls.includes("metadata deep 1.0"); i++) {
    await new Promise((r) => setTimeout(r, 1));
  }
  // The likely version (not the pre-release, not an older one), then the chain goes on.
  assert.deepEqual(calls, [
    "versions lib",
    "metadata lib 2.0",
    "versions deep",
    "metadata deep 1.0",
  ]);
});
