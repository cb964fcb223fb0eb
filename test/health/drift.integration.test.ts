/**
 * Drift in `bootstrap status` (issue 21) against a health-lab host (a real sshd in a network
 * namespace, its /run and /nix bind-mounted from the lab): the flake's current toplevel is
 * evaluated by test/fakes/nix (no build; its out path follows the host's .nix files, as a real
 * evaluation does), and the host is switched the way nixos-rebuild leaves a NixOS host: a new
 * /nix/store system with its kernel and initrd, a new system-N-link profile generation, and
 * /run/current-system pointing at it while /run/booted-system stays.
 */
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { netnsSkipReason } from '../helpers/netns.js';
import { runCli } from '../helpers/cli.js';
import { createHealthLab, type HealthLab } from './health-lab.js';
import type { StatusReport } from '../../src/workflow/status/index.js';

const skip = netnsSkipReason();

const DEFAULT_NIX = (motd: string) => `{ config, lib, pkgs, ... }:
{
  networking.hostName = "web1";
  services.openssh.enable = true;
  users.motd = "${motd}";
  system.stateVersion = "24.11";
}
`;

describe('drift in bootstrap status (namespace host)', { skip: skip ?? false }, () => {
  let lab: HealthLab;
  let fs = '';
  let generation = 2;

  /** What nixos-rebuild switch leaves on the host: the system, its profile link, /run/current-system. */
  function switchHost(system: string, kernel: string) {
    const store = join(fs, 'nix/store', system.split('/').pop()!);
    mkdirSync(store, { recursive: true });
    for (const f of ['kernel', 'initrd', 'kernel-modules']) {
      mkdirSync(join(fs, 'nix/store', `${kernel}-${f}`), { recursive: true });
      rmSync(join(store, f), { force: true });
      symlinkSync(`/nix/store/${kernel}-${f}`, join(store, f));
    }
    generation++;
    symlinkSync(system, join(fs, 'nix/var/nix/profiles', `system-${generation}-link`));
    rmSync(join(fs, 'nix/var/nix/profiles/system'));
    symlinkSync(`system-${generation}-link`, join(fs, 'nix/var/nix/profiles/system'));
    rmSync(join(fs, 'run/current-system'));
    symlinkSync(system, join(fs, 'run/current-system'));
  }

  before(async () => {
    lab = await createHealthLab();
    try {
      const cache = await lab.addCache();
      await lab.addHost({ name: 'web1', cache });
      fs = join(dirname(lab.flakeDir), 'hosts/web1/fs');
      writeFileSync(join(lab.flakeDir, 'hosts/web1/default.nix'), DEFAULT_NIX('v1'));
    } catch (e) {
      await lab.teardown();
      throw e;
    }
  });
  after(async () => {
    await lab?.teardown();
  });

  const status = async (...args: string[]) => {
    const r = await runCli(['status', '--flake', lab.flakeDir, '-i', lab.clientKey, '--timeout', '5', ...args], { env: { ...lab.env, FAKE_NIX_STORE: undefined }, timeoutMs: 90_000 });
    return { ...r, json: args.includes('--json') ? (JSON.parse(r.stdout) as { hosts: StatusReport[] }).hosts[0]! : undefined };
  };
  /** The flake's current toplevel, as the CLI's own evaluation saw it. */
  const flakeSystem = async () => (await status('web1', '--json')).json!.drift!.flakeSystem!;

  test('deployed: up to date; a flake edit: drift; a hand-made switch to it: needs reboot (the old kernel is booted); to another system: drift', async () => {
    // The host runs what the flake evaluates to, booted from it.
    const v1 = await flakeSystem();
    assert.match(v1, /^\/nix\/store\/[0-9a-z]{32}-nixos-system-web1-25\.05$/);
    switchHost(v1, 'k1');
    rmSync(join(fs, 'run/booted-system'));
    symlinkSync(v1, join(fs, 'run/booted-system'));
    const up = await status('web1', '--json');
    assert.equal(up.json!.drift!.state, 'up to date', JSON.stringify(up.json!.drift));
    assert.equal(up.json!.drift!.runningSystem, v1);
    assert.equal(up.json!.drift!.needsReboot, false);
    assert.ok(up.json!.drift!.generationAgeSeconds !== null && up.json!.drift!.generationAgeSeconds < 600, 'the generation was just made');
    const text = await status('web1');
    assert.match(text.stdout, /web1 runs what the flake evaluates to now/);

    // The user edits the flake: the host now drifts from it, and the table says so.
    writeFileSync(join(lab.flakeDir, 'hosts/web1/default.nix'), DEFAULT_NIX('v2'));
    const v2 = await flakeSystem();
    assert.notEqual(v2, v1);
    const drift = await status('web1', '--json');
    assert.equal(drift.json!.drift!.state, 'drift');
    assert.equal(drift.json!.drift!.runningSystem, v1);
    const all = await status('--all');
    assert.match(all.stdout, /^HOST +STATE +RUNNING +FLAKE/m);
    assert.match(all.stdout, new RegExp(`^web1 +drift +${v1.split('/').pop()!.slice(0, 32)} +${v2.split('/').pop()!.slice(0, 32)} `, 'm'));
    assert.match((await status('web1')).stdout, /drift: web1 runs \/nix\/store\/\S+, the flake now evaluates to \/nix\/store\/\S+/);

    // Someone switches by hand to the edited config with a new kernel: no drift, a reboot pending.
    switchHost(v2, 'k2');
    const hand = await status('web1', '--json');
    assert.equal(hand.json!.drift!.state, 'needs reboot', JSON.stringify(hand.json!.drift));
    assert.equal(hand.json!.drift!.runningSystem, v2);
    assert.equal(hand.json!.drift!.bootedSystem, v1);

    // And a hand-made switch to something the flake does not say: drift again.
    switchHost('/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-nixos-system-web1-hand', 'k2');
    const other = await status('web1', '--json');
    assert.equal(other.json!.drift!.state, 'drift');
    assert.equal(other.json!.drift!.flakeSystem, v2);

    // --no-drift: the health report alone.
    assert.equal((await status('web1', '--json', '--no-drift')).json!.drift, undefined);
  });

  test('a flake that does not evaluate and a host not reached are in the table, not errors', async () => {
    await lab.addUnreachable('gone', await lab.addCache());
    writeFileSync(join(lab.flakeDir, 'hosts/gone/default.nix'), '{ broken = ; }\n');
    const r = await status('gone', '--json');
    assert.equal(r.json!.drift!.state, 'unreachable');
    assert.equal(r.json!.drift!.flakeSystem, null);
    assert.match(r.json!.drift!.flakeError ?? '', /syntax error/);
    const all = await status('--all');
    assert.match(all.stdout, /^gone +unreachable +- +does not evaluate/m);
  });
});
