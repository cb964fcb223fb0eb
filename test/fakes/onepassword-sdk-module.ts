/**
 * FAKE @1password/sdk module for the real CLI (NB_ONEPASSWORD_SDK points here): `createClient`
 * opens the FakeOnePassword kept in the JSON file $NB_FAKE_OP_STATE (written by the test with
 * FakeOnePassword.save()), so items, vaults and the rate-limit knob persist across CLI runs.
 */
import { FakeOnePassword } from './onepassword-sdk.js';

export class DesktopAuth {
  constructor(readonly accountName: string) {}
}

export async function createClient(config: { auth: string | DesktopAuth }): Promise<unknown> {
  const file = process.env.NB_FAKE_OP_STATE;
  if (!file) throw new Error('NB_FAKE_OP_STATE is not set');
  const fake = FakeOnePassword.load(file);
  return fake.factory(typeof config.auth === 'string' ? { kind: 'token', token: config.auth } : { kind: 'desktop', account: config.auth.accountName });
}
