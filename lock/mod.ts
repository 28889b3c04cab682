/**
 * Lock files (PEP 751 `pylock.toml` and uv's `uv.lock`) to the files each target needs: the
 * planner behind `download --lock`. The readers themselves are in `pep/`.
 *
 * @example
 * ```ts
 * import { lockKindOfName } from "./mod.ts";
 * if (lockKindOfName("pylock.toml") !== "pylock") throw new Error();
 * ```
 *
 * @module
 */
export { lockKindOf, lockKindOfName, planPylock, planUvLock } from "./plan.ts";
export {
  LockError,
  type LockErrorCode,
  type LockKind,
  type LockPlan,
  type LockPlanOptions,
  type MissingFile,
  type PlannedFile,
  type Undownloadable,
} from "./types.ts";
