import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isBootstrapError } from './errors.js';
import { checkHostName } from './host-name.js';
import { buildJournalPaths } from './workflow/journal.js';
import { assertHostName } from './keys/host-keys.js';
import { checkHostName as planRule } from './render/plan-choices.js';
import { checkHostName as storageRule } from './workflow/storage/common.js';

const refused = (e: unknown) => isBootstrapError(e) && e.kind === 'usage' && e.code === 'bad-host-name' && !e.message.includes('\n');

test('one host-name rule, the same for plan, keys, journal and storage commands', () => {
  const rules = [checkHostName, planRule, storageRule, (h: string) => assertHostName(h), (h: string) => buildJournalPaths('/f', h)];
  for (const ok of ['web1', 'db-2', 'a', 'x'.repeat(63), 'if1']) for (const rule of rules) rule(ok);
  for (const bad of ['', 'Web1', 'web_1', '-web', 'web-', '..', '../etc', 'a/b', 'x'.repeat(64), 'x'.repeat(300), 'if', 'in', 'rec', 'or', 'web 1', 'web\n1']) {
    for (const rule of rules) assert.throws(() => rule(bad), refused, JSON.stringify(bad));
  }
  assert.throws(() => checkHostName('x'.repeat(300)), (e) => refused(e) && (e as Error).message.length < 200, 'a long name is shortened in the message');
});
