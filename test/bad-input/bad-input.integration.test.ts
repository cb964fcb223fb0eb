/**
 * Issue 10, "Safety under faults and hostile input": a few hundred malformed inputs through the
 * real CLI. Each gives exit 2 with one error line (plus at most a hint), no stack trace, no
 * "internal error", and leaves the flake directory byte-identical; hostile but well-formed
 * reports are planned and shown escaped. Cases run one per CPU against the CLI compiled once,
 * each in a network namespace of its own when possible, so none can reach a network.
 */
import '../helpers/fake-nix-path.js';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildCli, mapPool, type BuiltCli } from '../helpers/built-cli.js';
import { checkOutcome, REPORTS, runCase, type Case, type Outcome } from './harness.js';
import { HOST_CASES, TARGET_CASES } from './cases-names.js';
import { ANSWERS_CASES, ANSWERS_FILE_CASES, CONFIG_CASES } from './cases-files.js';
import { FACTER_CASES, REPORT_CASES } from './cases-reports.js';
import { FLAG_CASES } from './cases-flags.js';

const CASES: Case[] = [...TARGET_CASES, ...HOST_CASES, ...CONFIG_CASES, ...ANSWERS_CASES, ...ANSWERS_FILE_CASES, ...REPORT_CASES, ...FACTER_CASES, ...FLAG_CASES];

let cli: BuiltCli;
let home: string;
const outcomes = new Map<string, Outcome>();

before(async () => {
  cli = await buildCli();
  home = mkdtempSync(join(tmpdir(), 'nb-bad-home-'));
  const env = { HOME: home, XDG_STATE_HOME: join(home, 'state'), SSH_AUTH_SOCK: undefined, BOOTSTRAP_AGE_IDENTITY: undefined, OP_SERVICE_ACCOUNT_TOKEN: undefined };
  // A real manifest for rebuild/recover cases, written by the CLI itself.
  const flake = join(home, 'template');
  mkdirSync(flake);
  writeFileSync(join(flake, 'flake.nix'), '{ }\n');
  const r = await cli.run(['plan', 'web1', '--report', join(REPORTS, 'ovh-vps.json'), '--write', '--flake', flake], { env });
  assert.equal(r.code, 0, r.stderr);
  const manifest = readFileSync(join(flake, 'hosts/web1/bootstrap.toml'), 'utf8');
  // One per CPU: more only queues on the CPU, and a case that waits long enough to hit its
  // timeout on a busy machine reads as a hang.
  await mapPool(CASES, Math.max(2, availableParallelism()), async (c) => outcomes.set(c.name, await runCase(cli, c, env, manifest)));
});
after(() => {
  cli?.cleanup();
  if (home) rmSync(home, { recursive: true, force: true });
});

test('case names are unique', () => assert.equal(new Set(CASES.map((c) => c.name)).size, CASES.length));

for (const c of CASES) test(c.name, () => checkOutcome(c, outcomes.get(c.name)!));
