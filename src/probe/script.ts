/**
 * The probe script and the remote command that runs it. The script text travels on stdin of ONE
 * exec channel (`sh -s`), so the whole probe costs one SSH round trip after the handshake.
 * The text lives in probe.sh beside this file (scripts/build.mjs copies it into dist/probe/; codeAsset finds either).
 */
import { readFileSync } from 'node:fs';
import { codeAsset } from '../package-files.js';

/**
 * The remote command line. Plain `sh -s` works under any login shell (bash, dash, busybox ash,
 * even csh/fish, which would choke on a leading `VAR=value`); the script sets LC_ALL=C itself.
 */
export const PROBE_COMMAND = 'sh -s';

let cached: string | undefined;

/** The probe script text, read once (src/probe/probe.sh under tsx, dist/probe/probe.sh in the bundle). */
export function loadProbeScript(): string {
  cached ??= readFileSync(codeAsset('probe/probe.sh'), 'utf8');
  return cached;
}
