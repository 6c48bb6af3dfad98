import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { Inject, Injectable } from '@nestjs/common';
import { AccessPolicy, AuthenticatedUser } from '../auth';
import { Clock } from '../common/clock';
import {
  AppError,
  NotFoundError,
  PermissionDeniedError,
  ProviderError,
  ProviderUnavailableError,
  ValidationError,
} from '../common/errors';
import { AppConfig } from '../config';
import { EventsService } from '../events';
import { getLogger } from '../logging';
import { ProviderCallError, ProviderRegistry } from '../providers';
import { ClientGoneError, PayloadTooLargeError, uploadContentType } from './upload-errors';
import { meterBody } from './upload-meter';
import { UploadProgress } from './upload-progress';
import { StoredFile, UPLOAD_STORES, UploadStore } from './upload-store';
import type { Upload } from './upload.entity';
import { UploadsRepository } from './uploads.repository';

const log = getLogger('simpletuner.cloud.uploads');

/** What an upload request says besides its body. */
export interface UploadRequest {
  filename: string;
  /** The Content-Type header. */
  contentType: string | undefined;
  /** The Content-Length header; null when the body comes chunked. */
  declaredLength: number | null;
  /** Default: the default provider (replicate when a token is configured, else the simulator). */
  provider?: string;
}

/** A failed provider call as the API's error: an open circuit is 503, anything else 502. */
function providerFailure(err: unknown, what: string): AppError {
  if (err instanceof AppError) return err;
  const provider = err instanceof ProviderCallError ? err.provider : undefined;
  if (err instanceof ProviderCallError && err.circuitOpen) {
    return new ProviderUnavailableError(`${what}: provider ${err.provider} is unavailable`, { provider });
  }
  return new ProviderError(`${what}: ${(err as Error).message}`.slice(0, 500), { provider });
}

/**
 * Dataset uploads: the archive streams from the request to its provider's files API (or the simulator's folder)
 * without ever being held whole, and a row is written only for an upload that arrived whole and is kept there.
 */
@Injectable()
export class UploadsService {
  private readonly stores: Map<string, UploadStore>;

  constructor(
    private readonly config: AppConfig,
    private readonly registry: ProviderRegistry,
    private readonly repo: UploadsRepository,
    private readonly access: AccessPolicy,
    private readonly events: EventsService,
    private readonly clock: Clock,
    @Inject(UPLOAD_STORES) stores: UploadStore[],
  ) {
    this.stores = new Map(stores.map((s) => [s.provider, s]));
  }

  /** The same rule as a submit's default provider: Replicate when a token is configured, else the simulator. */
  defaultProvider(): string {
    return this.registry.defaultName();
  }

  /**
   * Streams `body` to the provider's files API and records the upload. What can be refused from the headers is
   * refused before a byte is read (415, 413 by Content-Length); a body that grows past the limit, or whose client
   * leaves (`clientGone`), leaves nothing behind: no row, no file.
   */
  async upload(
    user: AuthenticatedUser,
    request: UploadRequest,
    body: Readable,
    clientGone: AbortSignal,
  ): Promise<Upload> {
    const store = this.storeFor(request.provider ?? this.defaultProvider());
    const contentType = uploadContentType(request.contentType);
    const limit = this.config.env.SIMPLETUNER_UPLOAD_MAX_BYTES;
    if (request.declaredLength !== null && request.declaredLength > limit) throw new PayloadTooLargeError(limit);
    const id = randomUUID();
    const progress = new UploadProgress(this.events, user.id, id, request.declaredLength);
    const meter = meterBody(body, limit, (bytes) => progress.received(bytes));
    const file = { id, filename: request.filename, contentType, size: request.declaredLength };
    let stored: StoredFile;
    try {
      stored = await store.put(meter.stream, file);
    } catch (err) {
      meter.detach();
      meter.stream.destroy();
      if (!(err instanceof ClientGoneError || clientGone.aborted)) throw providerFailure(err, 'Upload');
      log.info(`Upload ${id} abandoned by its client after ${meter.size} bytes; nothing kept`, {
        upload_id: id,
        provider: store.provider,
        bytes: meter.size,
      });
      throw new ClientGoneError();
    } finally {
      await progress.settled();
    }
    const upload: Upload = {
      ...file,
      userId: user.id,
      orgId: user.orgId,
      provider: store.provider,
      externalId: stored.externalId,
      size: meter.size,
      sha256: meter.sha256 ?? '',
      url: stored.url,
      createdAt: stored.createdAt,
      expiresAt: stored.expiresAt,
    };
    await this.keep(upload, stored, store, clientGone);
    return upload;
  }

