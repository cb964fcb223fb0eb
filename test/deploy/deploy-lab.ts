/**
 * Deploy lab: installed NixOS hosts for `bootstrap deploy`, each a real OpenSSH sshd in its own
 * network namespace (test/helpers/netns.ts) with private /run, /nix, /etc and /root, and a REAL
 * generation layout: /nix/var/nix/profiles/system -> system-1-link -> the toplevel, /run/current-
 * system and /run/booted-system. The toplevels are "built" by the FAKE local nix
 * (test/fakes/nix with FAKE_NIX_GENERATION=1) from the host's default.nix as the user wrote it, and
 * their switch-to-configuration (test/fakes/nixos-generation) really restarts this host's sshd with
 * the generation's ports (sshd Includes /run/lab-sshd.conf and gets SIGHUP) and starts its units.
 * Each host has its own store: the operator's (FAKE_NIX_STORE) is hidden under a private one that
 * holds only what was installed or copied there, so a deploy's copy (or the host's substitution
 * from the fleet cache, the FAKE atticd of startCache) really has to bring the new system. A host
 * can sit behind a bastion namespace (addBastion, test/helpers/bastion.ts), named in the operator's
 * ~/.ssh/config by an alias with ProxyJump, as users reach such hosts.
 * Shims first on the host's PATH, each named FAKE: `systemd-run` (a transient timer: a background
 * process group that sleeps until its deadline, then runs the command, as systemd would), `systemctl`
 * (units from the generation, the timer's stop, sshd's restart), `nix-env --profile P --set`
 * (the next system-N-link), and the read-only tools the health script calls. `teardown()` removes
 * everything, also when a test fails.
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, realpathSync, rmSync, symlinkSync, writeFileSync, chmodSync, copyFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { buildManifestToml } from '../../src/manifest/manifest.js';
import type { HealthDeclaredInput } from '../../src/config/sections/health.js';
import { createNetnsLab, type NetnsHost, type NetnsLab } from '../helpers/netns.js';
import { planBehind } from '../helpers/bastion.js';
import { REPO_ROOT, runCli } from '../helpers/cli.js';
import { startAtticFake, type AtticFake } from '../fakes/attic-server.js';
import { runCreateCache } from '../../src/storage/attic-api.js';
import { buildAtticClaims, buildRolePermissions, generateSigningKey, mintAtticToken, publicKeyPem } from '../../src/storage/attic-tokens.js';
import { buildCacheNetrc } from '../../src/storage/cache-client-module.js';

export interface HostConfig {
  /** services.openssh.ports (default [ 22 ]). */
  ports?: number[];
  /** systemd.services.NAME.script, per unit. */
  units?: Record<string, string>;
  /** A line that changes the system without changing what deploy sees (a new store path). */
  motd?: string;
  /** services.openssh.enable = false (the lab's sshd keeps running: the switch is refused before). */
  sshdOff?: boolean;
  /** services.openssh.openFirewall (NixOS's default true when unset). */
  openFirewall?: boolean;
  /** users.users.root.openssh.authorizedKeys.keys: the operator's key, as users declare it (the lab sets it). */
  rootKeys?: string[];
}

export interface LabCache {
  attic: AtticFake;
  /** [cache] in bootstrap.toml (on) or not (off). */
  configure(on: boolean): void;
  /** The host trusts the cache as cache.nix makes it: /etc/nix/nix.conf substituters, key, netrc. */
  trust(host: string): void;
}

export interface DeployHost {
  name: string;
  net: NetnsHost;
  /** Behind the bastion: the address only the bastion reaches (the manifest names the alias). */
  privateIp?: string;
  fs: string;
  /** The generation the lab installed. */
  first: string;
}

