/** The version of wheelhouse, printed by `--version` and recorded in generated files. */
export const VERSION = "0.1.0";
