export { ArtifactsModule } from './artifacts.module';
export { ArtifactRecordsService } from './artifact-records.service';
/** @public */
export type { ArtifactView } from './artifacts.view';
