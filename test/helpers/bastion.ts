/**
 * A namespace target reachable only through a bastion (issue 20): its sshd listens only on a
 * private /30 it shares with the bastion's namespace over a veth pair, and it answers ARP only on
 * the link an address is on, so the test process (root namespace, on the bridge) cannot reach
 * that address; the bastion can. The host keeps its bridge link for everything else (the
 * installer lab's hooks). The /30 lies inside the lab's 10.231.X.0/24 (test-infra.md); the lab's
 * teardown removes both namespaces and with them the pair.
 */
import { execFileSync } from 'node:child_process';
import type { NetnsHost, NetnsLab } from './netns.js';

export interface BehindBastion {
  /** The target's address as the bastion sees it (the only one its sshd listens on). */
  privateIp: string;
  /** The bastion's address on the pair. */
  bastionSideIp: string;
  /** For netns addHost: where sshd listens, and the link set-up before it starts. */
  listenAddress: string;
  setup: (ns: string) => void;
}

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
let pairs = 0;

/** Plan the pair for the next host of `lab` behind `bastion`; pass the result to addHost. */
export function planBehind(lab: NetnsLab, bastion: NetnsHost): BehindBastion {
  const subnet = lab.subnet.replace(/\.0\/24$/, '');
  const base = 200 + 4 * (pairs++ % 13);
  const bastionSideIp = `${subnet}.${base + 1}`;
  const privateIp = `${subnet}.${base + 2}`;
  return {
    privateIp, bastionSideIp, listenAddress: privateIp,
    setup(ns) {
      const outer = `${ns}j`;
      ip('link', 'add', outer, 'type', 'veth', 'peer', 'name', 'jump0', 'netns', ns);
      ip('link', 'set', outer, 'netns', bastion.ns);
      ip('-n', bastion.ns, 'addr', 'add', `${bastionSideIp}/30`, 'dev', outer);
      ip('-n', bastion.ns, 'link', 'set', outer, 'up');
      ip('-n', ns, 'addr', 'add', `${privateIp}/30`, 'dev', 'jump0');
      ip('-n', ns, 'link', 'set', 'jump0', 'up');
      // Linux answers ARP for any of its addresses on any link: not for the private one on the bridge.
      execFileSync('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', 'net.ipv4.conf.all.arp_ignore=1', 'net.ipv4.conf.eth0.arp_ignore=1'], { stdio: 'ignore' });
    },
  };
}
