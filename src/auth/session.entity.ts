import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
  Unique,
} from 'typeorm';
import { User } from './user.entity';

/** A browser session opened by single sign-on; the cookie holds the token, this row its hash. */
@Entity('sessions')
@Unique('sessions_token_hash_key', ['tokenHash'])
@Index('sessions_user_id_idx', ['userId'])
export class Session {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column('uuid')
  userId: string;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'sessions_user_id_fkey' })
  user?: User;

  @Column('text')
  tokenHash: string;

  /** What a change made with this session must send as X-CSRF-Token. */
  @Column('text')
  csrfToken: string;

  @Column('timestamptz')
  expiresAt: Date;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;
}

/** A sign-in under way at the OpenID provider. */
@Entity('oidc_logins')
export class OidcLogin {
  @Column('text', { primary: true })
  stateHash: string;

  @Column('text')
  nonce: string;

  @Column('text')
  codeVerifier: string;

  @Column('timestamptz')
  expiresAt: Date;
}
