import { Column, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

/** A run-time setting changed through the API; its row wins over env/file/default until deleted. */
@Entity('app_settings')
export class AppSetting {
  @PrimaryColumn('text')
  key: string;

  @Column('jsonb')
  value: unknown;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt: Date;
}
