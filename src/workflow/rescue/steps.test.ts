import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Output } from '../../ports/output.js';
import type { Prompter } from '../../ports/prompter.js';
import type { AppContext } from '../../context.js';
import type { BootstrapError } from '../../errors.js';
import { buildHostKey, type HostKey } from '../../ssh/host-keys.js';
import type { JournalEntry } from '../journal.js';
import { planRescueRun } from './first.js';
import { checkRescueTrust, rescueWaitStep, type RescueCtx } from './steps.js';

const key = (n: number): HostKey => {
  const type = Buffer.from('ssh-ed25519');
  const blob = Buffer.concat([Buffer.from([0, 0, 0, type.length]), type, Buffer.from([0, 0, 0, 32]), Buffer.alloc(32, n)]);
  return buildHostKey(blob);
};

test('checkRescueTrust: --yes (or no terminal) with no trusted source and no --host-key is refused', () => {
  const base = { label: 'Hetzner Cloud', host: 'web1' };
  assert.throws(() => checkRescueTrust({ ...base, exposesHostKey: false, mayAsk: false }), (e: BootstrapError) => e.code === 'rescue-key-unverifiable' && e.kind === 'usage');
  checkRescueTrust({ ...base, exposesHostKey: false, mayAsk: false, pin: 'SHA256:x' });
  checkRescueTrust({ ...base, exposesHostKey: false, mayAsk: true });
  checkRescueTrust({ ...base, exposesHostKey: true, mayAsk: false });
});

test('planRescueRun: --from an install step skips the rescue; --resume after a finished rescue does not reset again', () => {
  const e = (stepId: string, status: JournalEntry['status'], runId = 'r1'): JournalEntry => ({ runId, stepId, status, startedAt: 't' });
  const finished = ['rescue-enable', 'rescue-reset', 'rescue-wait', 'rescue-boot-disk'].map((s) => e(s, 'done')).concat([e('write', 'done'), e('disko', 'failed')]);
  assert.deepEqual(planRescueRun(finished, { resume: false, from: 'disko' }), { kind: 'past-rescue', from: 'disko' });
  assert.deepEqual(planRescueRun(finished, { resume: true }), { kind: 'rescue-finished' });
  assert.deepEqual(planRescueRun(finished, { resume: false }), { kind: 'rescue', resume: false });
  assert.deepEqual(planRescueRun(finished, { resume: true, from: 'rescue-wait' }), { kind: 'rescue', from: 'rescue-wait', resume: false });
  const stopped = [e('rescue-enable', 'done'), e('rescue-reset', 'done'), e('rescue-wait', 'failed')];
  assert.deepEqual(planRescueRun(stopped, { resume: true }), { kind: 'rescue', resume: true });
  assert.deepEqual(planRescueRun([], { resume: true }), { kind: 'rescue', resume: true });
});

function ctx(dir: string, o: { probe: HostKey[]; pin?: string; mayAsk?: boolean; answer?: boolean; trusted?: string }) {
  let now = 0;
  let err = '';
  const asked: string[] = [];
  const prompts: Prompter = {
    interactive: o.mayAsk ?? false,
    input: () => Promise.reject(new Error('no')),
    select: () => Promise.reject(new Error('no')),
    confirm: async (q) => { asked.push(q.message); return o.answer ?? false; },
  };
  const out = new Output({ write() {} }, { write: (t) => void (err += t) }, { color: false });
  const clock = { now: () => new Date(now), sleep: async (ms: number) => { now += ms; } };
  const answers = [...o.probe];
  writeFileSync(join(dir, 'rescue.json'), JSON.stringify({ serverId: '1', ...(o.trusted ? { trustedFingerprint: o.trusted } : {}) }));
  const c = {
    app: { out, prompts, clock, env: {}, cwd: dir, signal: new AbortController().signal } as unknown as AppContext,
    out, clock, signal: new AbortController().signal, host: 'web1', selector: 'web1',
    target: { user: 'root', host: '203.0.113.7', port: 22 }, knownHostsFile: join(dir, 'known_hosts'), statePath: join(dir, 'rescue.json'),
    waitTimeoutMs: 60_000, mayAsk: o.mayAsk ?? false, ...(o.pin ? { pin: o.pin } : {}),
    probe: async () => { const k = answers.shift(); if (!k) throw new Error('connection refused'); return k; },
  } as unknown as RescueCtx;
  return { c, asked, err: () => err, now: () => now };
}
const progress = { update() {}, done() {}, fail() {} } as never;

test('the wait step: the old key means "not reset yet"; the rescue key must match --host-key and is pinned', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nb-rescue-wait-'));
  try {
    const old = key(1);
    const rescue = key(2);
    writeFileSync(join(dir, 'known_hosts'), `203.0.113.7 ssh-ed25519 ${old.blob.toString('base64')}\n`);
    const t = ctx(dir, { probe: [old, rescue], pin: rescue.fingerprint });
    await rescueWaitStep.run(t.c, progress);
    assert.equal(t.c.rescueKey?.fingerprint, rescue.fingerprint);
    assert.equal(readFileSync(join(dir, 'known_hosts'), 'utf8'), `203.0.113.7 ssh-ed25519 ${rescue.blob.toString('base64')}\n`, 'the rescue key replaces the old pin');

    writeFileSync(join(dir, 'known_hosts'), '');
    const wrong = ctx(dir, { probe: [key(3)], pin: rescue.fingerprint });
    await assert.rejects(rescueWaitStep.run(wrong.c, progress), (e: BootstrapError) => e.code === 'host-key-mismatch' && /given with --host-key/.test(e.message));
    assert.equal(readFileSync(join(dir, 'known_hosts'), 'utf8'), '', 'nothing pinned');

    const api = ctx(dir, { probe: [key(3)], trusted: rescue.fingerprint, pin: key(3).fingerprint });
    await assert.rejects(rescueWaitStep.run(api.c, progress), (e: BootstrapError) => e.code === 'host-key-mismatch' && /from the provider API/.test(e.message), 'a key from the API wins over --host-key');

    const timeout = ctx(dir, { probe: [] });
    await assert.rejects(rescueWaitStep.run(timeout.c, progress), (e: BootstrapError) => e.code === 'rescue-wait-timeout' && /connection refused/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the wait step asks on a terminal, showing the fingerprint; no means nothing is pinned', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nb-rescue-ask-'));
  try {
    const rescue = key(4);
    const no = ctx(dir, { probe: [rescue], mayAsk: true, answer: false });
    await assert.rejects(rescueWaitStep.run(no.c, progress), (e: BootstrapError) => e.code === 'host-key-declined');
    assert.match(no.err(), new RegExp(rescue.fingerprint.replace(/[+/]/g, '.')));
    assert.equal(no.asked.length, 1);
    assert.throws(() => readFileSync(join(dir, 'known_hosts')));
    const yes = ctx(dir, { probe: [rescue], mayAsk: true, answer: true });
    await rescueWaitStep.run(yes.c, progress);
    assert.match(readFileSync(join(dir, 'known_hosts'), 'utf8'), /^203\.0\.113\.7 ssh-ed25519 /);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