export interface DeployLab {
  flakeDir: string;
  clientKey: string;
  env: Record<string, string | undefined>;
  hosts: Record<string, DeployHost>;
  addHost(name: string, config: HostConfig, health?: HealthDeclaredInput, o?: { behindBastion?: boolean }): Promise<DeployHost>;
  /** A jump host: the operator's ~/.ssh/config names it `bastion`, its key is pinned in the flake. */
  addBastion(): Promise<NetnsHost>;
  bastion?: NetnsHost;
  /** Replace the pins of a host (or the bastion) in the flake with another key (a man in the middle, as the flake sees it). */
  pinWrongKey(name: string | 'bastion'): void;
  restorePins(): void;
  /** The fleet cache: a FAKE atticd on the bridge, its tokens in the flake's secret store, the FAKE attic client on PATH. */
  startCache(): Promise<LabCache>;
  /** Rewrite hosts/NAME/default.nix the way a user edits it. */
  writeConfig(name: string, config: HostConfig): void;
  /** What /run/current-system, the system profile and the boot default point at on the host. */
  current(name: string): string;
  profile(name: string): { link: string; target: string };
  /** Run a command on the host over OpenSSH on `port`, or undefined when nothing answers. */
  sshRun(name: string, port: number, command: string): string | undefined;
  teardown(): Promise<void>;
}

const FAKES = join(REPO_ROOT, 'test/fakes');

function writeExe(path: string, text: string): void {
  writeFileSync(path, text, { mode: 0o755 });
}

/** default.nix as a user writes it: their hostname, stateVersion, sshd and services. */
export function buildDefaultNix(name: string, c: HostConfig): string {
  const units = Object.entries(c.units ?? {}).map(([u, script]) => `  systemd.services.${u} = {\n    wantedBy = [ "multi-user.target" ];\n    script = ${JSON.stringify(script)};\n  };\n`).join('');
  return [
    '{ config, lib, pkgs, ... }:',
    '{',
    `  networking.hostName = "${name}";`,
    `  services.openssh = { enable = ${c.sshdOff ? 'false' : 'true'}; ports = [ ${(c.ports ?? [22]).join(' ')} ];${c.openFirewall === undefined ? '' : ` openFirewall = ${c.openFirewall};`} settings.PermitRootLogin = "prohibit-password"; };`,
    ...(c.rootKeys?.length ? [`  users.users.root.openssh.authorizedKeys.keys = [ ${c.rootKeys.map((k) => JSON.stringify(k)).join(' ')} ];`] : []),
    ...(c.motd ? [`  users.motd = ${JSON.stringify(c.motd)};`] : []),
    units.trimEnd(),
    '  system.stateVersion = "24.11";',
    '}',
    '',
  ].filter((l) => l !== '').join('\n');
}

