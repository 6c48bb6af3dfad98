export { ArtifactsModule } from './artifacts.module';
export { ArtifactRecordsService } from './artifact-records.service';
/** @public: the job views show a job's artifacts through ArtifactsService.forJobs. */
export { ArtifactsService } from './artifacts.service';
/** @public */
export type { ArtifactView } from './artifacts.view';
