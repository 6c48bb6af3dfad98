import { IsDateString, IsOptional, IsString, IsUUID, Length, Matches } from 'class-validator';
import { PaginationQuery } from '../common/pagination.dto';

export class ListAuditQuery extends PaginationQuery {
  @IsOptional()
  @IsString()
  @Matches(/^[a-z_]{1,40}\.[a-z_]{1,40}$/, { message: 'action must look like user.update' })
  action?: string;

  @IsOptional()
  @IsUUID()
  actor_id?: string;

  @IsOptional()
  @IsString()
  @Matches(/^[a-z_]{1,40}$/, { message: 'target_type must be a word like user or api_key' })
  target_type?: string;

  @IsOptional()
  @IsString()
  @Length(1, 200)
  target_id?: string;

  @IsOptional()
  @IsDateString()
  since?: string;

  @IsOptional()
  @IsDateString()
  until?: string;
}
