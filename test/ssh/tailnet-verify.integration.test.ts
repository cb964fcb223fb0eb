/**
 * Issue 21: the install's verify step for a host reachable only over its tailnet, against real
 * OpenSSH sshd in a network namespace. The host's public address answers with ANOTHER key (so a
 * verify that went there would fail with host-key-mismatch, and its sshd logs every connection);
 * the tailnet name maps (ssh config HostName, resolved by the real `ssh -G`, as an operator's
 * MagicDNS would resolve it) to an address on an interface named tailscale0 that appears only
 * when the host "joins": a veth pair whose namespace end is tailscale0, and an sshd with the
 * provisioned host key listening there. Tailscale itself cannot run here; the boundary is the
 * interface and the name.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCommand } from '../../src/exec/run.js';
import { Output } from '../../src/ports/output.js';
import { createPrompter } from '../../src/ports/prompter.js';
import { HostKeyPolicy } from '../../src/ssh/host-key-policy.js';
import { resolveTarget } from '../../src/ssh/ssh-config.js';
import { parseTarget } from '../../src/ssh/target.js';
import { verifyStep } from '../../src/workflow/install/steps-install.js';
import type { InstallCtx } from '../../src/workflow/install/context.js';
import { buildStatePath } from '../../src/workflow/install/state.js';
import { buildReachPath, saveReach } from '../../src/workflow/shared/tailnet.js';
import { systemClock } from '../../src/context.js';
import { keygen, waitListening } from '../helpers/sshd.js';
import { createNetnsLab, netnsSkipReason, type NetnsHost, type NetnsLab } from '../helpers/netns.js';

const NAME = 'web1.tail1234.ts.net';
const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });

describe('verify of a tailnet-only host (namespace host, tailscale0 appears on join)', { skip: netnsSkipReason() ?? false }, () => {
  let lab: NetnsLab;
  let host: NetnsHost;
  let dir: string;
  let tailIp: string;
  let joined: ChildProcess | undefined;
  const provisioned = () => join(dir, 'provisioned_ed25519');

  before(async () => {
    lab = await createNetnsLab();
    host = await lab.addHost({ hostname: 'web1', sshdConfig: ['LogLevel VERBOSE'] });
    dir = join(host.dir, '..', 'tailnet');
    mkdirSync(dir, { recursive: true });
    keygen(provisioned(), 'provisioned');
    tailIp = lab.subnet.replace(/\.0\/24$/, '.254');
  });
  after(async () => {
    if (joined && joined.exitCode === null) await new Promise<void>((r) => { joined!.once('exit', () => r()); joined!.kill('SIGTERM'); });
    await lab?.teardown();
  });

  /** The host joins: tailscale0 comes up with the tailnet address, sshd (provisioned key) listens there only. */
  async function join_(): Promise<void> {
    const outer = `${host.ns}t`;
    const rootIp = lab.subnet.replace(/\.0\/24$/, '.253');
    ip('link', 'add', outer, 'type', 'veth', 'peer', 'name', 'tailscale0', 'netns', host.ns);
    ip('addr', 'add', `${rootIp}/30`, 'dev', outer);
    ip('link', 'set', outer, 'up');
    ip('-n', host.ns, 'addr', 'add', `${tailIp}/30`, 'dev', 'tailscale0');
    ip('-n', host.ns, 'link', 'set', 'tailscale0', 'up');
    const cfg = join(dir, 'sshd_config');
    writeFileSync(cfg, [`Port 22`, `ListenAddress ${tailIp}`, `HostKey ${provisioned()}`, `PidFile ${join(dir, 'sshd.pid')}`, `AuthorizedKeysFile ${join(dir, 'none')}`, 'UsePAM no', 'StrictModes no', 'PasswordAuthentication no'].join('\n') + '\n');
    joined = spawn('ip', ['netns', 'exec', host.ns, '/usr/sbin/sshd', '-D', '-e', '-f', cfg], { stdio: ['ignore', 'ignore', 'pipe'] });
    await waitListening(joined);
  }

  /** The verify step's slice of an install context, for a target given by its public address. */
  async function ctx(o: { waitTimeout: number; progress: string[] }) {
    const flakeDir = join(dir, `flake${Math.random().toString(36).slice(2, 8)}`);
    mkdirSync(flakeDir, { recursive: true });
    const sshConfig = join(flakeDir, 'ssh_config');
    writeFileSync(sshConfig, `Host ${NAME}\n  HostName ${tailIp}\n`);
    const out = new Output({ write: () => {} }, { write: () => {} }, { color: false });
    const env = { HOME: join(dir, 'home'), PATH: process.env.PATH };
    const app = { out, prompts: createPrompter(false), env, run: runCommand, signal: new AbortController().signal, clock: systemClock, cwd: flakeDir };
    const target = await resolveTarget({ run: runCommand, env }, host.target, parseTarget(host.target), { configFile: sshConfig });
    const c = {
      app, clock: systemClock, signal: app.signal, flakeDir, host: 'web1', loaded: { config: { stateDir: '.bootstrap' } }, target,
      ssh: { hostKeys: new HostKeyPolicy(app, { flakeDir }) }, identity: 'provisioned', earlierKeys: new Set<string>(),
      answers: { waitTimeout: o.waitTimeout },
      keys: async () => ({ ssh: { publicKey: readFileSync(`${provisioned()}.pub`, 'utf8') } }),
    } as unknown as InstallCtx;
    const progress = { update: (d: string) => o.progress.push(d) } as never;
    return { c, progress, flakeDir, reachPath: buildReachPath(buildStatePath(flakeDir, '.bootstrap', 'web1')) };
  }

  const publicConnections = () => (readFileSync(join(host.dir, 'sshd.log'), 'utf8').match(/Connection from/g) ?? []).length;

  it('a host that never joins fails with a clear error within its deadline, and its public address is not contacted', async () => {
    const progress: string[] = [];
    const { c, progress: p, reachPath } = await ctx({ waitTimeout: 3, progress });
    await saveReach(reachPath, { tailnetOnly: true, name: NAME, interface: 'tailscale0' });
    const before = publicConnections();
    const started = Date.now();
    await assert.rejects(verifyStep.run(c, p), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'tailnet-wait-timeout');
      assert.match(e.message, new RegExp(`^root@${NAME.replace(/\./g, '\\.')} \\(${tailIp.replace(/\./g, '\\.')}\\) did not answer over the tailnet within 3 s`));
      return true;
    });
    // One attempt may be in flight at the deadline (an attempt is bounded by what is left).
    assert.ok(Date.now() - started < 3_000 + 4_000, `gave up after ${Date.now() - started} ms`);
    assert.match(progress[0]!, /over the tailnet$/);
    assert.equal(publicConnections(), before, 'nothing connected to the public address');
  });

  it('waits until the host joins, checks the provisioned key over the tailnet and pins it under the tailnet name; the public address is not used', async () => {
    const progress: string[] = [];
    const { c, progress: p, flakeDir, reachPath } = await ctx({ waitTimeout: 60, progress });
    await saveReach(reachPath, { tailnetOnly: true, name: NAME, interface: 'tailscale0' });
    const before = publicConnections();
    const started = Date.now();
    let joinedAt = Infinity;
    const joining = new Promise<void>((r) => setTimeout(() => void join_().then(() => { joinedAt = Date.now(); r(); }), 1_500));
    const r = await verifyStep.run(c, p);
    const doneAt = Date.now();
    await joining;
    assert.deepEqual(r, { detail: `over the tailnet: ${NAME}` });
    // Only the joined sshd holds the provisioned key: the step returned after the join, not before.
    assert.ok(doneAt >= joinedAt && joinedAt - started >= 1_500, `waited ${doneAt - started} ms, joined at ${joinedAt - started} ms`);
    assert.match(progress[0]!, /^waiting for root@.* over the tailnet$/);
    const fp = execFileSync('ssh-keygen', ['-lf', `${provisioned()}.pub`], { encoding: 'utf8' }).split(' ')[1]!;
    assert.match(progress.at(-1)!, new RegExp(`presents ${fp.replace(/[+/]/g, '.')} over the tailnet as root@${tailIp.replace(/\./g, '\\.')}, pinned`));
    // Pinned under the address the name resolved to (here through the ssh config).
    assert.match(readFileSync(join(flakeDir, '.bootstrap', 'known_hosts'), 'utf8'), new RegExp(`^${tailIp.replace(/\./g, '\\.')} ssh-ed25519 `, 'm'));
    assert.equal(publicConnections(), before, 'nothing connected to the public address');
  });

  it('the same step without the tailnet record goes to the public address, whose other key is refused (the tests above would see it)', async () => {
    const { c, progress } = await ctx({ waitTimeout: 10, progress: [] });
    const before = publicConnections();
    await assert.rejects(verifyStep.run(c, progress), { code: 'host-key-mismatch' });
    assert.ok(publicConnections() > before);
  });
});
