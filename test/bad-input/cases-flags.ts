/** Bad flags and a bad --flake, for every command; none may need a live target to be refused. */
import { join } from 'node:path';
import { REPORTS, rotate, type Case } from './harness.js';

const R = join(REPORTS, 'ovh-vps.json');
const R2 = join(REPORTS, 'hetzner-dedicated-2nvme.json');
const T = 'root@127.0.0.1:1'; // nobody listens there (and no case has a network)

/** One valid command line per command: the base that bad flags are added to. */
const COMMANDS: Array<[string, string[], boolean?]> = [
  ['plan', ['plan', 'web1', '--report', R]],
  ['probe', ['probe', '--from-facter', join(REPORTS, '../facter/hetzner-cloud.json')]],
  ['new-host', ['new-host', 'web1', '--target', T]],
  ['rebuild', ['rebuild', 'web1', '--yes', '--target', T], true],
  ['recover', ['recover', 'web1', '--yes', '--target', T], true],
  ['keys ensure', ['keys', 'ensure', 'web1']],
  ['keys show', ['keys', 'show', 'web1']],
  ['doctor', ['doctor']],
  ['cache setup', ['cache', 'setup', '--server', 'web1']],
  ['cache create', ['cache', 'create', 'main']],
  ['cache kexec-image', ['cache', 'kexec-image', '/nonexistent/nixos-kexec-installer.tar.gz']],
  ['backup setup', ['backup', 'setup', 'web1']],
  ['backup status', ['backup', 'status', 'web1']],
  ['deploy', ['deploy', 'web1'], true],
];

/** Added to every command. */
const EVERYWHERE: Array<[string, string[], RegExp]> = [
  ['unknown flag', ['--frobnicate'], /unknown option '--frobnicate'|Unknown option/i],
  ['unknown short flag', ['-Z'], /-Z/],
  ['missing --flake value', ['--flake'], /--flake/],
  ['--flake missing dir', ['--flake', '/nonexistent/nb-flake'], /the flake directory \/nonexistent\/nb-flake does not exist/],
  ['--flake a file', ['--flake', '{flake}/flake.nix'], /is not a directory/],
  ['--flake twice', ['--flake', '{flake}', '--flake', '/nonexistent/x'], /--flake/],
];

