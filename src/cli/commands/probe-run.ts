import type { CommandModule } from '../spec.js';
import { failure } from '../../errors.js';
export const run: CommandModule['run'] = async () => {
  throw failure('unavailable', 'probe is being built');
};
