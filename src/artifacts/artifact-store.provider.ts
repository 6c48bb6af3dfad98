import * as path from 'node:path';
import type { FactoryProvider } from '@nestjs/common';
import { AppConfig } from '../config';
import { getLogger } from '../logging';
import { ARTIFACT_STORE, type ArtifactStore } from './artifact-store';
import { LocalArtifactStore } from './local-artifact-store';

const log = getLogger('simpletuner.cloud.artifacts');

/**
 * The app's store, chosen once at boot: an S3-compatible bucket when SIMPLETUNER_ARTIFACT_S3_BUCKET is set, else
 * `<data dir>/artifacts/`. The AWS SDK is loaded only when a bucket is configured.
 */
export const artifactStoreProvider: FactoryProvider<Promise<ArtifactStore>> = {
  provide: ARTIFACT_STORE,
  inject: [AppConfig],
  useFactory: async (config: AppConfig): Promise<ArtifactStore> => {
    const env = config.env;
    let store: ArtifactStore;
    if (env.SIMPLETUNER_ARTIFACT_S3_BUCKET) {
      const { S3ArtifactStore } = await import('./s3-artifact-store');
      store = new S3ArtifactStore({
        bucket: env.SIMPLETUNER_ARTIFACT_S3_BUCKET,
        endpoint: env.SIMPLETUNER_ARTIFACT_S3_ENDPOINT,
        region: env.SIMPLETUNER_ARTIFACT_S3_REGION ?? env.AWS_REGION ?? 'us-east-1',
        credentials: {
          // Both are present: the configuration refuses a bucket without them.
          accessKeyId: env.AWS_ACCESS_KEY_ID!,
          secretAccessKey: env.AWS_SECRET_ACCESS_KEY!,
          sessionToken: env.AWS_SESSION_TOKEN,
        },
      });
    } else {
      store = new LocalArtifactStore(path.join(config.dataDir, 'artifacts'));
    }
    log.info(`Artifacts are stored in ${store.location}`, { artifact_store: store.location });
    return store;
  },
};
