// Images: presence checks and real pulls. dockerode's `pull` resolves when the pull *starts*;
// its end comes through `modem.followProgress`, which does not turn an `{"error": …}` line of
// the progress stream (sent after HTTP 200) into an error, so the output is checked here
// (dockerode #639). Concurrent pulls of one image share one request.

import type { Engine } from './engine.js';
import { dockerErrorMessage, isDockerNotFound } from './engine.js';

export interface ImageInfo {
  /** `sha256:…` */
  id: string;
  sizeBytes: number;
  repoTags: string[];
  repoDigests: string[];
}

interface ProgressLine {
  status?: string;
  error?: string;
  errorDetail?: { message?: string };
}

export class ImagePullError extends Error {
  override readonly name = 'ImagePullError';
}

export class ImageService {
  private readonly pulls = new Map<string, Promise<ImageInfo>>();
  private readonly statusIds = new Map<string, string>();

  constructor(private readonly engine: Engine) {}

  /** The local image a reference names, or undefined when it is not present. */
  async inspect(ref: string): Promise<ImageInfo | undefined> {
    try {
      const info = await this.engine.call('inspect_image', (d) => d.getImage(ref).inspect());
      return { id: info.Id, sizeBytes: info.Size, repoTags: info.RepoTags ?? [], repoDigests: info.RepoDigests ?? [] };
    } catch (err) {
      if (isDockerNotFound(err)) return undefined;
      throw err;
    }
  }

  /** Pulls `ref` and returns the image; throws ImagePullError with Docker's message. */
  pull(ref: string): Promise<ImageInfo> {
    let pull = this.pulls.get(ref);
    if (!pull) {
      pull = this.pullOnce(ref).finally(() => this.pulls.delete(ref));
      this.pulls.set(ref, pull);
    }
    return pull;
  }

  private async pullOnce(ref: string): Promise<ImageInfo> {
    let output: ProgressLine[];
    try {
      output = await this.engine.call('pull_image', async (d) => {
        const stream = await d.pull(ref);
        return new Promise<ProgressLine[]>((resolve, reject) => {
          d.modem.followProgress(stream, (err: Error | null, lines: ProgressLine[]) => (err ? reject(err) : resolve(lines ?? [])));
        });
      });
    } catch (err) {
      throw new ImagePullError(dockerErrorMessage(err));
    }
    const failed = output.find((line) => line.error || line.errorDetail?.message);
    if (failed) throw new ImagePullError(failed.errorDetail?.message ?? failed.error ?? 'pull failed');
    const image = await this.inspect(ref);
    if (!image) throw new ImagePullError(`image "${ref}" is not present after its pull completed`);
    return image;
  }

  /**
   * The imageID a container status reports: `docker-pullable://repo@sha256:…` when the image
   * came from a registry (it has a repo digest), else `docker://sha256:…`, as dockershim did.
   */
  async statusImageId(imageId: string): Promise<string> {
    const known = this.statusIds.get(imageId);
    if (known) return known;
    let value = `docker://${imageId}`;
    try {
      const info = await this.inspect(imageId);
      const digest = info?.repoDigests[0];
      if (digest) value = `docker-pullable://${digest}`;
    } catch {
      // keep the plain ID; the next status computation asks again
      return value;
    }
    this.statusIds.set(imageId, value);
    return value;
  }
}
