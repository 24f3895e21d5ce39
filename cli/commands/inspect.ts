/** `lechip inspect IMAGE`: what a chip image holds, as text or one JSON object. */
import type { Command } from 'commander';
import { decodeImage } from '../../chip/image.js';
import { formatInspect, inspectImage } from '../../chip/inspect.js';
import { readBytes, sha256Hex } from '../files.js';
import type { Console } from '../io.js';

export function registerInspect(program: Command, con: Console): void {
  program
    .command('inspect')
    .description('show what a chip image holds: network, chip, resources, time bases, quantisation, sections')
    .argument('<IMAGE>', 'chip image (.lechip)')
    .option('--json', 'print one JSON object on stdout')
    .action(async (file: string, o: { json?: boolean }) => {
      const bytes = readBytes(file, 'image');
      const report = { file, bytes: bytes.length, image_sha256: sha256Hex(bytes), ...inspectImage(decodeImage(bytes, file)) };
      if (o.json) con.json(report);
      else con.out(`image     ${file}  ${report.bytes} bytes  sha256 ${report.image_sha256}\n` + formatInspect(report));
    });
}
