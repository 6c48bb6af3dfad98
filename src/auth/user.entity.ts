import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

export const USER_LEVELS = ['viewer', 'researcher', 'lead', 'admin'] as const;
export type UserLevel = (typeof USER_LEVELS)[number];

export function levelRank(level: UserLevel): number {
  return USER_LEVELS.indexOf(level);
}

export function atLeast(level: UserLevel, required: UserLevel): boolean {
  return levelRank(level) >= levelRank(required);
}

@Entity('users')
export class User {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column('text')
  username: string;

  @Column('text', { nullable: true })
  email: string | null;

  @Column('text')
  level: UserLevel;

  @Column('uuid')
  orgId: string;

  @Column('boolean', { default: true })
  isActive: boolean;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;
}
