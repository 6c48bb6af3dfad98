import type { Readable } from 'node:stream';
import type { ReplicateProvider } from '../providers';
import { FileToStore, StoredFile, UploadStore } from './upload-store';

/** Replicate's files API (`POST /v1/files`, multipart), through the Replicate provider's client. */
export class ReplicateUploadStore implements UploadStore {
  readonly provider = 'replicate';

  constructor(private readonly replicate: ReplicateProvider) {}

  available(): boolean {
    return this.replicate.isConfigured();
  }

  async put(content: Readable, file: FileToStore): Promise<StoredFile> {
    const created = await this.replicate.client.createFile(content, file.filename, file.contentType, file.size);
    const url = created.urls?.get;
    if (!url) {
      await this.remove(created.id);
      throw new Error('Replicate answered a file without urls.get');
    }
    return {
      externalId: created.id,
      url,
      createdAt: created.created_at ? new Date(created.created_at) : new Date(),
      expiresAt: created.expires_at ? new Date(created.expires_at) : null,
      sha256: created.checksums?.sha256 ?? null,
    };
  }

  remove(externalId: string): Promise<void> {
    return this.replicate.client.deleteFile(externalId);
  }
}
