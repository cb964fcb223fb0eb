/**
 * A namespace target reachable only through a bastion (issue 20): the target's own link to the
 * lab bridge is down, and its sshd listens on a private /30 shared with the bastion namespace over
 * a veth pair. The test process (root namespace) cannot reach it; the bastion can. The /30 lies
 * inside the lab's 10.231.X.0/24 (test-infra.md: test traffic stays on the lab's addresses); the
 * lab's teardown removes both namespaces and with them the pair.
 */
import { execFileSync } from 'node:child_process';
import type { NetnsHost, NetnsHostOptions, NetnsLab } from './netns.js';

export interface HiddenHost {
  host: NetnsHost;
  /** The target's address as the bastion sees it (the only one that answers). */
  privateIp: string;
  /** The bastion's address on the pair. */
  bastionSideIp: string;
}

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });

/** Add a host only `bastion` reaches. `opts.sshdConfig` lines are kept; ListenAddress is added. */
export async function addHostBehind(lab: NetnsLab, bastion: NetnsHost, opts: NetnsHostOptions = {}): Promise<HiddenHost> {
  const host = await lab.addHost(opts);
  const subnet = lab.subnet.replace(/\.0\/24$/, '');
  const n = Number(host.ip.split('.')[3]) - 10;
  const base = 200 + 4 * (n % 13);
  const bastionSideIp = `${subnet}.${base + 1}`;
  const privateIp = `${subnet}.${base + 2}`;
  const outer = `${host.ns}j`;
  ip('link', 'add', outer, 'type', 'veth', 'peer', 'name', 'jump0', 'netns', host.ns);
  ip('link', 'set', outer, 'netns', bastion.ns);
  ip('-n', bastion.ns, 'addr', 'add', `${bastionSideIp}/30`, 'dev', outer);
  ip('-n', bastion.ns, 'link', 'set', outer, 'up');
  ip('-n', host.ns, 'addr', 'add', `${privateIp}/30`, 'dev', 'jump0');
  ip('-n', host.ns, 'link', 'set', 'jump0', 'up');
  await host.restart({ sshdConfig: [...(opts.sshdConfig ?? []), `ListenAddress ${privateIp}`] });
  // Off the bridge: from here on only the bastion reaches this host.
  ip('-n', host.ns, 'link', 'set', 'eth0', 'down');
  return { host, privateIp, bastionSideIp };
}