  /**
   * Records a file the store holds; any failure first (the client left, the store answered before it had every byte
   * or holds other bytes, an empty upload) removes the file.
   */
  private async keep(upload: Upload, stored: StoredFile, store: UploadStore, clientGone: AbortSignal): Promise<void> {
    try {
      if (clientGone.aborted) throw new ClientGoneError();
      if (upload.sha256 === '' || (stored.sha256 !== null && stored.sha256 !== upload.sha256)) {
        throw new ProviderError(`${store.provider} did not receive the upload whole (sha256 differs)`, {
          provider: store.provider,
        });
      }
      if (upload.size === 0) throw new ValidationError('The upload is empty', { body: 'empty' });
      await this.repo.insert(upload);
    } catch (err) {
      if (err instanceof ClientGoneError) {
        log.info(`Upload ${upload.id} abandoned by its client once whole; removing it at ${store.provider}`, {
          upload_id: upload.id,
          provider: store.provider,
          bytes: upload.size,
        });
      }
      await store.remove(stored.externalId).catch((error: unknown) =>
        log.error('Could not remove the file of an upload that was not kept', {
          upload_id: upload.id,
          provider: store.provider,
          external_id: stored.externalId,
          error,
        }),
      );
      throw err;
    }
    log.info(`Upload ${upload.id} kept at ${store.provider} (${upload.size} bytes)`, {
      upload_id: upload.id,
      provider: store.provider,
      bytes: upload.size,
    });
  }

  /** A page of the uploads the caller may see, newest first. */
  list(user: AuthenticatedUser, limit: number, offset: number): Promise<{ uploads: Upload[]; total: number }> {
    return this.repo.list(this.access.scope(user), limit, offset);
  }

  /** An upload the caller may see (its own; a lead or viewer: its organisation's; an admin: any); else 404. */
  async get(user: AuthenticatedUser, id: string): Promise<Upload> {
    const upload = await this.repo.find(id, this.access.scope(user));
    if (!upload) throw new NotFoundError(`Upload ${id} not found`, 'not_found', { upload_id: id });
    return upload;
  }

  /** Deletes the file at its provider, then the row (a failure at the provider keeps both, to retry). */
  async remove(user: AuthenticatedUser, id: string): Promise<Upload> {
    const upload = await this.get(user, id);
    if (!this.access.canAct(user, upload)) throw new PermissionDeniedError('You may not delete this upload');
    const store = this.storeFor(upload.provider, false);
    try {
      await store.remove(upload.externalId);
    } catch (err) {
      throw providerFailure(err, 'Deleting the upload');
    }
    await this.repo.delete(id);
    return upload;
  }

  /**
   * Retention's part (UploadsStep): of these uploads, those made before `cutoff` go, file then row; one its provider
   * will not delete now stays (logged) until its own expiry or a delete.
   */
  async removeUnused(uploadIds: string[], cutoff: Date): Promise<number> {
    let removed = 0;
    for (const upload of await this.repo.madeBefore(uploadIds, cutoff)) {
      try {
        await this.storeFor(upload.provider, false).remove(upload.externalId);
        if (await this.repo.delete(upload.id)) removed++;
      } catch (error) {
        log.warning('Could not delete an upload whose jobs were deleted by retention; it is kept', {
          upload_id: upload.id,
          error,
        });
      }
    }
    return removed;
  }

  /**
   * The provider URL of `user`'s own upload for a training job to download: 404 (naming `dataset.upload_id`) for an
   * upload that is not the user's, 400 when it has expired at its provider.
   */
  async datasetUrl(user: AuthenticatedUser, uploadId: string): Promise<string> {
    const upload = /^[0-9a-f-]{36}$/i.test(uploadId) ? await this.repo.find(uploadId, { userId: user.id }) : null;
    if (!upload) {
      throw new NotFoundError(`Upload ${uploadId} not found`, 'not_found', { 'dataset.upload_id': 'not found' });
    }
    if (upload.expiresAt !== null && upload.expiresAt.getTime() <= this.clock.now().getTime()) {
      throw new ValidationError(`Upload ${uploadId} has expired at its provider`, { 'dataset.upload_id': 'expired' });
    }
    return upload.url;
  }

  /** The store of a provider; uploading also needs it to be configured. */
  private storeFor(provider: string, uploading = true): UploadStore {
    const store = this.stores.get(provider);
    if (!store) {
      throw new ValidationError(`Provider ${provider} takes no uploads`, {
        provider: `one of ${[...this.stores.keys()].join(', ')}`,
      });
    }
    if (uploading && !store.available()) {
      throw new ValidationError(`Provider ${provider} is not configured`, { provider: 'not configured' });
    }
    return store;
  }
}
