import { Injectable } from '@nestjs/common';
import { In, LessThan } from 'typeorm';
import { Db } from '../database/transaction-host';
import { Upload } from './upload.entity';

/** Whose uploads a query may return: everyone's, an organisation's, or one user's. */
export interface UploadScope {
  userId?: string;
  orgId?: string;
}

/** The uploads module's SQL: the `uploads` table. */
@Injectable()
export class UploadsRepository {
  constructor(private readonly db: Db) {}

  async insert(upload: Upload): Promise<void> {
    await this.db.tx.getRepository(Upload).insert(upload);
  }

  find(id: string, scope: UploadScope): Promise<Upload | null> {
    return this.db.tx.getRepository(Upload).findOneBy({ id, ...scope });
  }

  /** A page, newest first, and how many there are in all. */
  async list(scope: UploadScope, limit: number, offset: number): Promise<{ uploads: Upload[]; total: number }> {
    const [uploads, total] = await this.db.tx.getRepository(Upload).findAndCount({
      where: { ...scope },
      order: { createdAt: 'DESC', id: 'DESC' },
      take: limit,
      skip: offset,
    });
    return { uploads, total };
  }

  /** Those of these uploads made before `cutoff`. */
  madeBefore(ids: string[], cutoff: Date): Promise<Upload[]> {
    return this.db.tx.getRepository(Upload).findBy({ id: In(ids), createdAt: LessThan(cutoff) });
  }

  /** Whether the row was there. */
  async delete(id: string): Promise<boolean> {
    const result = await this.db.tx.getRepository(Upload).delete({ id });
    return (result.affected ?? 0) > 0;
  }
}
