// Variants of the test busybox image, built locally (no registry is reachable): the base image
// plus a few files, so that two tags really differ and a test can tell which one a pod runs.
// They carry the test label (inherited from the base) and each test removes the ones it built.

import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';

/** Builds `ref` FROM `base` with `files` (path in the image → content) added. */
export async function buildImageVariant(docker: Docker, base: string, ref: string, files: Record<string, string>): Promise<string> {
  const context = await mkdtemp(join(tmpdir(), 'skiff-test-build-'));
  try {
    const lines = [`FROM ${base}`];
    let n = 0;
    for (const [path, content] of Object.entries(files)) {
      const name = `file-${n++}`;
      await writeFile(join(context, name), content);
      lines.push(`COPY ${name} ${path}`);
    }
    await writeFile(join(context, 'Dockerfile'), `${lines.join('\n')}\n`);
    const tar = spawn('tar', ['-C', context, '-c', '.'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const stream = await docker.buildImage(tar.stdout, { t: ref, rm: true, forcerm: true });
    const output = await new Promise<{ error?: string }[]>((resolve, reject) =>
      docker.modem.followProgress(stream, (err: Error | null, out: { error?: string }[]) => (err ? reject(err) : resolve(out))),
    );
    const failed = output.find((o) => o.error);
    if (failed) throw new Error(`docker build ${ref}: ${failed.error}`);
    return ref;
  } finally {
    await rm(context, { recursive: true, force: true });
  }
}

export async function removeImages(docker: Docker, refs: readonly string[]): Promise<void> {
  for (const ref of refs) await docker.getImage(ref).remove({ force: true }).catch(() => undefined);
}
