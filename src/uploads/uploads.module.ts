import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Clock } from '../common/clock';
import { AppConfig } from '../config';
import { ProvidersModule, ReplicateProvider } from '../providers';
import { ReplicateUploadStore } from './replicate-upload.store';
import { SimulatorUploadStore } from './simulator-upload.store';
import { UPLOAD_STORES } from './upload-store';
import { Upload } from './upload.entity';
import { UploadsController } from './uploads.controller';
import { UploadsRepository } from './uploads.repository';
import { UploadsService } from './uploads.service';

/** Dataset uploads: one store per provider (Replicate's files API, the simulator's folder), chosen per upload. */
@Module({
  imports: [TypeOrmModule.forFeature([Upload]), ProvidersModule],
  controllers: [UploadsController],
  providers: [
    UploadsRepository,
    UploadsService,
    {
      provide: UPLOAD_STORES,
      inject: [ReplicateProvider, AppConfig, Clock],
      useFactory: (replicate: ReplicateProvider, config: AppConfig, clock: Clock) => [
        new ReplicateUploadStore(replicate),
        new SimulatorUploadStore(config.dataDir, clock),
      ],
    },
  ],
  exports: [UploadsService],
})
export class UploadsModule {}
