import { Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { JobsModule } from '../jobs';
import { ArtifactCopyService } from './artifact-copy.service';
import { ArtifactMetrics } from './artifact-metrics';
import { ArtifactRecordsService } from './artifact-records.service';
import { ArtifactSources } from './artifact-sources';
import { ARTIFACT_STORE, type ArtifactStore } from './artifact-store';
import { artifactStoreProvider } from './artifact-store.provider';
import { ArtifactsController } from './artifacts.controller';
import { ArtifactsRepository } from './artifacts.repository';
import { ArtifactsScheduler } from './artifacts.scheduler';
import { ArtifactsService } from './artifacts.service';
import { JobArtifact } from './job-artifact.entity';

/**
 * Outputs kept before the provider deletes them: the copy rows written when a job completes (ArtifactRecordsService,
 * the jobs pipeline's ArtifactsStep), the copy task, the store, and the routes. Depends on jobs (visibility).
 */
@Module({
  imports: [TypeOrmModule.forFeature([JobArtifact]), JobsModule],
  controllers: [ArtifactsController],
  providers: [
    artifactStoreProvider,
    ArtifactsRepository,
    ArtifactSources,
    ArtifactMetrics,
    ArtifactCopyService,
    ArtifactRecordsService,
    ArtifactsService,
    ArtifactsScheduler,
  ],
  exports: [ArtifactsService, ArtifactRecordsService],
})
export class ArtifactsModule implements OnApplicationShutdown {
  constructor(@Inject(ARTIFACT_STORE) private readonly store: ArtifactStore) {}

  /** After the copies have stopped (ArtifactCopyService, at module destroy). */
  onApplicationShutdown(): Promise<void> {
    return this.store.close();
  }
}