/** Command-specific bad flags. */
const SPECIFIC: Array<[string, string[], RegExp?]> = [
  ['plan', ['--report'], /--report/],
  ['plan', ['--report', R, '--report', R2], /--report/],
  ['plan', ['--facter', 'x.json'], /only one of/],
  ['plan', ['--swap', '8X'], /--swap "8X" is not a size/],
  ['plan', ['--swap', '-1G'], /--swap needs a value, and "-1G" looks like a flag/],
  ['plan', ['--swap=-1G'], /--swap "-1G" is not a size/],
  ['plan', ['--disk', 'vda', '--disk', 'vda'], /--disk is given twice/],
  ['plan', ['--swap', '1e999G'], /not a size/],
  ['plan', ['--swap', '1e3'], /not a size/],
  ['plan', ['--swap', '99999999999T'], /too large/],
  ['plan', ['--layout', 'zfs'], /unknown layout/],
  ['plan', ['--layout', 'constructor'], /unknown layout/],
  ['plan', ['--layout', '__proto__'], /unknown layout/],
  ['plan', ['--profile', 'constructor'], /unknown profile/],
  ['plan', ['--profile', 'toString'], /unknown profile/],
  ['plan', ['--profile', '../../etc/passwd'], /profile/],
  ['plan', ['--disk', 'sdz'], /--disk sdz is not a disk/],
  ['plan', ['--disk', 'constructor'], /not a disk/],
  ['plan', ['--second-disk', 'vdb'], /layout single-ext4 uses one disk.*layouts with a second disk: btrfs-raid1, data-disk, mdadm-raid1/],
  ['plan', ['--layout', 'single-btrfs', '--second-disk', 'vda'], /layout single-btrfs uses one disk/],
  ['plan', ['--layout', 'single-ext4', '--subvolume', 'home'], /subvolume/],
  ['plan', ['--layout', 'mdadm-raid1'], /needs 2 disks/],
  ['plan', ['--encrypt', '--layout', 'single-ext4'], /not encrypted/],
  ['plan', ['--write', '--layout', 'nope'], /unknown layout/],
  ['plan', ['--target', T], /only one of/],
  ['plan', ['extra-positional'], /unexpected argument/],
  ['probe', ['--out', '/nonexistent/dir/r.json'], /--out/],
  ['probe', [T], /either TARGET or --from-facter/],
  ['new-host', ['--phase-timeout', 'bad'], /--phase-timeout takes PHASE=DURATION/],
  ['new-host', ['--phase-timeout', 'kexec=soon'], /duration/],
  ['new-host', ['--phase-timeout', 'kexec='], /duration/],
  ['new-host', ['--phase-timeout', '__proto__=10m'], /__proto__/],
  ['new-host', ['--phase-timeout', 'constructor=10m'], /constructor/],
  ['new-host', ['--phase-timeout', 'install=100h'], /48h/],
  ['new-host', ['--post-kexec-port', '0'], /--post-kexec-port/],
  ['new-host', ['--post-kexec-port', '65536'], /--post-kexec-port/],
  ['new-host', ['--post-kexec-port', 'ssh'], /--post-kexec-port/],
  ['cache kexec-image', ['--json'], /the kexec image \/nonexistent\/nixos-kexec-installer\.tar\.gz is not a file/],
  ['new-host', ['--kexec-from', 'github'], /--kexec-from must be local, url or cache/],
  ['new-host', ['--kexec-from', 'url', '--kexec-sha256', 'a'.repeat(64)], /--kexec-from url without --kexec-url/],
  ['new-host', ['--kexec-url', 'ftp://images.example/k.tar.gz', '--kexec-sha256', 'a'.repeat(64)], /--kexec-url must be an https/],
  ['new-host', ['--kexec-url', 'https://images.example/k.tar.gz'], /--kexec-url without --kexec-sha256/],
  ['new-host', ['--kexec-from', 'cache', '--kexec-sha256', 'nope'], /must be a SHA-256 in hex/],
  ['rebuild', ['--kexec-from', 'cache'], /--kexec-from cache without --kexec-sha256/],
  ['new-host', ['--wait-timeout', 'x'], /--wait-timeout/],
  ['new-host', ['--wait-timeout', '0'], /--wait-timeout/],
  ['new-host', ['--timeout', 'abc'], /--timeout/],
  ['new-host', ['--timeout', '0'], /--timeout/],
  ['new-host', ['--timeout', '-5'], /--timeout/],
  ['new-host', ['--build-on', 'cloud'], /--build-on/],
  ['new-host', ['--from', 'nostep'], /nostep|no earlier run/],
  ['new-host', ['--swap', '8X'], /--swap "8X" is not a size/],
  ['new-host', ['--swap=-1G'], /not a size/],
  ['new-host', ['--layout', 'zfs'], /layout/],
  ['new-host', ['--host-key', 'abc'], /fingerprint/],
  ['new-host', ['--identity', '/nonexistent/key'], /nonexistent/],
  ['new-host', ['--password-env', 'A B'], /password-env/],
  ['new-host', ['--password-env', 'NB_SURELY_UNSET_VAR'], /NB_SURELY_UNSET_VAR/],
  ['new-host', ['--resume'], /resume/],
  ['new-host', ['--target', 'root@h:0'], /--target is given twice/],
  ['rebuild', ['--parallel', '2'], /--parallel only applies to a fleet/],
  ['rebuild', ['--post-kexec-port', '0'], /--post-kexec-port/],
  ['rebuild', ['--swap', '1e999G'], /Unknown option '--swap'/],
  ['recover', ['--second-disk', 'vdb'], /layout single-ext4 uses one disk/],
  ['keys ensure', ['--rotate=yes'], /rotate/],
  ['keys show', ['web2'], /unexpected argument/],
  ['doctor', ['--json=1'], /json/],
  ['cache setup', ['--server'], /--server/],
  ['backup setup', ['--paths'], /--paths/],
  // --secrets takes [sops] mode's values; refused before the secret store is opened.
  ['cache setup', ['--secrets', 'vault'], /--secrets must be one of sops, agenix, none, got "vault"/],
  ['cache create', ['--secrets', 'extraFiles'], /--secrets must be one of sops, agenix, none, got "extraFiles"/],
  ['backup setup', ['--secrets', 'constructor'], /--secrets must be one of sops, agenix, none, got "constructor"/],
  ['deploy', ['--build-on', 'cloud'], /--build-on takes local or remote/],
  ['deploy', ['--from', 'nostep'], /there is no step "nostep"/],
  ['deploy', ['--resume', '--from', 'check'], /--resume and --from/],
  ['deploy', ['--confirm-timeout', '1'], /--confirm-timeout/],
  ['deploy', ['--canary', 'x'], /--canary/],
  ['deploy', ['--all'], /HOST names, --hosts or --all/],
  ['deploy', ['web1'], /named twice/],
  ['deploy', ['nosuchhost'], /nosuchhost/],
];

const REBUILD_FLEET: Case[] = [
  { name: 'rebuild --hosts empty', args: ['rebuild', '--hosts', ''] },
  { name: 'rebuild --hosts bad name', args: ['rebuild', '--hosts', 'web1,Web2'], expect: /host name/ },
  { name: 'rebuild --hosts twice a host', args: ['rebuild', '--hosts', 'a,a'], expect: /twice/ },
  { name: 'rebuild --hosts --parallel 0', args: ['rebuild', '--hosts', 'web1', '--parallel', '0'], expect: /--parallel/ },
  { name: 'rebuild --hosts --parallel x', args: ['rebuild', '--hosts', 'web1', '--parallel', 'x'], expect: /--parallel/ },
  { name: 'rebuild --hosts and HOST', args: ['rebuild', 'web1', '--hosts', 'web1'], expect: /either HOST or --hosts/ },
  { name: 'unknown command', args: ['frobnicate'], expect: /unknown command/ },
  { name: 'unknown subcommand', args: ['keys', 'rotate', 'web1'], expect: /unknown subcommand/ },
];

const base = new Map(COMMANDS.map(([n, a, m]) => [n, { args: a, manifest: m }]));

export const FLAG_CASES: Case[] = [
  ...COMMANDS.flatMap(([cmd, args, manifest], i) =>
    rotate(EVERYWHERE, i, 4).map(([what, extra, re]): Case => ({ name: `${cmd}: ${what}`, args: [...args, ...extra], ...(manifest ? { manifest } : {}), expect: re })),
  ),
  ...SPECIFIC.map(([cmd, extra, re], i): Case => {
    const b = base.get(cmd)!;
    return { name: `${cmd} #${i}: ${extra.join(' ')}`, args: [...b.args, ...extra], ...(b.manifest ? { manifest: true } : {}), ...(re ? { expect: re } : {}) };
  }),
  ...REBUILD_FLEET,
];
