import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { planAgenix } from './agenix.js';

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHwCmaXGGnQvm1sBuw6E9nhf8FG8ftnMHUxFFq3IhQOM root@web1';
const BARE = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHwCmaXGGnQvm1sBuw6E9nhf8FG8ftnMHUxFFq3IhQOM';

// The agenix README's example.
const README = `let
  user1 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIL0idNvgGiucWgup/mP78zyC23uFjYq0evcWdjGQUaBH";
  user2 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILI6jSq53F/3hEmSs+oq9L4TwOo1PrDMAgcA1uo1CCV/";
  users = [ user1 user2 ];

  system1 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPJDyIr/FSz1cJdcoW69R+NrWzwGK/+3gJpqD1t8L2zE";
  system2 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKzxQgondgEYcLpcPdJLrTdNgZ2gznOHCAxMdaceTUT1";
  systems = [ system1 system2 ];
in
{
  "secret1.age".publicKeys = [ user1 system1 ];
  "secret2.age".publicKeys = users ++ systems;
  "armored-secret.age" = {
    publicKeys = [ user1 ];
    armor = true;
  };
}
`;

function nixParses(text: string): boolean {
  const r = spawnSync('nix-instantiate', ['--parse', '-'], { input: text, env: { ...process.env, NIX_REMOTE: 'dummy://', NIX_CONFIG: 'build-users-group =' } });
  return r.status === 0;
}

test('README shape: binding after the last key, host joins the systems list; idempotent', () => {
  const p = planAgenix(README, 'web1', KEY);
  const expected = README.replace('CAxMdaceTUT1";\n', `CAxMdaceTUT1";\n  web1 = "${BARE}";\n`)
    .replace('systems = [ system1 system2 ];', 'systems = [ system1 system2 web1 ];');
  assert.equal(p.content, expected);
  assert.equal(p.notes.length, 0);
  assert.ok(nixParses(p.content));
  const again = planAgenix(p.content, 'web1', KEY);
  assert.equal(again.changed, false);
});

test('no systems list: the host joins the rules whose file names it', () => {
  const text = `let
  admin = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIL0idNvgGiucWgup/mP78zyC23uFjYq0evcWdjGQUaBH"; # me
in {
  "web1/wifi.age".publicKeys = [ admin ];
  "web10/wifi.age".publicKeys = [ admin ];
  "shared.age".publicKeys = [admin];
}
`;
  const p = planAgenix(text, 'web1', KEY);
  assert.equal(
    p.content,
    text
      .replace('# me\n', `# me\n  web1 = "${BARE}";\n`)
      .replace('"web1/wifi.age".publicKeys = [ admin ]', '"web1/wifi.age".publicKeys = [ admin web1 ]'),
  );
  assert.ok(nixParses(p.content));
  assert.equal(planAgenix(p.content, 'web1', KEY).changed, false);
});

test('a rotated key replaces the binding value', () => {
  const first = planAgenix(README, 'web1', KEY).content;
  const other = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIL0idNvgGiucWgup/mP78zyC23uFjYq0evcWdjGQUaBH';
  const p = planAgenix(first, 'web1', other);
  assert.equal(p.content, first.replace(BARE, other));
});

test('another shape: untouched, with the lines to add', () => {
  const text = `import ./keys.nix // { "a.age".publicKeys = []; }\n`;
  const p = planAgenix(text, '1web', KEY);
  assert.equal(p.changed, false);
  assert.match(p.notes[0]!, /host_1web = "ssh-ed25519 AAAA\S+";/);
});

test('with a systems list, a rule named after the host that does not take the list gets the host too', () => {
  const text = `let
  admin = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIL0idNvgGiucWgup/mP78zyC23uFjYq0evcWdjGQUaBH";
  db1 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPJDyIr/FSz1cJdcoW69R+NrWzwGK/+3gJpqD1t8L2zE";
  systems = [ db1 ];
in {
  "web1/wifi.age".publicKeys = [ admin ];
  "web1/db.age".publicKeys = [ admin ] ++ systems;
  "shared.age".publicKeys = [ admin ] ++ systems;
}
`;
  const p = planAgenix(text, 'web1', KEY);
  assert.equal(
    p.content,
    text
      .replace('L2zE";\n', `L2zE";\n  web1 = "${BARE}";\n`)
      .replace('systems = [ db1 ];', 'systems = [ db1 web1 ];')
      .replace('"web1/wifi.age".publicKeys = [ admin ]', '"web1/wifi.age".publicKeys = [ admin web1 ]'),
  );
  assert.deepEqual(p.notes, []);
  assert.ok(nixParses(p.content));
  assert.equal(planAgenix(p.content, 'web1', KEY).changed, false);
});
