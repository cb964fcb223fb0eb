/**
 * The wipe gate, one test per way around it: --yes alone, a --confirm-disk naming another disk, no
 * terminal, a mistyped host name. Each must refuse; only the exact confirmations pass.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Output } from '../../ports/output.js';
import type { Prompter } from '../../ports/prompter.js';
import { isBootstrapError } from '../../errors.js';
import type { InstallDisk } from '../../render/install-disk.js';
import { confirmsDisk, runConfirmWipe } from './confirm.js';

const disk: InstallDisk = {
  path: '/dev/disk/by-id/nvme-Samsung_SSD_980_S64DNX0R123456', byId: '/dev/disk/by-id/nvme-Samsung_SSD_980_S64DNX0R123456',
  devPath: '/dev/nvme0n1', name: 'nvme0n1', sizeBytes: 500e9, serial: 'S64DNX0R123456', model: 'Samsung SSD 980', links: ['/dev/disk/by-id/nvme-Samsung_SSD_980_S64DNX0R123456'],
};
const other: InstallDisk = { ...disk, path: '/dev/disk/by-id/ata-OTHER', byId: '/dev/disk/by-id/ata-OTHER', devPath: '/dev/sda', name: 'sda' };

function ports(typed?: string) {
  const asked: string[] = [];
  const w = { write: (t: string) => void asked.push(t) };
  const prompts: Prompter = {
    interactive: typed !== undefined,
    input: async (q) => {
      asked.push(q.message);
      return typed ?? '';
    },
    select: async () => {
      throw new Error('no select here');
    },
    confirm: async () => {
      throw new Error('no yes/no here: the wipe needs the typed host name');
    },
  };
  return { app: { prompts, out: new Output(w, w, { color: false }) }, asked };
}

const base = { host: 'web1', target: 'root@203.0.113.7', disk, manifestConfirms: false };
const refuses = (code: string) => (e: unknown) => isBootstrapError(e) && e.code === code;

test('--yes alone does not wipe; --yes with another disk does not wipe; --yes with this disk does', async () => {
  await assert.rejects(runConfirmWipe(ports().app, { ...base, answers: { yes: true } }), refuses('confirmation-needed'));
  await assert.rejects(runConfirmWipe(ports().app, { ...base, answers: { yes: true, confirmDisk: other.byId! } }), refuses('wrong-disk-confirmation'));
  await assert.rejects(runConfirmWipe(ports().app, { ...base, answers: { yes: true, confirmDisk: '/dev/disk/by-id/nvme-Samsung' } }), refuses('wrong-disk-confirmation'));
  await runConfirmWipe(ports().app, { ...base, answers: { yes: true, confirmDisk: disk.byId! } });
  await runConfirmWipe(ports().app, { ...base, answers: { yes: true, confirmDisk: '/dev/nvme0n1' } });
  // The committed manifest names this disk and the probe matched it: --yes suffices (rebuild).
  await runConfirmWipe(ports().app, { ...base, manifestConfirms: true, answers: { yes: true } });
});

test('without --yes: no terminal refuses; a mistyped host name refuses; the exact name passes', async () => {
  await assert.rejects(runConfirmWipe(ports().app, { ...base, answers: {} }), refuses('confirmation-needed'));
  await assert.rejects(runConfirmWipe(ports('web2').app, { ...base, answers: {} }), refuses('not-confirmed'));
  await assert.rejects(runConfirmWipe(ports('').app, { ...base, answers: {} }), refuses('not-confirmed'));
  await assert.rejects(runConfirmWipe(ports('y').app, { ...base, answers: {} }), refuses('not-confirmed'));
  // A manifest match is no confirmation without --yes: a person still types the name.
  await assert.rejects(runConfirmWipe(ports('yes').app, { ...base, manifestConfirms: true, answers: {} }), refuses('not-confirmed'));
  const ok = ports('web1');
  await runConfirmWipe(ok.app, { ...base, answers: {} });
  assert.ok(ok.asked.some((l) => l.includes('This ERASES /dev/disk/by-id/nvme-Samsung_SSD_980_S64DNX0R123456')), 'the disk is named before the question');
});

test('confirmsDisk: by-id, path, /dev/NAME or NAME of this disk only', () => {
  for (const g of [disk.byId!, disk.path, '/dev/nvme0n1', 'nvme0n1', ` ${disk.byId} `]) assert.equal(confirmsDisk(g, disk), true, g);
  for (const g of ['', '/dev/sda', 'sda', other.byId!, '/dev/disk/by-id/', 'nvme0n']) assert.equal(confirmsDisk(g, disk), false, g);
});

test('a mistyped host name is asked again (3 tries); the wizard can take the last miss back to its review', async () => {
  const answers = ['web2', 'web1'];
  const w = { write: () => undefined };
  const seq = (xs: string[]): Prompter => ({ interactive: true, input: async () => xs.shift() ?? '', select: async () => { throw new Error('no'); }, confirm: async () => false });
  assert.equal(await runConfirmWipe({ prompts: seq(answers), out: new Output(w, w, { color: false }) }, { ...base, answers: {} }), true);
  assert.equal(await runConfirmWipe({ prompts: seq(['a', 'b', 'c', 'web1']), out: new Output(w, w, { color: false }) }, { ...base, answers: {}, onMistyped: 'return' }), false);
  await assert.rejects(runConfirmWipe({ prompts: seq(['a', 'b', 'c', 'web1']), out: new Output(w, w, { color: false }) }, { ...base, answers: {} }), refuses('not-confirmed'));
});
