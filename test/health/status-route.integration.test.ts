/**
 * Issues 20 and 21: `bootstrap status` of installed hosts finds the route the host was installed
 * through, with no flag: the manifest's [ssh] config (an alias it maps, kept in the flake as a
 * relative path), and the manifest's [tailscale] name, preferred when it resolves (here through
 * that same ssh config, the boundary Tailscale's MagicDNS would be) and checked against the key
 * pinned for the host's target, never accepted unchecked. Real sshd in namespaces (health-lab.ts).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { netnsSkipReason } from '../helpers/netns.js';
import { runCli } from '../helpers/cli.js';
import { createHealthLab, type HealthHost, type HealthLab } from './health-lab.js';
import type { HealthReport } from '../../src/health/report.js';

describe('bootstrap status along the recorded route (namespace hosts)', { skip: netnsSkipReason() ?? false }, () => {
  let lab: HealthLab;
  let web1: HealthHost;
  let web2: HealthHost;
  let other: HealthHost;

  const manifestPath = (h: string) => join(lab.flakeDir, 'hosts', h, 'bootstrap.toml');
  const pins = () => join(lab.flakeDir, '.bootstrap', 'known_hosts');
  const pubOf = (h: HealthHost) => readFileSync(`${h.net.hostKeyPath}.pub`, 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
  /** Replace the manifest's target line and append TOML sections. */
  const editManifest = (h: string, target: string, extra: string) => {
    const text = readFileSync(manifestPath(h), 'utf8').replace(/^target = .*$/m, `target = "${target}"`);
    writeFileSync(manifestPath(h), `${text}\n${extra}`);
  };

  before(async () => {
    lab = await createHealthLab();
    try {
      const cache = await lab.addCache();
      web1 = await lab.addHost({ name: 'web1', cache });
      web2 = await lab.addHost({ name: 'web2', cache });
      other = await lab.addHost({ name: 'other', cache });
      mkdirSync(join(lab.flakeDir, 'ssh'));
      // The route lives in the flake's own ssh config, recorded relative to the flake root.
      writeFileSync(join(lab.flakeDir, 'ssh', 'fleet_config'), [
        'Host web1-alias', `  HostName ${web1.net.ip}`,
        // web2's public target answers nowhere (a refused port); its tailnet name maps to the host.
        'Host web2-public', `  HostName ${web2.net.ip.replace(/\.\d+$/, '.1')}`, '  Port 1',
        'Host web2.tail1234.ts.net', `  HostName ${web2.net.ip}`, '',
      ].join('\n'));
      editManifest('web1', 'root@web1-alias', '[ssh]\nconfig = "ssh/fleet_config"\n');
      editManifest('web2', 'root@web2-public', '[tailscale]\nname = "web2.tail1234.ts.net"\n\n[ssh]\nconfig = "ssh/fleet_config"\n');
      // web2's key is pinned only under its target, as after an install over the public address.
      const gw = web2.net.ip.replace(/\.\d+$/, '.1');
      const kept = readFileSync(pins(), 'utf8').split('\n').filter((l) => l && !l.startsWith(`${web2.net.ip} `));
      writeFileSync(pins(), [...kept, `[${gw}]:1 ${pubOf(web2)}`, ''].join('\n'));
    } catch (e) {
      await lab.teardown();
      throw e;
    }
  });
  after(async () => {
    await lab?.teardown();
  });

  const status = (...args: string[]) => runCli(['status', '--flake', lab.flakeDir, '-i', lab.clientKey, '--timeout', '5', '--json', '--no-drift', ...args], { env: lab.env, timeoutMs: 90_000 });
  const report = (stdout: string) => (JSON.parse(stdout) as { hosts: HealthReport[] }).hosts[0]!;

  test('an alias known only to the recorded [ssh] config is reached without --ssh-config', async () => {
    const r = await status('web1');
    const h = report(r.stdout);
    assert.equal(h.error, undefined, JSON.stringify(h.error));
    assert.equal(h.target, `root@${web1.net.ip}`);
    assert.equal(h.via, undefined, 'no tailnet recorded');
  });

  test('the recorded tailnet name is preferred when it resolves, and the host must present the key pinned for its target', async () => {
    const r = await status('web2');
    const h = report(r.stdout);
    assert.equal(h.error, undefined, JSON.stringify(h.error));
    assert.equal(h.via, 'tailnet');
    assert.equal(h.target, `root@${web2.net.ip}`);
    // Checked against the target's pin, then pinned under the name's address.
    assert.match(readFileSync(pins(), 'utf8'), new RegExp(`^${web2.net.ip.replace(/\./g, '\\.')} ssh-ed25519 `, 'm'));
    // The text report says so too.
    const text = await runCli(['status', 'web2', '--flake', lab.flakeDir, '-i', lab.clientKey, '--timeout', '5', '--no-drift'], { env: lab.env, timeoutMs: 90_000 });
    assert.match(text.stdout, new RegExp(`web2\\s+root@${web2.net.ip.replace(/\./g, '\\.')} \\(over the tailnet\\)`));
  });

  test('--via target skips the tailnet name, --via tailnet needs one, anything else is bad input', async () => {
    const viaTarget = report((await status('web2', '--via', 'target')).stdout);
    assert.equal(viaTarget.via, 'target');
    assert.equal(viaTarget.target, `root@${web2.net.ip.replace(/\.\d+$/, '.1')}:1`);
    assert.ok(viaTarget.error, 'its public target answers nowhere');
    const noName = report((await status('web1', '--via', 'tailnet')).stdout);
    assert.equal(noName.error?.code, 'no-tailnet-name');
    const bad = await status('web1', '--via', 'magic');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--via takes tailnet or target, got "magic"/);
  });

  test('over the tailnet another key than the target\'s pin is refused, not accepted', async () => {
    // The tailnet name now maps to another host (another key); nothing is pinned under its address.
    const cfg = join(lab.flakeDir, 'ssh', 'fleet_config');
    const saved = readFileSync(cfg, 'utf8');
    writeFileSync(cfg, saved.replace(`Host web2.tail1234.ts.net\n  HostName ${web2.net.ip}`, `Host web2.tail1234.ts.net\n  HostName ${other.net.ip}`));
    const kept = readFileSync(pins(), 'utf8');
    writeFileSync(pins(), kept.split('\n').filter((l) => !l.startsWith(`${other.net.ip} `)).join('\n'));
    try {
      const r = await status('web2');
      assert.equal(r.code, 1);
      const h = report(r.stdout);
      assert.equal(h.via, 'tailnet');
      assert.equal(h.error?.code, 'host-key-mismatch', JSON.stringify(h.error));
      assert.doesNotMatch(readFileSync(pins(), 'utf8'), new RegExp(`^${other.net.ip.replace(/\./g, '\\.')} `, 'm'), 'nothing pinned');
    } finally {
      writeFileSync(cfg, saved);
      writeFileSync(pins(), kept);
    }
  });

  test('--ssh-config overrides the recorded one; a recorded file missing here is bad input naming it', async () => {
    const cfg = join(lab.flakeDir, 'ssh', 'fleet_config');
    const saved = readFileSync(cfg, 'utf8');
    rmSync(cfg);
    try {
      const missing = report((await status('web1')).stdout);
      assert.equal(missing.error?.code, 'bad-ssh-config');
      assert.match(missing.error!.message, /hosts\/web1\/bootstrap\.toml \[ssh\] config names ssh\/fleet_config/);
      const alt = join(lab.flakeDir, 'alt_config');
      writeFileSync(alt, `Host web1-alias\n  HostName ${web1.net.ip}\n`);
      const r = await status('web1', '--ssh-config', alt);
      assert.equal(report(r.stdout).error, undefined, r.stdout);
    } finally {
      writeFileSync(cfg, saved);
    }
  });
});
