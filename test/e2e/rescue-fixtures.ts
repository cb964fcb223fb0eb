/**
 * What the rescue e2e files share: rescue host keys, provider credentials stored through the real
 * `bootstrap secrets set`, and a provider fake wired to a lab target, so that the fake's reset (or
 * reboot) into rescue boots the target's rescue system with exactly the keys the API was given.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import type { LabTarget } from '../helpers/installer-lab.js';
import { fingerprintOfPub } from '../helpers/sshd.js';
import { robotServer, type HetznerRobotFake } from '../provider/hetzner-robot-fake.js';
import { OVH_DISK_BOOT, type OvhFake } from '../provider/ovh-fake.js';
import type { Flake } from './harness.js';

export interface RescueKey { path: string; fingerprint: string; blob: string }

/** Host keys for rescue systems, in a temp dir `cleanup()` removes (call it in after()). */
export function rescueKeys(): { make(name: string): RescueKey; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'nb-rescue-keys-'));
  return {
    make(name) {
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `rescue-${name}`, '-f', join(dir, name)]);
      const pub = readFileSync(join(dir, `${name}.pub`), 'utf8');
      return { path: join(dir, name), fingerprint: fingerprintOfPub(pub), blob: pub.split(' ')[1]! };
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Store provider credentials the way a user does: `bootstrap secrets set NAME` with the value on stdin. */
export async function storeSecrets(f: Flake, pairs: ReadonlyArray<readonly [string, string]>): Promise<void> {
  for (const [name, value] of pairs) {
    const set = await runCli(['secrets', 'set', name, '--flake', f.dir], { env: f.env, input: `${value}\n` });
    assert.equal(set.code, 0, set.stderr);
  }
}

/** Point the flake's CLI at a fake (its URL, trusting its self-signed certificate). */
function useFake(f: Flake, urlVar: string, fake: { url: string; cert: { certPath: string } }): void {
  f.env[urlVar] = fake.url; // the fake's base URL (tests only)
  f.env.NODE_EXTRA_CA_CERTS = fake.cert.certPath;
}

/**
 * Robot server 321 (`name`) at the target's address; a hardware reset with rescue armed boots the
 * target's rescue with the deposited keys. Credentials stored under providers/robot. The boots
 * started are pushed to `pending` (await them; settle them in finally).
 */
export async function armRobot(robot: HetznerRobotFake, f: Flake, t: LabTarget, rk: RescueKey, name: string, pending: Promise<void>[]): Promise<void> {
  useFake(f, 'BOOTSTRAP_TEST_HROBOT_URL', robot);
  robot.servers.push(robotServer(321, name, t.ip));
  robot.onReset = (_s, authorized) => { pending.push(t.bootRescue({ authorizedKeys: authorized.map((k) => k.data), hostKeyPath: rk.path })); };
  await storeSecrets(f, [['providers/robot/user', robot.user], ['providers/robot/password', robot.password]]);
}

export const OVH_SERVICE = 'ns3001234.ip-203-0-113.eu';

/**
 * OVH dedicated server OVH_SERVICE at the target's address, booting from disk; the fake's reboot
 * task with the rescue netboot boots the target's rescue with the key set through the API.
 * Credentials stored under providers/ovh; boots pushed to `pending`.
 */
export async function armOvh(ovh: OvhFake, f: Flake, t: LabTarget, rk: RescueKey, pending: Promise<void>[]): Promise<void> {
  useFake(f, 'BOOTSTRAP_TEST_OVH_URL', ovh);
  ovh.dedicated.push({ name: OVH_SERVICE, ip: t.ip, bootId: OVH_DISK_BOOT, rescueSshKey: null, reboots: 0 });
  ovh.onReboot = (_n, intoRescue, key) => { if (intoRescue && key) pending.push(t.bootRescue({ authorizedKeys: [key], hostKeyPath: rk.path })); };
  await storeSecrets(f, [['providers/ovh/application-key', ovh.ak], ['providers/ovh/application-secret', ovh.as], ['providers/ovh/consumer-key', ovh.ck]]);
}
