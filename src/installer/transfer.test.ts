import { test } from 'node:test';
import assert from 'node:assert/strict';
import { attributeTransfers, formatBytes } from './transfer.js';
import { parseGuardTransfers } from './ssh-guard.js';

test('parseGuardTransfers reads the guard records (microseconds → ms) and skips anything else', () => {
  assert.deepEqual(parseGuardTransfers('transfer 1796663695014123 53596 3352\ngarbage\ntransfer x 1 2\n\ntransfer 1796663695020000 10 20\ntransfer 1796663695030000 70 30 hop\n'), [
    { endedAtMs: 1796663695014, sent: 53596, received: 3352 },
    { endedAtMs: 1796663695020, sent: 10, received: 20 },
    { endedAtMs: 1796663695030, sent: 70, received: 30, hop: true },
  ]);
});

test('attributeTransfers: a connection counts for the phase it ended in; before the first start, for the first', () => {
  const starts = [{ phase: 'kexec' as const, atMs: 100 }, { phase: 'disko' as const, atMs: 200 }, { phase: 'install' as const, atMs: 300 }];
  const got = attributeTransfers([
    { endedAtMs: 50, sent: 1, received: 1 },
    { endedAtMs: 150, sent: 10, received: 2 },
    { endedAtMs: 200, sent: 100, received: 3 },
    { endedAtMs: 299, sent: 1000, received: 4 },
    { endedAtMs: 900, sent: 5000, received: 5 },
    // A jump host's connection carries the one above: not counted twice.
    { endedAtMs: 901, sent: 5100, received: 6, hop: true },
  ], starts);
  assert.deepEqual(got, {
    kexec: { sent: 11, received: 3, connections: 2 },
    disko: { sent: 1100, received: 7, connections: 2 },
    install: { sent: 5000, received: 5, connections: 1 },
  });
  assert.deepEqual(attributeTransfers([{ endedAtMs: 1, sent: 1, received: 1 }], []), {});
});

test('formatBytes', () => {
  assert.deepEqual([512, 1234, 56_789, 3_000_000, 45_000_000, 2e9].map(formatBytes), ['512 B', '1.2 kB', '57 kB', '3.0 MB', '45 MB', '2.0 GB']);
});
