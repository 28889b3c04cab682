// A second, independent PEP 440 implementation (@renovatebot/pep440, the port Renovate uses)
// cross-checks ours on every machine, including those without Python for the packaging oracle.
import assert from "node:assert/strict";
import fc from "fast-check";
import * as pep440 from "@renovatebot/pep440";
import { Version } from "./version.ts";
import { versionText } from "./_version_testing.ts";

Deno.test("Version.compare() orders versions as @renovatebot/pep440 does", () => {
  fc.assert(
    fc.property(versionText, versionText, (a, b) => {
      const mine = Math.sign(Version.parse(a).compare(Version.parse(b)));
      assert.equal(mine, Math.sign(pep440.compare(a, b)), `${a} vs ${b}`);
    }),
    { numRuns: 2000, seed: 440 },
  );
});

Deno.test("Version fields agree with @renovatebot/pep440's explain()", () => {
  fc.assert(
    fc.property(versionText, (text) => {
      const v = Version.parse(text);
      const theirs = pep440.explain(text);
      assert.ok(theirs, text);
      assert.equal(v.epoch, theirs.epoch, text);
      assert.deepEqual([...v.release], theirs.release, text);
      assert.equal(v.post ?? null, theirs.post, text);
      assert.equal(v.dev ?? null, theirs.dev, text);
      assert.equal(v.isPrerelease, theirs.is_prerelease, text);
      assert.equal(v.public, theirs.public, text);
      assert.equal(v.baseVersion, theirs.base_version, text);
    }),
    { numRuns: 1000, seed: 508 },
  );
});

Deno.test("Version rejects what @renovatebot/pep440 rejects, on junk input", () => {
  for (const junk of ["", "1.0-", "a.b", "1..0", "1.0.dev.dev", "==1.0", "1.0+", "1.0+a_", "1!"]) {
    assert.equal(Version.tryParse(junk), undefined, junk);
    assert.equal(pep440.valid(junk), null, junk);
  }
});
