import { ApiProperty } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsIn,
  IsOptional,
  IsUUID,
  ValidateNested,
} from 'class-validator';
import { ApiEnum } from '../openapi';
import { BULK_JOB_ACTIONS, type BulkJobAction } from './job-bulk.service';
import { SubmitSecretsDto } from './jobs.dto';

/** Ids one bulk request may name. */
const MAX_BULK_JOBS = 1000;

export class RetryJobDto {
  /** Secrets are deleted when a job ends: a retry of a job that had any must give every one of them again */
  @IsOptional()
  @ValidateNested()
  @Type(() => SubmitSecretsDto)
  secrets?: SubmitSecretsDto;
}

export class BulkJobsDto {
  @IsIn(BULK_JOB_ACTIONS)
  @ApiEnum(BULK_JOB_ACTIONS, 'BulkJobAction')
  action: BulkJobAction;

  /** 1 to 1,000 distinct job ids */
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_BULK_JOBS)
  @ArrayUnique()
  @IsUUID('all', { each: true })
  @ApiProperty({ type: [String], format: 'uuid', minItems: 1, maxItems: MAX_BULK_JOBS })
  job_ids: string[];
}
