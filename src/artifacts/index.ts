export { ArtifactsModule } from './artifacts.module';
export { ArtifactsService } from './artifacts.service';
export { ArtifactRecordsService } from './artifact-records.service';
export type { ArtifactView } from './artifacts.view';
