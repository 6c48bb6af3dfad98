import { Column, CreateDateColumn, DeleteDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

@Entity('orgs')
@Index('orgs_name_key', ['name'], { unique: true, where: 'deleted_at IS NULL' })
export class Org {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column('text')
  name: string;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;

  /**
   * Set when the organisation was deleted while its history (former members' finished jobs, approval requests,
   * uploads) still names it; such an organisation is gone for every lookup (TypeORM leaves it out of `find…`).
   */
  @DeleteDateColumn({ type: 'timestamptz' })
  deletedAt: Date | null;
}
