/** How many NVIDIA GPUs this machine has (nvidia-smi -L), for sharing them between parallel seeds. */
import { execFile } from 'node:child_process';

export function countGpus(): Promise<number> {
  return new Promise((resolve) => {
    execFile('nvidia-smi', ['-L'], { timeout: 30_000 }, (err, stdout) =>
      resolve(err ? 0 : stdout.split('\n').filter((l) => /^GPU \d+:/.test(l)).length),
    );
  });
}
