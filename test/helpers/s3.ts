// A real S3 API on 127.0.0.1 for rclone (RECIPES §12): s3rver in this process, a bucket, and an
// rclone remote `bbts3:` defined only through the environment. AWS_CA_BUNDLE (set on this
// machine) makes rclone's S3 client refuse a plain-http endpoint, so it is removed for the tests.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';

export const S3_BUCKET = 'bbt-repo-bucket';

export interface S3Server {
  port: number;
  stop(): Promise<void>;
}

export async function startS3(): Promise<S3Server> {
  const dir = await mkdtemp(join(tmpdir(), 'bbt-repo-s3-'));
  const server = new S3rver({
    port: 0,
    address: '127.0.0.1',
    silent: true,
    directory: dir,
    configureBuckets: [{ name: S3_BUCKET }],
  });
  const { port } = await server.run();
  delete process.env.AWS_CA_BUNDLE;
  Object.assign(process.env, {
    RCLONE_CONFIG: '',
    RCLONE_CONFIG_BBTS3_TYPE: 's3',
    RCLONE_CONFIG_BBTS3_PROVIDER: 'Other',
    RCLONE_CONFIG_BBTS3_ENDPOINT: `http://127.0.0.1:${port}`,
    RCLONE_CONFIG_BBTS3_ACCESS_KEY_ID: 'S3RVER',
    RCLONE_CONFIG_BBTS3_SECRET_ACCESS_KEY: 'S3RVER',
    RCLONE_CONFIG_BBTS3_FORCE_PATH_STYLE: 'true',
  });
  return {
    port,
    stop: async () => {
      await server.close().catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