function writeShims(dir: string): void {
  mkdirSync(dir, { recursive: true });
  writeExe(join(dir, 'systemd-run'), `#!/bin/sh
# FAKE systemd-run of the deploy lab: a transient timer. --unit=U --on-active=Ns [--description=…]
# [--timer-property=…] CMD…: a background process group sleeps until the deadline, then runs CMD
# ("U.service" active while it runs); \`systemctl stop U.timer\` ends the group before that.
d=/run/lab-systemd; mkdir -p "$d"
unit= secs=
while [ $# -gt 0 ]; do
  case "$1" in
    --unit=*) unit=\${1#--unit=} ;;
    --on-active=*) secs=\${1#--on-active=}; secs=\${secs%s} ;;
    --description=* | --timer-property=*) ;;
    --*) echo "systemd-run shim: unsupported option $1" >&2; exit 1 ;;
    *) break ;;
  esac
  shift
done
[ -n "$unit" ] && [ -n "$secs" ] && [ $# -gt 0 ] || { echo "systemd-run shim: needs --unit, --on-active and a command" >&2; exit 1; }
[ ! -e "$d/$unit.timer.pid" ] || { echo "Failed to start transient timer unit: Unit $unit.timer was already loaded" >&2; exit 1; }
setsid sh -c 'u=$1 s=$2; shift 2; echo $$ >"$u.timer.pid"; sleep "$s"; touch "$u.running"; rm -f "$u.timer.pid"; echo "fired $(date +%s)" >>"$u.log"; "$@" >>"$u.log" 2>&1; echo "exit $?" >>"$u.log"; rm -f "$u.running"' sh "$d/$unit" "$secs" "$@" </dev/null >/dev/null 2>&1 &
i=0; while [ ! -e "$d/$unit.timer.pid" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
echo "Running timer as unit: $unit.timer"
`);
  writeExe(join(dir, 'systemctl'), `#!/bin/sh
# FAKE systemctl of the deploy lab: units as the generation's activation left them (/run/lab-units),
# the transient rollback timers of the systemd-run shim, and sshd's restart (SIGHUP, as systemd's).
d=/run/lab-systemd
failed() { for f in /run/lab-units/*; do [ -e "$f" ] && [ "$(cat "$f")" = failed ] && basename "$f"; done; }
cmd=$1; shift
q=; [ "\${1:-}" = --quiet ] && { q=y; shift; }
case "$cmd" in
  is-system-running) if [ -n "$(failed)" ]; then echo degraded; exit 1; fi; echo running ;;
  list-units) failed | while read -r u; do echo "$u loaded failed failed $u"; done ;;
  list-timers | show) exit 0 ;;
  is-active)
    case "$1" in
      bootstrap-rollback-*.timer) if [ -e "$d/\${1%.timer}.timer.pid" ]; then st=active; else st=inactive; fi ;;
      bootstrap-rollback-*.service) if [ -e "$d/\${1%.service}.running" ]; then st=active; else st=inactive; fi ;;
      *) st=$(cat "/run/lab-units/$1" 2>/dev/null || echo inactive) ;;
    esac
    [ -n "$q" ] || echo "$st"
    [ "$st" = active ] ;;
  stop)
    for u in "$@"; do
      case "$u" in *.timer) pf="$d/\${u%.timer}.timer.pid"; [ -e "$pf" ] && { kill -- "-$(cat "$pf")" 2>/dev/null; rm -f "$pf"; } ;; esac
    done ;;
  reset-failed) exit 0 ;;
  restart) [ "$1" = sshd.service ] || { echo "systemctl shim: cannot restart $1" >&2; exit 1; }; kill -HUP "$(cat /run/lab-sshd.pid)" ;;
  *) echo "systemctl shim: unexpected: $cmd $*" >&2; exit 1 ;;
esac
`);
  writeExe(join(dir, 'nix-env'), `#!/bin/sh
# FAKE nix-env of the deploy lab: only \`--profile P --set PATH\`, as NixOS switches its system
# profile: a new P-N-link to PATH, and P pointed at it.
[ $# -eq 4 ] && [ "$1" = --profile ] && [ "$3" = --set ] || { echo "nix-env shim: unsupported: $*" >&2; exit 1; }
p=$2 path=$4
[ -d "$path" ] || { echo "error: path '$path' is not valid" >&2; exit 1; }
n=$(ls -d "$p"-*-link 2>/dev/null | sed -n 's/.*-\\([0-9]*\\)-link$/\\1/p' | sort -n | tail -n1)
n=$((\${n:-0} + 1))
ln -s "$path" "$p-$n-link"
ln -sfn "$(basename "$p")-$n-link" "$p.new" && mv -T "$p.new" "$p"
`);
  writeExe(join(dir, 'timedatectl'), "#!/bin/sh\nprintf 'NTP=yes\\nNTPSynchronized=yes\\n'\n");
  writeExe(join(dir, 'findmnt'), "#!/bin/sh\nprintf '/ /dev/vda2 ext4 rw,relatime\\n/proc proc proc rw\\n'\n");
  writeExe(join(dir, 'swapon'), '#!/bin/sh\nexit 0\n');
  writeExe(join(dir, 'lsblk'), '#!/bin/sh\nexit 0\n');
  writeExe(join(dir, 'df'), "#!/bin/sh\nprintf 'Filesystem 1024-blocks Used Available Capacity Mounted on\\n/dev/vda2 40000000 12000000 27000000 31%% /\\n'\n");
}

