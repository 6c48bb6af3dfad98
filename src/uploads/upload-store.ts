import type { Readable } from 'node:stream';

/** What a store says of a file it keeps. */
export interface StoredFile {
  /** The store's id of the file (what `remove` takes). */
  externalId: string;
  /** Where a training job downloads it. */
  url: string;
  createdAt: Date;
  expiresAt: Date | null;
  /** The store's own sha256 of what it received, when it reports one (hex). */
  sha256: string | null;
}

export interface FileToStore {
  /** The upload's id. */
  id: string;
  filename: string;
  contentType: string;
  /** The declared length; null when the body came chunked. */
  size: number | null;
}

/**
 * Where one provider keeps uploaded archives: Replicate's files API, or the simulator's folder. One implementation per
 * provider, chosen per upload by provider name.
 */
export interface UploadStore {
  readonly provider: string;
  /** Whether it takes uploads now (Replicate: a token is configured). */
  available(): boolean;
  /**
   * Keeps `content` as one file, reading it as it arrives. When `content` fails (too large, the client left), the
   * store keeps nothing and throws that failure as it is.
   */
  put(content: Readable, file: FileToStore): Promise<StoredFile>;
  /** Removes a file; one already gone is not an error. */
  remove(externalId: string): Promise<void>;
}

/** The stores by provider name (Nest token: an array of UploadStore). */
export const UPLOAD_STORES = Symbol('UPLOAD_STORES');
