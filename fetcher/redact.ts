/**
 * Credential redaction for URLs that end up in messages, manifests and logs: the one style of
 * `pep/redact.ts`, re-exported for the fetcher's users.
 *
 * @module
 */
export { redactUrl } from "../pep/redact.ts";
