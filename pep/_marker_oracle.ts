// Test-only helper: asks Python's `packaging` (the reference implementation pip vendors) about a
// batch of markers and requirements in ONE python3 process, JSON in and out. Imported only by
// marker_test.ts and requirement_test.ts; library code never spawns processes.

/** One marker to evaluate in several environments. */
export interface OracleMarkerCase {
  readonly marker: string;
  /** Full environments plus `extras`/`dependencyGroups` as `Marker.evaluate` takes them. */
  readonly envs: readonly OracleEnv[];
}

/** An environment for the oracle: the 11 PEP 508 strings, requested extras and groups. */
export interface OracleEnv {
  readonly values: Readonly<Record<string, string>>;
  readonly extras: readonly string[];
  readonly dependencyGroups: readonly string[];
}

/** packaging's answer for one marker; `column` is packaging's error span `[start, caret]`. */
export type OracleMarkerResult =
  | { readonly ok: true; readonly str: string; readonly results: readonly (boolean | "error")[] }
  | { readonly ok: false; readonly error: string; readonly column: readonly [number, number] };

/** packaging's answer for one requirement (extras normalised and sorted, as ours). */
export type OracleRequirementResult =
  | {
    readonly ok: true;
    readonly name: string;
    readonly extras: readonly string[];
    readonly specifier: string;
    readonly url: string | null;
    readonly marker: string | null;
  }
  | { readonly ok: false; readonly error: string; readonly column: readonly [number, number] };

/** What the oracle reports about the packaging it found. */
export interface OracleAnswer {
  readonly version: string;
  readonly markers: readonly OracleMarkerResult[];
  readonly requirements: readonly OracleRequirementResult[];
}

// `extra` is iterated like Marker.evaluate does (pip's rule): the marker holds when it holds for
// any requested extra, or for "" when none is requested.
const SCRIPT = String.raw`
import json, sys
try:
    import packaging
    from packaging.markers import Marker
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name
except ImportError:
    from pip._vendor import packaging
    from pip._vendor.packaging.markers import Marker
    from pip._vendor.packaging.requirements import Requirement
    from pip._vendor.packaging.utils import canonicalize_name

def column(e):
    cause = e.__cause__
    span = getattr(cause, "span", None)
    return list(span) if span else [-1, -1]

data = json.load(sys.stdin)
markers = []
for case in data["markers"]:
    try:
        m = Marker(case["marker"])
    except Exception as e:
        markers.append({"ok": False, "error": str(e).splitlines()[0], "column": column(e)})
        continue
    results = []
    for env in case["envs"]:
        extras = env["extras"]
        base = dict(env["values"])
        base["extras"] = frozenset(extras)
        base["dependency_groups"] = frozenset(env["dependencyGroups"])
        try:
            results.append(any(m.evaluate(dict(base, extra=x)) for x in (extras or [""])))
        except Exception:
            results.append("error")
    markers.append({"ok": True, "str": str(m), "results": results})
requirements = []
for text in data["requirements"]:
    try:
        r = Requirement(text)
    except Exception as e:
        requirements.append({"ok": False, "error": str(e).splitlines()[0], "column": column(e)})
        continue
    requirements.append({
        "ok": True, "name": r.name,
        "extras": sorted({canonicalize_name(x) for x in r.extras}),
        "specifier": str(r.specifier), "url": r.url,
        "marker": None if r.marker is None else str(r.marker),
    })
json.dump({"version": packaging.__version__, "markers": markers, "requirements": requirements}, sys.stdout)
`;

/** The packaging version the oracle needs: markers compare strings like packaging >= 26. */
const MIN_MAJOR = 26;

/**
 * Runs the oracle, or returns a reason to skip (no python3, or a packaging too old to agree).
 */
export async function askPackaging(
  markers: readonly OracleMarkerCase[],
  requirements: readonly string[],
): Promise<OracleAnswer | { skip: string }> {
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command("python3", {
      args: ["-c", SCRIPT],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (error) {
    return { skip: `python3 is not available (${String(error)})` };
  }
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(JSON.stringify({ markers, requirements })));
  await writer.close();
  const output = await child.output();
  if (!output.success) {
    return { skip: `python3 packaging oracle failed: ${new TextDecoder().decode(output.stderr)}` };
  }
  const answer = JSON.parse(new TextDecoder().decode(output.stdout)) as OracleAnswer;
  const major = Number(answer.version.split(".")[0]);
  if (!(major >= MIN_MAJOR)) {
    return {
      skip: `packaging ${answer.version} is older than ${MIN_MAJOR}; its marker rules differ`,
    };
  }
  return answer;
}

/** Whether python3 can be spawned at all (for `ignore` on differential tests). */
export function hasPython(): boolean {
  try {
    return new Deno.Command("python3", { args: ["-c", "import sys"] }).outputSync().success;
  } catch {
    return false;
  }
}
