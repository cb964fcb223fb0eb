/**
 * ssh config and jump hosts (issue 20) against real OpenSSH sshd in namespaces: a target only a
 * bastion reaches, named by an alias of an ssh config (HostName, Port, User, IdentityFile,
 * ProxyJump, IdentityAgent with a real ssh-agent), resolved by the real `ssh -G`. The bastion's
 * key goes through the same policy as the target's, and a wrong one stops the run before the
 * target is contacted.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCommand } from '../../src/exec/run.js';
import { Output } from '../../src/ports/output.js';
import { createPrompter } from '../../src/ports/prompter.js';
import { fetchHostKey } from '../../src/ssh/fetch-host-key.js';
import { HostKeyPolicy } from '../../src/ssh/host-key-policy.js';
import { withSession, openSession, type SessionPorts } from '../../src/ssh/session.js';
import { resolveTarget } from '../../src/ssh/ssh-config.js';
import { parseTarget } from '../../src/ssh/target.js';
import { keygen } from '../helpers/sshd.js';
import { buildGuardJumps, buildGuardPins, buildPinNames, prepareSshGuard } from '../../src/installer/ssh-guard.js';
import { buildHostKey } from '../../src/ssh/host-keys.js';
import { knownHostsName } from '../../src/ssh/target.js';
import { planBehind, type BehindBastion } from '../helpers/bastion.js';
import { createNetnsLab, netnsSkipReason, type NetnsHost, type NetnsLab } from '../helpers/netns.js';

describe('through a jump host, with the ssh config', { skip: netnsSkipReason() ?? false }, () => {
  let lab: NetnsLab;
  let bastion: NetnsHost;
  let hidden: BehindBastion & { host: NetnsHost };
  let dir: string;
  let n = 0;
  let agent: ChildProcess | undefined;
  const agentSock = () => join(dir, 'agent.sock');

  before(async () => {
    lab = await createNetnsLab();
    bastion = await lab.addHost({ hostname: 'bastion' });
    // LogLevel VERBOSE: sshd logs every "Connection from", so a test can see nothing arrived.
    const behind = planBehind(lab, bastion);
    hidden = { ...behind, host: await lab.addHost({ hostname: 'hidden', port: 2222, sshdConfig: ['LogLevel VERBOSE'], listenAddress: behind.listenAddress, setup: behind.setup }) };
    dir = join(bastion.dir, '..', 'jump');
    mkdirSync(dir, { recursive: true });
    // A real ssh-agent holding the bastion's client key, for IdentityAgent.
    agent = spawn('ssh-agent', ['-D', '-a', agentSock()], { stdio: 'ignore' });
    for (let i = 0; i < 100 && !existsSync(agentSock()); i++) await new Promise((r) => setTimeout(r, 20));
    await runCommand(['ssh-add', bastion.clientKeyPath], { env: { SSH_AUTH_SOCK: agentSock() } });
  });
  after(async () => {
    agent?.kill('SIGTERM');
    await lab?.teardown();
  });

  /** A fresh HOME (no keys, no agent, no config) and flake per test. */
  function world(config: string) {
    const base = join(dir, `w${n++}`);
    const home = join(base, 'home');
    const flake = join(base, 'flake');
    mkdirSync(join(home, '.ssh'), { recursive: true });
    mkdirSync(flake, { recursive: true });
    const cfg = join(base, 'ssh_config');
    writeFileSync(cfg, config);
    const out = new Output({ write: () => {} }, { write: () => {} }, { color: false });
    const ports: SessionPorts = { out, prompts: createPrompter(false), env: { HOME: home, PATH: process.env.PATH }, signal: new AbortController().signal };
    const hostKeys = new HostKeyPolicy(ports, { flakeDir: flake });
    const resolve = (text: string) => resolveTarget({ run: runCommand, env: ports.env }, text, parseTarget(text), { configFile: cfg });
    return { home, flake, ports, hostKeys, cfg, resolve, pinFile: join(flake, '.bootstrap', 'known_hosts') };
  }

  const aliasConfig = (bastionAuth: string) => `
Host hidden
  HostName ${hidden.privateIp}
  Port 2222
  User root
  IdentityFile ${hidden.host.clientKeyPath}
  IdentitiesOnly yes
  ProxyJump bastion
Host bastion
  HostName ${bastion.ip}
  User root
${bastionAuth}
`;
  const pub = (h: NetnsHost) => readFileSync(`${h.hostKeyPath}.pub`, 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
  const connectionsTo = (h: NetnsHost) => (readFileSync(join(h.dir, 'sshd.log'), 'utf8').match(/Connection from/g) ?? []).length;

  it('a direct connection fails: the target answers only through the bastion', async () => {
    const w = world('');
    for (const addr of [hidden.privateIp, hidden.host.ip]) {
      await assert.rejects(
        openSession(w.ports, parseTarget(`root@${addr}:2222`), { hostKeys: w.hostKeys, identityFile: hidden.host.clientKeyPath, timeoutMs: 1500 }),
        (e: { code?: string }) => ['ssh-timeout', 'ssh-unreachable', 'ssh-connection-refused'].includes(e.code ?? ''),
      );
    }
  });

  it('an alias with HostName, Port, User, IdentityFile and ProxyJump: the bastion key from ~/.ssh/known_hosts, both pinned under their own names', async () => {
    const w = world(aliasConfig(`  IdentityFile ${bastion.clientKeyPath}`));
    writeFileSync(join(w.home, '.ssh', 'known_hosts'), `${bastion.ip} ${pub(bastion)}\n`);
    const target = await w.resolve('hidden');
    assert.deepEqual([target.user, target.host, target.port, target.jumps?.map((j) => j.host)], ['root', hidden.privateIp, 2222, [bastion.ip]]);
    w.hostKeys.pin(target, hidden.host.fingerprint);
    const seen = connectionsTo(hidden.host);
    const r = await withSession(w.ports, target, { hostKeys: w.hostKeys }, (s) => s.exec('cat /proc/sys/kernel/hostname'));
    assert.equal(r.stdout.trim(), 'hidden');
    assert.ok(connectionsTo(hidden.host) > seen, "the target's sshd logs each connection (what the refusal test counts)");
    const pins = readFileSync(w.pinFile, 'utf8');
    assert.ok(pins.includes(`${bastion.ip} ${pub(bastion)}`), 'the bastion is pinned under its own name');
    assert.ok(pins.includes(`[${hidden.privateIp}]:2222 ${pub(hidden.host)}`), "the target's pin is the target's key");
    // The host key wait (after kexec, after the reboot) goes the same way.
    const key = await fetchHostKey(target, 5000, undefined, { ports: w.ports, hostKeys: w.hostKeys });
    assert.equal(key.fingerprint, hidden.host.fingerprint);
  });

  it('IdentityAgent: the bastion login comes from a real ssh-agent named in the config (not $SSH_AUTH_SOCK)', async () => {
    const withAgent = world(aliasConfig(`  IdentityAgent ${agentSock()}`));
    const target = await withAgent.resolve('hidden');
    assert.equal(target.jumps?.[0]?.identityAgent, agentSock());
    withAgent.hostKeys.pin(target.jumps![0]!, bastion.fingerprint);
    withAgent.hostKeys.pin(target, hidden.host.fingerprint);
    const r = await withSession(withAgent.ports, target, { hostKeys: withAgent.hostKeys }, (s) => s.exec('echo via-agent'));
    assert.equal(r.stdout.trim(), 'via-agent');
    // The same config without the IdentityAgent line has no way to log into the bastion.
    const without = world(aliasConfig(''));
    const t2 = await without.resolve('hidden');
    without.hostKeys.pin(t2.jumps![0]!, bastion.fingerprint);
    await assert.rejects(withSession(without.ports, t2, { hostKeys: without.hostKeys }, async () => {}), (e: { code?: string; message?: string }) => {
      assert.equal(e.code, 'ssh-auth-failed');
      assert.match(e.message!, new RegExp(`root@${bastion.ip.replace(/\./g, '\\.')}`));
      return true;
    });
  });

  it('a wrong bastion key is refused before the target is contacted; an unknown one is not accepted silently', async () => {
    const w = world(aliasConfig(`  IdentityFile ${bastion.clientKeyPath}`));
    const target = await w.resolve('hidden');
    w.hostKeys.pin(target, hidden.host.fingerprint);
    const before = connectionsTo(hidden.host);
    // Unknown bastion key, no terminal: refused with the flags to pin it.
    await assert.rejects(openSession(w.ports, target, { hostKeys: w.hostKeys }), (e: { code?: string; message?: string }) => {
      assert.equal(e.code, 'unknown-host-key');
      assert.match(e.message!, new RegExp(bastion.ip.replace(/\./g, '\\.')));
      return true;
    });
    // A recorded key that is not the bastion's: refused as changed.
    const other = join(dir, 'other_host_key');
    if (!existsSync(other)) keygen(other);
    mkdirSync(join(w.flake, '.bootstrap'), { recursive: true });
    writeFileSync(w.pinFile, `${bastion.ip} ${readFileSync(`${other}.pub`, 'utf8').trim().split(/\s+/).slice(0, 2).join(' ')}\n`);
    await assert.rejects(openSession(w.ports, target, { hostKeys: w.hostKeys }), { code: 'host-key-changed' });
    // The target's key pinned for the bastion's address does not let the bastion through either.
    const w2 = world(aliasConfig(`  IdentityFile ${bastion.clientKeyPath}`));
    w2.hostKeys.pin(target.jumps![0]!, hidden.host.fingerprint);
    await assert.rejects(openSession(w2.ports, target, { hostKeys: w2.hostKeys }), { code: 'host-key-mismatch' });
    await new Promise((r) => setTimeout(r, 200)); // sshd writes its log line as the connection arrives
    assert.equal(connectionsTo(hidden.host), before, 'no connection reached the target');
  });

  it("the installer's ssh guard routes through the bastion with its own pins: a wrong bastion key fails the handshake and is recorded", async () => {
    const w = world(aliasConfig(`  IdentityFile ${bastion.clientKeyPath}`));
    const target = await w.resolve('hidden');
    const realSsh = (await runCommand(['sh', '-c', 'command -v ssh'])).stdout.trim();
    const hop = target.jumps![0]!;
    const guardFor = async (bastionPub: string, name: string) => prepareSshGuard(join(dir, name), {
      realSsh,
      pins: buildGuardPins(buildPinNames(target.host, [target.port]), [buildHostKey(Buffer.from(pub(hidden.host).split(' ')[1]!, 'base64'))])
        + `${knownHostsName(hop)} ${bastionPub}\n`,
      path: process.env.PATH,
      jumps: buildGuardJumps(target.jumps!),
      configFile: w.cfg,
    });
    // As nixos-anywhere calls it: the alias, its options after ours (which win).
    const argv = (g: { binDir: string }) => [join(g.binDir, 'ssh'), '-o', 'UserKnownHostsFile=/dev/null', '-o', 'StrictHostKeyChecking=no', '-o', 'BatchMode=yes', '-p', '2222', 'root@hidden', 'cat /proc/sys/kernel/hostname'];
    const good = await guardFor(pub(bastion), 'guard-good');
    const ok = await runCommand(argv(good), { env: { ...good.env, HOME: w.home }, check: false });
    assert.equal(ok.stdout.trim(), 'hidden', ok.stderr);

    const other = join(dir, 'other_host_key2');
    keygen(other);
    const bad = await guardFor(readFileSync(`${other}.pub`, 'utf8').trim().split(/\s+/).slice(0, 2).join(' '), 'guard-bad');
    const seen = connectionsTo(hidden.host);
    const refused = await runCommand(argv(bad), { env: { ...bad.env, HOME: w.home }, check: false });
    assert.equal(refused.code, 255);
    // Recorded by the hop's guard (and again by the target's, which sees the hop's stderr): the bastion's key.
    const events = await bad.events();
    assert.ok(events.length >= 1);
    for (const e of events) assert.deepEqual([e.kind, e.presented], ['host-key-mismatch', bastion.fingerprint]);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(connectionsTo(hidden.host), seen, 'no connection reached the target');
  });
});
