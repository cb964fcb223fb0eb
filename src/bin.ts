/** Process entry: run the CLI and set the exit code. (main.ts stays importable by tests.) */
import { main } from './main.js';

process.exitCode = await main(process.argv.slice(2));
