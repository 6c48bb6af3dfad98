export { UploadsModule } from './uploads.module';
export { UploadsService } from './uploads.service';
export { UPLOADS_PATH } from './uploads.controller';
