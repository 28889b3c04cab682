/**
 * Resolution of Python requirements into pinned versions per target environment, over a
 * {@linkcode Provider} (the index client through {@linkcode IndexProvider}, or
 * {@linkcode InMemoryProvider}); conflict-driven (PubGrub) with failures explained in words.
 *
 * @module
 */

export * from "./types.ts";
export * from "./resolve.ts";
export * from "./in_memory_provider.ts";
export * from "./index_provider.ts";
export {
  describeRegion,
  filesServing,
  type RegionOptions,
  resolveUniversal,
  type UniversalPackage,
  type UniversalRequirement,
  type UniversalResolution,
  type UniversalResolveOptions,
} from "./universal.ts";