export async function createDeployLab(): Promise<DeployLab> {
  const base = mkdtempSync('/var/tmp/nb-deploy-');
  chmodSync(base, 0o755);
  const flakeDir = join(base, 'flake');
  mkdirSync(join(flakeDir, 'hosts'), { recursive: true });
  writeFileSync(join(flakeDir, 'flake.nix'), '{ outputs = _: { }; }\n');
  writeFileSync(join(flakeDir, 'bootstrap.toml'), '[sops]\nmode = "none"\n');
  mkdirSync(join(flakeDir, '.bootstrap'), { recursive: true });
  const store = join(base, 'store');
  mkdirSync(store);
  const bin = join(base, 'bin');
  mkdirSync(bin);
  symlinkSync(join(FAKES, 'nix'), join(bin, 'nix'));
  const home = join(base, 'home');
  mkdirSync(home);
  const clientKey = join(base, 'client_ed25519');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'deploy-lab', '-f', clientKey]);
  const authorized = join(base, 'authorized_keys');
  copyFileSync(`${clientKey}.pub`, authorized);
  const operatorKey = readFileSync(`${clientKey}.pub`, 'utf8').trim();
  const env = { HOME: home, SSH_AUTH_SOCK: undefined, PATH: `${bin}:${process.env.PATH}`, FAKE_NIX_STORE: store, FAKE_NIX_GENERATION: '1' };
  let netns: NetnsLab;
  try {
    netns = await createNetnsLab({ tmpRoot: base });
  } catch (e) {
    rmSync(base, { recursive: true, force: true });
    throw e;
  }
  const hosts: Record<string, DeployHost> = {};
  const pinFile = join(flakeDir, '.bootstrap/known_hosts');
  const pubOf = (keyPath: string) => readFileSync(`${keyPath}.pub`, 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
  let pinsSaved: string | undefined;
  let cacheServer: AtticFake | undefined;

  const lab: DeployLab = {
    flakeDir, clientKey, env, hosts,
    writeConfig(name, config) {
      // The operator's key is declared in the flake, as users do (the lock-out guard checks it).
      writeFileSync(join(flakeDir, 'hosts', name, 'default.nix'), buildDefaultNix(name, { rootKeys: [operatorKey], ...config }));
    },
    async addBastion() {
      const b = await netns.addHost({ hostname: 'bastion' });
      lab.bastion = b;
      mkdirSync(join(home, '.ssh'), { recursive: true, mode: 0o700 });
      appendFileSync(join(home, '.ssh', 'config'), `Host bastion\n  HostName ${b.ip}\n  User root\n  IdentityFile ${b.clientKeyPath}\n  IdentitiesOnly yes\n`);
      appendFileSync(pinFile, `${b.ip} ${pubOf(b.hostKeyPath)}\n`);
      return b;
    },
    pinWrongKey(name) {
      pinsSaved ??= readFileSync(pinFile, 'utf8');
      const wrong = join(base, 'wrong_host_ed25519');
      rmSync(wrong, { force: true });
      rmSync(`${wrong}.pub`, { force: true });
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', wrong]);
      const right = pubOf(name === 'bastion' ? lab.bastion!.hostKeyPath : hosts[name]!.net.hostKeyPath);
      writeFileSync(pinFile, pinsSaved.split(right).join(pubOf(wrong)));
    },
    restorePins() {
      if (pinsSaved !== undefined) writeFileSync(pinFile, pinsSaved);
      pinsSaved = undefined;
    },
    async addHost(name, config, health, o = {}) {
      mkdirSync(join(flakeDir, 'hosts', name), { recursive: true });
      lab.writeConfig(name, config);
      const built = execFileSync(join(bin, 'nix'), ['build', '--no-link', '--json', `${flakeDir}#nixosConfigurations."${name}".config.system.build.toplevel`], { env: { ...process.env, ...env } as NodeJS.ProcessEnv, encoding: 'utf8' });
      const first = (JSON.parse(built) as Array<{ outputs: { out: string } }>)[0]!.outputs.out;
      // The installed system: generation 1, activated (its sshd settings and units in /run).
      const dir = join(base, 'hosts', name);
      const fs = join(dir, 'fs');
      const run = join(fs, 'run');
      mkdirSync(join(run, 'lab-units'), { recursive: true });
      mkdirSync(join(run, 'lab-systemd'));
      mkdirSync(join(run, 'sshd'));
      symlinkSync(first, join(run, 'current-system'));
      symlinkSync(first, join(run, 'booted-system'));
      symlinkSync(first, join(run, 'lab-boot-default'));
      copyFileSync(join(first, 'lab-sshd.conf'), join(run, 'lab-sshd.conf'));
      for (const u of Object.keys(config.units ?? {})) writeFileSync(join(run, 'lab-units', `${u}.service`), 'active\n');
      const profiles = join(fs, 'nix/var/nix/profiles');
      mkdirSync(profiles, { recursive: true });
      symlinkSync(first, join(profiles, 'system-1-link'));
      symlinkSync('system-1-link', join(profiles, 'system'));
      mkdirSync(join(fs, 'root'), { mode: 0o700 });
      // The host's own store: what the lab installed, nothing the operator builds later.
      mkdirSync(join(fs, 'store'));
      cpSync(first, join(fs, 'store', basename(first)), { recursive: true, verbatimSymlinks: true });
      const etc = join(fs, 'etc');
      cpSync('/etc', etc, { recursive: true, verbatimSymlinks: true });
      rmSync(join(etc, 'os-release'), { force: true });
      writeFileSync(join(etc, 'os-release'), 'NAME=NixOS\nID=nixos\nVERSION_ID="24.11"\nPRETTY_NAME="NixOS 24.11 (Vicuna)"\n');
      writeShims(join(dir, 'shims'));
      const behind = o.behindBastion ? planBehind(netns, lab.bastion!) : undefined;
      const net = await netns.addHost({
        ...(behind ? { listenAddress: behind.listenAddress, setup: behind.setup } : {}),
        shimDir: join(dir, 'shims'),
        hostname: name,
        authorizedKeysFile: authorized,
        // sshd's port comes from the running generation, and its pid file is where the host's own
        // switch-to-configuration and systemctl find it.
        portFromConfig: true,
        // LogLevel VERBOSE: sshd logs each "Connection from", so a test can tell nothing arrived.
        sshdConfig: ['PidFile /run/lab-sshd.pid', 'Include /run/lab-sshd.conf', 'LogLevel VERBOSE'],
        env: { NB_LAB_DEPLOY: '1' },
        mounts: [
          { target: '/run', source: run }, { target: '/nix', source: join(fs, 'nix') }, { target: '/etc', source: etc }, { target: '/root', source: join(fs, 'root') },
          { target: store, source: join(fs, 'store') },
        ],
      });
      writeFileSync(join(flakeDir, 'hosts', name, 'bootstrap.toml'), buildManifestToml({
        // Behind the bastion: the alias of the operator's ssh config (HostName, ProxyJump), as users name such hosts.
        version: 1, host: name, target: behind ? `root@${name}` : net.target, profile: 'generic-vps',
        layout: { name: 'single-ext4', swapBytes: 0 },
        installDisk: { path: '/dev/disk/by-id/virtio-lab', byId: '/dev/disk/by-id/virtio-lab', sizeBytes: 40e9 },
        ...(health ? { health } : {}),
      }));
      const state = join(flakeDir, '.bootstrap/state', name);
      mkdirSync(state, { recursive: true });
      writeFileSync(join(state, 'built.json'), JSON.stringify({ kind: 'local', paths: { disko: '/nix/store/d-disko', toplevel: first } }) + '\n');
      const pub = pubOf(net.hostKeyPath);
      const ip = behind?.privateIp ?? net.ip;
      appendFileSync(pinFile, `${ip} ${pub}\n[${ip}]:2222 ${pub}\n`);
      if (behind) appendFileSync(join(home, '.ssh', 'config'), `Host ${name}\n  HostName ${behind.privateIp}\n  ProxyJump bastion\n`);
      hosts[name] = { name, net, fs, first, ...(behind ? { privateIp: behind.privateIp } : {}) };
      return hosts[name]!;
    },
    current(name) {
      return realpathSync(join(hosts[name]!.fs, 'run/current-system'));
    },
    profile(name) {
      const p = join(hosts[name]!.fs, 'nix/var/nix/profiles/system');
      return { link: readlinkSync(p), target: realpathSync(p) };
    },
    sshRun(name, port, command) {
      const h = hosts[name]!;
      try {
        return execFileSync('ssh', ['-p', String(port), '-i', clientKey, '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes', '-o', `UserKnownHostsFile=${join(flakeDir, '.bootstrap/known_hosts')}`,
          '-o', 'StrictHostKeyChecking=yes', '-o', 'GlobalKnownHostsFile=/dev/null', '-o', 'ConnectTimeout=3', `root@${h.net.ip}`, command], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 15_000 });
      } catch {
        return undefined;
      }
    },
    async startCache() {
      // The flake's secret store (a local vault with an age identity), where `cache setup` puts the tokens.
      const identity = join(base, 'admin-age.txt');
      execFileSync('age-keygen', ['-o', identity], { stdio: 'ignore' });
      const recipient = execFileSync('age-keygen', ['-y', identity], { encoding: 'utf8' }).trim();
      const toml = join(flakeDir, 'bootstrap.toml');
      const plain = `${readFileSync(toml, 'utf8')}\n[secrets.local]\nrecipients = ["${recipient}"]\n`;
      writeFileSync(toml, plain);
      Object.assign(env, { BOOTSTRAP_AGE_IDENTITY: identity });
      const key = generateSigningKey(2048);
      const attic = await startAtticFake(publicKeyPem(key), { host: netns.gateway });
      cacheServer = attic;
      const token = (role: 'admin' | 'push' | 'pull') =>
        mintAtticToken(key, buildAtticClaims(`bootstrap-${role}`, role === 'admin' ? { '*': ['r', 'w', 'd', 'cc', 'cr', 'cq', 'cd'] } : buildRolePermissions(role, 'main'), new Date(), 1));
      const info = await runCreateCache((u, i) => fetch(u, i), { serverUrl: attic.url, cache: 'main', token: await token('admin'), isPublic: false });
      const pull = await token('pull');
      for (const [role, value] of [['pull', pull], ['push', await token('push')]] as const) {
        const r = await runCli(['secrets', 'set', `attic/cachehost/${role}-token`, '--flake', flakeDir], { env, input: value });
        if (r.code !== 0) throw new Error(`secrets set: ${r.stderr}`);
      }
      symlinkSync(join(FAKES, 'attic'), join(bin, 'attic'));
      return {
        attic,
        configure: (on) => writeFileSync(toml, on ? `${plain}\n[cache]\nserver = "cachehost"\nurl = "${attic.url}"\n` : plain),
        trust(host) {
          const etcNix = join(hosts[host]!.fs, 'etc', 'nix');
          mkdirSync(etcNix, { recursive: true });
          writeFileSync(join(etcNix, 'netrc'), buildCacheNetrc(info.substituterEndpoint, pull), { mode: 0o600 });
          writeFileSync(join(etcNix, 'nix.conf'), `# Generated by NixOS (nix.settings, with cache.nix)\nsubstituters = ${info.substituterEndpoint}\ntrusted-public-keys = ${info.publicKey}\nnetrc-file = /etc/nix/netrc\n`);
        },
      };
    },
    async teardown() {
      await cacheServer?.close();
      await netns.teardown();
      rmSync(base, { recursive: true, force: true });
    },
  };
  return lab;
}
