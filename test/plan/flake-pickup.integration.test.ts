/**
 * Issue 18: whether flake.nix picks up hosts/HOST is decided by evaluating the flake (the fake nix
 * evaluates flake.nix with nixpkgs' real lib and reports the module graph), so flake shapes users
 * write are judged by what they import, not by their text: `(./hosts + "/${name}")`, a readDir, a
 * helper function, a host defined but importing another folder, no nixosConfigurations at all.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { runCommand, type Runner } from '../../src/exec/run.js';
import { loadProfiles } from '../../src/profiles/load.js';
import { buildHostPlan } from '../../src/render/plan.js';
import { runPickupCheck } from '../../src/workflow/plan/flake-pickup.js';
import { REPO_ROOT, runCli } from '../helpers/cli.js';
import { loadReport } from '../helpers/reports.js';

const bin = mkdtempSync(join(tmpdir(), 'nb-bin-'));
symlinkSync(join(REPO_ROOT, 'test/fakes/nix'), join(bin, 'nix'));
after(() => rmSync(bin, { recursive: true, force: true }));
const PATH = `${bin}:${process.env.PATH}`;
const run: Runner = (argv, o) => runCommand(argv, { ...o, env: { ...o?.env, PATH } });
const app = { run, signal: new AbortController().signal };
const plan = buildHostPlan({ host: 'web1', report: loadReport('ovh-vps'), answers: {}, profiles: await loadProfiles() });

const wrap = (outputs: string) => `{\n  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-25.05";\n  inputs.disko.url = "github:nix-community/disko";\n  outputs = { self, nixpkgs, disko, ... }: ${outputs};\n}\n`;
const SHAPES: Array<[string, string, 'yes' | 'no']> = [
  ['(./hosts + "/${name}") in a helper', wrap('let mkHost = name: nixpkgs.lib.nixosSystem { modules = [ disko.nixosModules.disko (./hosts + "/${name}") ]; }; in { nixosConfigurations.web1 = mkHost "web1"; }'), 'yes'],
  ['a readDir of hosts/', wrap('{ nixosConfigurations = builtins.mapAttrs (n: _: nixpkgs.lib.nixosSystem { modules = [ ./hosts/${n} ]; }) (builtins.readDir ./hosts); }'), 'yes'],
  ['the host folder imported by a shared module', wrap('{ nixosConfigurations.web1 = nixpkgs.lib.nixosSystem { modules = [ ./common.nix ]; }; }'), 'yes'],
  ['the host defined from another folder', wrap('{ nixosConfigurations.web1 = nixpkgs.lib.nixosSystem { modules = [ ./machines/web1.nix ]; }; }'), 'no'],
  ['a name that only mentions the folder in a comment', wrap('{ nixosConfigurations = { }; } /* modules = [ ./hosts/web1 ]; */'), 'no'],
  ['no nixosConfigurations at all', wrap('{ }'), 'no'],
];

for (const [what, flakeNix, want] of SHAPES) {
  test(`pickup by evaluation: ${what} → ${want}`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nb-pickup-flake-'));
    try {
      writeFileSync(join(dir, 'flake.nix'), flakeNix);
      writeFileSync(join(dir, 'common.nix'), '{ imports = [ ./hosts/web1 ]; time.timeZone = "UTC"; }\n');
      mkdirSync(join(dir, 'machines'));
      writeFileSync(join(dir, 'machines/web1.nix'), '{ networking.hostName = "web1"; }\n');
      // The host folder is not written: the check sees the planned files, in a copy.
      const r = await runPickupCheck(app, dir, 'web1', 'hosts/web1', plan.files);
      assert.equal(r.kind, want, JSON.stringify(r));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('bootstrap plan: no false hint for (./hosts + "/${name}"); a hint naming why for a flake that does not import the folder', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nb-pickup-cli-'));
  try {
    writeFileSync(join(dir, 'flake.nix'), SHAPES[0]![1]);
    const report = join(REPO_ROOT, 'test/fixtures/reports/ovh-vps.json');
    const ok = await runCli(['plan', 'web1', '--report', report, '--flake', dir], { env: { PATH } });
    assert.equal(ok.code, 0, ok.stderr);
    assert.doesNotMatch(ok.stderr, /does not pick up|could not check/);
    writeFileSync(join(dir, 'flake.nix'), SHAPES[3]![1]);
    mkdirSync(join(dir, 'machines'));
    writeFileSync(join(dir, 'machines/web1.nix'), '{ }\n');
    const no = await runCli(['plan', 'web1', '--report', report, '--flake', dir], { env: { PATH } });
    assert.equal(no.code, 0, no.stderr);
    assert.match(no.stderr, /flake\.nix does not pick up hosts\/web1 yet \(nixosConfigurations\.web1 does not import hosts\/web1\)/);
    // Without nix, nothing is claimed either way.
    const none = await runCli(['plan', 'web1', '--report', report, '--flake', dir], { env: { PATH: '/nonexistent' } });
    assert.equal(none.code, 0, none.stderr);
    assert.match(none.stderr, /could not check whether flake\.nix picks up hosts\/web1: nix is not installed here/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
