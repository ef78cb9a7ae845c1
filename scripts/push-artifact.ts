/**
 * Pushes an artifact directory into the DVC store and writes its pointer file, so a second model
 * can be shipped next to the first and chosen per worker with MODEL_DVC_FILE.
 *
 *   npm run push-artifact -- --dir <artifact dir> --dvc-file stores/model-b.dvc [--store stores/blob]
 *
 * Objects are content-addressed: files both artifacts share (the encoder) are stored once.
 */
import { pushDirectory, writeDvcFile } from '@tagserve/dvc-store';
import * as path from 'node:path';

function usage(message: string): never {
  console.error(`${message}\nusage: npm run push-artifact -- --dir <artifact dir> --dvc-file <stores/name.dvc> [--store stores/blob]`);
  process.exit(2);
}

async function main(): Promise<void> {
  const options: Record<string, string> = { '--store': 'stores/blob' };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i += 2) {
    if (!['--dir', '--dvc-file', '--store'].includes(argv[i]) || argv[i + 1] === undefined) usage(`unexpected argument '${argv[i]}'`);
    options[argv[i]] = argv[i + 1];
  }
  const dir = options['--dir'];
  const dvcFile = options['--dvc-file'];
  if (!dir || !dvcFile) usage('--dir and --dvc-file are required');
  // `dvc pull` puts the tree next to its pointer, named after it: stores/model-b.dvc -> stores/model-b.
  const outPath = path.basename(dvcFile, '.dvc');
  const out = await pushDirectory(path.resolve(dir), path.resolve(options['--store']), outPath);
  await writeDvcFile(path.resolve(dvcFile), out);
  console.log(`pushed ${out.md5} (${out.nfiles} files, ${out.size} bytes) into ${options['--store']}; pointer ${dvcFile}`);
}

main().catch((err: Error) => {
  console.error(err.message);
  process.exit(1);
});
