// A locally built image (no registry can give it back: no RepoDigests) per test, made offline
// from busybox (RECIPES.md §2) with a label of its own so its id is new; removed after the test.
import type Docker from 'dockerode';
import { onTestFinished } from 'vitest';
import { buildImage, busyboxImageSpec } from '../../src/docker/images.js';
import { testName, testRunId, TEST_LABEL } from './names.js';

export async function makeLocalImage(docker: Docker, area: string): Promise<{ tag: string; id: string }> {
  const tag = `${testName(area)}:1`;
  await buildImage(docker, { ...busyboxImageSpec(tag), labels: { [TEST_LABEL]: testRunId(), 'bbt.image': tag } });
  onTestFinished(async () => {
    await docker
      .getImage(tag)
      .remove({ force: true })
      .catch(() => undefined);
  });
  const info = await docker.getImage(tag).inspect();
  return { tag, id: info.Id };
}
