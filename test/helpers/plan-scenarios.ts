/**
 * Plan scenarios: a report fixture plus the answers a user would give. Shared by the plan unit
 * tests (goldens), the real-Nix integration test and the plan benchmark.
 */
import type { PlanAnswers } from '../../src/render/plan.js';

export interface PlanScenario {
  name: string;
  report: string;
  host: string;
  answers: PlanAnswers;
}

export const PLAN_SCENARIOS: PlanScenario[] = [
  { name: 'hetzner-cloud-x86', report: 'hetzner-cloud-x86', host: 'web1', answers: { target: 'root@203.0.113.7' } },
  { name: 'hetzner-cloud-arm64', report: 'hetzner-cloud-arm64', host: 'arm1', answers: {} },
  { name: 'hetzner-dedicated-2nvme', report: 'hetzner-dedicated-2nvme', host: 'db1', answers: {} },
  { name: 'hetzner-dedicated-single', report: 'hetzner-dedicated-2nvme', host: 'db2', answers: { layout: 'single-ext4', disk: 'nvme1n1' } },
  { name: 'hetzner-dedicated-btrfs-raid1', report: 'hetzner-dedicated-2nvme', host: 'db3', answers: { layout: 'btrfs-raid1', subvolumes: ['containers'] } },
  { name: 'ovh-vps', report: 'ovh-vps', host: 'vps1', answers: {} },
  { name: 'netcup-vps', report: 'netcup-vps', host: 'vps2', answers: { swap: 0 } },
  { name: 'kvm-droplet-no-links', report: 'kvm-droplet-no-links', host: 'droplet', answers: {} },
  { name: 'proxmox-guest', report: 'proxmox-guest', host: 'pve-vm', answers: { layout: 'single-btrfs', subvolumes: ['dev', 'srv=/srv/data'] } },
  { name: 'amd-laptop', report: 'amd-laptop', host: 'laptop', answers: { hibernate: true } },
  { name: 'intel-laptop', report: 'intel-laptop', host: 'xps', answers: { subvolumes: ['containers'] } },
  { name: 'intel-nvidia-laptop', report: 'intel-nvidia-laptop', host: 'legion', answers: {} },
  { name: 'amd-nvidia-laptop', report: 'amd-nvidia-laptop', host: 'g14', answers: {} },
  { name: 'desktop-nvidia', report: 'desktop-nvidia', host: 'desk', answers: {} },
  { name: 'dell-optiplex', report: 'dell-optiplex', host: 'office', answers: {} },
  { name: 'generic-bare-metal', report: 'generic-bare-metal', host: 'server', answers: {} },
  { name: 'generic-bare-metal-encrypted', report: 'generic-bare-metal', host: 'vault', answers: { encrypt: true, profile: 'generic-bare-metal' } },
];
